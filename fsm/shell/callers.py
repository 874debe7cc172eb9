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
from collections.abc import Callable, Coroutine
from typing import Any

from loguru import logger

from fsm.core.result import EntryResult

# The context the engine's own done-callbacks run in. ``add_done_callback`` would otherwise
# copy the current context for each: an object per live entry for gc to traverse, for
# callbacks that read no context variable.
_CALLBACKS = contextvars.Context()


class EntryTasks:
    """The tasks of the engine's running entries, and the kills asked before they ran.

    Per live entry this holds the task and the one future its caller awaits, and nothing
    else: the done-callback is one bound method for all tasks (made once, here), so a
    task carries a single callback and no callback list; the caller's side is the
    ``follow`` coroutine. Each object fewer is one fewer for a full gc to traverse.
    """

    __slots__ = ("_done", "_tasks", "abandoned", "setting_up")

    def __init__(self, abandoned: Callable[[Any], None]) -> None:
        #: task -> the future its caller awaits (see ``follow``)
        self._tasks: dict[asyncio.Task[EntryResult], asyncio.Future[EntryResult]] = {}
        self._done = self._ended
        #: What the engine does when an entry's caller is cancelled (it kills the entry).
        self.abandoned: Callable[[Any], None] = abandoned
        #: entry id -> the reason of a kill asked while its markets were read, else None
        self.setting_up: dict[str, str | None] = {}

    def spawn(self, run: Coroutine[Any, Any, EntryResult]) -> asyncio.Task[EntryResult]:
        loop = asyncio.get_running_loop()
        task = loop.create_task(run)
        self._tasks[task] = loop.create_future()
        task.add_done_callback(self._done, context=_CALLBACKS)
        return task

    async def follow(self, task: asyncio.Task[EntryResult], entry: object) -> EntryResult:
        """The entry's result; if the caller is cancelled first, ``abandoned(entry)`` (once)
        and the ``CancelledError`` goes on to the caller while the entry's task runs on.

        A task that ended cancelled itself (the engine's process dying, in simulation or
        at loop shutdown) is not abandoned: its caller just hears the cancellation.
        """
        # What ``asyncio.shield`` does, with fewer objects per live entry: the caller awaits
        # a future of its own, so its cancellation cancels that future, never the task.
        try:
            return await self._tasks[task]
        except asyncio.CancelledError:
            if not task.done():
                self.abandoned(entry)
            raise

    def cancel(self) -> None:
        """Cancel every entry's task (the engine's process is going down)."""
        for task in self._tasks:
            task.cancel()

    async def drain(self) -> None:
        """Wait until every entry has ended. Cancelling this stops the waiting only."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def _ended(self, task: asyncio.Task[EntryResult]) -> None:
        """Hand the task's outcome to the future its caller awaits; if the caller left (its
        future is cancelled), nobody awaits the result, and an error it ends in is logged."""
        result = self._tasks.pop(task)
        if task.cancelled():
            result.cancel()
            return
        error = task.exception()
        if result.done():  # abandoned
            if error is not None:
                logger.opt(exception=error).critical(
                    "an entry whose caller was cancelled failed")
        elif error is not None:
            result.set_exception(error)
        else:
            result.set_result(task.result())
