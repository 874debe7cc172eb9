"""Entries outlive their callers: the task each entry runs in, apart from whoever awaits it.

An entry that has sent anything must end properly (hedged, withdrawn or flattened) even
when its caller stops waiting (``asyncio.wait_for``, a cancelled request handler,
Ctrl-C). So an entry runs in a task of the engine's own, kept here so it is neither
garbage-collected nor cancelled with its caller; the caller awaits it through
``asyncio.shield``. When the caller is cancelled, the engine is told (it kills the
entry, through the entry table like any kill) and the caller gets its
``CancelledError`` at once, as asyncio expects. The engine's owner waits for entries
left this way with ``drain`` (``EntryEngine.close`` does).

Also kept here: the entries being set up, between ``enter()`` and their first event
(their markets are read), so that a kill in that window is not lost.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from loguru import logger

from fsm.core.result import EntryResult

# The context the engine's own done-callbacks run in. ``add_done_callback`` would otherwise
# copy the current context for each: an object per live entry for gc to traverse, for
# callbacks that read no context variable.
_CALLBACKS = contextvars.Context()


class EntryTasks:
    """The tasks of the engine's running entries, and the kills asked before they ran."""

    __slots__ = ("_tasks", "setting_up")

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[EntryResult]] = set()
        #: entry id -> the reason of a kill asked while its markets were read, else None
        self.setting_up: dict[str, str | None] = {}

    def spawn(self, run: Coroutine[Any, Any, EntryResult]) -> asyncio.Task[EntryResult]:
        task = asyncio.get_running_loop().create_task(run)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard, context=_CALLBACKS)
        return task

    async def follow(
        self, task: asyncio.Task[EntryResult], abandoned: Callable[[], None]
    ) -> EntryResult:
        """The entry's result; if the caller is cancelled first, ``abandoned()`` (once) and
        the ``CancelledError`` goes on to the caller while the entry's task runs on.

        A task that ended cancelled itself (the engine's process dying, in simulation or
        at loop shutdown) is not abandoned: its caller just hears the cancellation.
        """
        # What ``asyncio.shield`` does, with fewer objects per live entry: the caller awaits
        # a future of its own, so its cancellation cancels that future, never the task.
        result: asyncio.Future[EntryResult] = asyncio.get_running_loop().create_future()
        task.add_done_callback(functools.partial(_relay, result), context=_CALLBACKS)
        try:
            return await result
        except asyncio.CancelledError:
            if not task.done():
                abandoned()
                task.add_done_callback(_report_abandoned)
            raise

    async def drain(self) -> None:
        """Wait until every entry has ended. Cancelling this stops the waiting only."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))


def _relay(result: asyncio.Future[EntryResult], task: asyncio.Task[EntryResult]) -> None:
    """Hand the task's outcome to the future its caller awaits (unless the caller left)."""
    if result.done():
        return
    if task.cancelled():
        result.cancel()
    elif (error := task.exception()) is not None:
        result.set_exception(error)
    else:
        result.set_result(task.result())


def _report_abandoned(task: asyncio.Task[EntryResult]) -> None:
    """Nobody awaits an abandoned entry's result: an error it ends in is logged here."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        logger.opt(exception=error).critical("an entry whose caller was cancelled failed")
