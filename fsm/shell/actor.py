"""One running entry in the shell: its model, inbox, timers and in-flight request tasks.

The engine (``fsm.shell.engine``) owns the actors and feeds them; an actor only keeps
what belongs to one entry, so that retiring it releases everything at once: the timers
it armed and the requests still travelling are cancelled, nothing outlives the entry.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any

from loguru import logger

from fsm.core import events as ev
from fsm.core.entry import EntryModel
from fsm.shell.inbox import Inbox
from venues import protocol as base
from venues.market import Leg

# The context timer callbacks run in. ``call_later`` would otherwise copy the current one
# for every timer: one object per armed timer (one per idle entry) for gc to traverse,
# for a callback that only posts an event and reads no context variable.
_TIMERS = contextvars.Context()


class Actor:
    """One running entry: events go in through ``post`` and are taken one at a time."""

    def __init__(self, model: EntryModel, venues: dict[Leg, base.Venue]) -> None:
        self.model = model
        self.venues = venues
        self.step = 0  # the number of the next event, as the journal counts them
        # Transitions of the model's path already told to listeners (a recovered entry's
        # replayed path was told by the process that lived it).
        self.published = len(model.path)
        self.inbox: Inbox[ev.Event] = Inbox()
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # A dict as a set: empty (an idle entry), it is not tracked by the gc; a set is.
        self.tasks: dict[asyncio.Task[None], None] = {}
        self.log = logger.bind(entry=model.entry_id)

    def post(self, event: ev.Event) -> None:
        self.inbox.put_nowait(event)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run one venue request concurrently; its outcome comes back through ``post``."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks[task] = None
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.pop(task, None)

    def start_timer(self, name: str, delay_s: float) -> None:
        """Arm a timer; one restarted under its name fires once, at the new time."""
        loop = asyncio.get_running_loop()
        previous = self.timers.pop(name, None)
        if previous is not None:
            previous.cancel()
        self.timers[name] = loop.call_later(delay_s, self._timer_fired, name, context=_TIMERS)

    def _timer_fired(self, name: str) -> None:
        """A bound method and its argument, not a closure: three cells fewer per timer."""
        self.post(ev.TimerFired(asyncio.get_running_loop().time(), name))

    def cancel_timer(self, name: str) -> None:
        handle = self.timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def stop(self) -> None:
        """The entry is retired: no timer fires and no request answers into it any more."""
        for handle in self.timers.values():
            handle.cancel()
        for task in self.tasks:
            task.cancel()
