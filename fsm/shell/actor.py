"""One running entry in the shell: its model, its events, timers and in-flight requests.

The engine (``fsm.shell.engine``) owns the actors and feeds them; an actor only keeps
what belongs to one entry, so that retiring it releases everything at once: the timers
it armed and the requests still travelling are cancelled, nothing outlives the entry.

An event is processed the moment it is posted, in the poster's own call (a venue's
push handler, a request's answer, a timer), to completion: run to completion, as one
actor's events always were. An event posted while one is being processed (a request
answered at once, a second push in the same handler) waits in a queue and is
processed right after, in arrival order, before ``post`` returns to the first poster;
the model still sees one thing at a time. There is no per-entry task and no loop turn
between a fill's arrival and the cancel it causes: a woken task would wait behind
everything else ready in the loop (other entries' events, the rest of the venue's
batch), which cost about a quarter of a reaction in ``atomic-entry bench``.

An idle entry (thousands of them in a large book) is mostly this object: every object
an actor adds is one more for each full garbage collection to traverse, per live entry.
So the actor has slots, holds its two venues in slots rather than a dict keyed by leg,
keeps the start positions as a tuple of ``Decimal`` (which the gc stops tracking), and
creates its queue only while events queue behind one another.

A request starts eagerly: ``spawn`` runs the request coroutine's first step at once,
inside the task that will drive the rest, so the request leaves the process during the
decision that sent it. Python 3.12 does this itself
(``asyncio.Task(..., eager_start=True)``); on 3.11 ``_eager_task`` does what it does.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Mapping
from decimal import Decimal
from typing import Any

from loguru import logger

from fsm.core import events as ev
from fsm.core.entry import EntryModel
from venues import protocol as base
from venues.market import Leg

LEGS = (Leg.LONG, Leg.SHORT)

# The context timer callbacks run in. ``call_later`` would otherwise copy the current one
# for every timer: one object per armed timer (one per idle entry) for gc to traverse,
# for a callback that only posts an event and reads no context variable.
_TIMERS = contextvars.Context()


class _Started(Coroutine[Any, Any, None]):
    """A request coroutine whose first step already ran: its task resumes it there.

    The task's own first step receives what the coroutine's first step yielded (the
    future it waits for, or the exception or end it reached) and from then on drives it
    as it drives any coroutine: the future's completion, a cancellation (``throw``) and
    the final result take their usual paths.
    """

    __slots__ = ("_coro", "_ended", "_error", "_first", "_handed")

    def __init__(self, coro: Coroutine[Any, Any, None]) -> None:
        self._coro = coro
        self._first: Any = None
        self._error: BaseException | None = None
        self._ended = False
        self._handed = False

    def start(self) -> None:
        try:
            self._first = self._coro.send(None)
        except StopIteration:
            self._ended = True
        except BaseException as exc:  # the task raises it, as if its first step had
            self._error = exc

    def send(self, value: Any) -> Any:
        if self._handed:
            return self._coro.send(value)
        self._handed = True
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._ended:
            raise StopIteration
        first, self._first = self._first, None
        return first

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """A cancellation before the task took over: the future waited for is cancelled
        too, as a task cancels the future it waits for."""
        if not self._handed:
            self._handed = True
            if isinstance(self._first, asyncio.Future):
                self._first.cancel()
            self._first = None
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("a started request is driven by its task, not awaited")


def _eager_task(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """A task whose coroutine has already taken its first step, inside that task.

    The task is the current task during that step, as it is for every later step:
    ``asyncio.current_task()``, ``asyncio.timeout`` and aiohttp's timers bind to the
    request, never to the actor's loop that spawned it.
    """
    loop = asyncio.get_running_loop()
    if sys.version_info >= (3, 12):
        return asyncio.Task(coro, loop=loop, eager_start=True)
    started = _Started(coro)
    task = loop.create_task(started)
    spawner = asyncio.current_task(loop)
    if spawner is not None:
        asyncio.tasks._leave_task(loop, spawner)
    asyncio.tasks._enter_task(loop, task)
    try:
        started.start()
    finally:
        asyncio.tasks._leave_task(loop, task)
        if spawner is not None:
            asyncio.tasks._enter_task(loop, spawner)
    return task


class Actor:
    """One running entry: events go in through ``post`` and are processed one at a time.

    ``ended`` is resolved when the entry stops deciding: terminal, or failed (with the
    exception that stopped it). From then on (``halted``) whatever is posted is dropped:
    a dead or finished entry hears nothing.
    """

    __slots__ = ("_busy", "_long", "_queue", "_short", "ended", "halted", "log", "model",
                 "process", "published", "start", "step", "tasks", "timers")

    def __init__(self, model: EntryModel, venues: Mapping[Leg, base.Venue],
                 start_positions: Mapping[Leg, Decimal] | None = None,
                 process: Callable[[Actor, ev.Event], None] | None = None) -> None:
        self.model = model
        #: What processes one event (the engine's, shared by all its actors); by default
        #: the model alone handles it and its commands are dropped (tests of the actor).
        self.process = process if process is not None else _handle_only
        self._long = venues.get(Leg.LONG)
        self._short = venues.get(Leg.SHORT)
        #: Each leg's position when the entry started (long, short), for its result.
        self.start = tuple((start_positions or {}).get(leg, Decimal(0)) for leg in LEGS)
        self.step = 0  # the number of the next event, as the journal counts them
        # Transitions of the model's path already told to listeners (a recovered entry's
        # replayed path was told by the process that lived it).
        self.published = len(model.path)
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # A dict as a set: empty (an idle entry), it is not tracked by the gc; a set is.
        self.tasks: dict[asyncio.Task[None], None] = {}
        self.log = logger.bind(entry_id=model.entry_id)
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.halted = False
        self._busy = False
        self._queue: deque[ev.Event] | None = None

    def venue(self, leg: Leg) -> base.Venue:
        """The venue ``leg`` trades on."""
        venue = self._long if leg is Leg.LONG else self._short
        if venue is None:
            raise KeyError(f"no venue for the {leg.value} leg")
        return venue

    @property
    def start_positions(self) -> dict[Leg, Decimal]:
        return dict(zip(LEGS, self.start, strict=True))

    def post(self, event: ev.Event) -> None:
        """Process ``event`` now, or right after the one being processed (see the module
        docstring). An exception that escapes processing ends the entry with it."""
        if self.halted:
            return
        if self._busy:
            if self._queue is None:
                self._queue = deque()
            self._queue.append(event)
            return
        self._busy = True
        try:
            self.process(self, event)
            while self._queue and not self.halted:
                self.process(self, self._queue.popleft())
        except Exception as exc:
            self.fail(exc)
        finally:
            self._busy = False
            self._queue = None

    def finish(self) -> None:
        """The entry is terminal: it decides nothing more."""
        self.halted = True
        if not self.ended.done():
            self.ended.set_result(None)

    def fail(self, exc: BaseException) -> None:
        """The entry cannot go on deciding; whoever awaits ``ended`` hears ``exc``."""
        self.halted = True
        if not self.ended.done():
            self.ended.set_exception(exc)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Send one venue request now and let it run on concurrently; its outcome comes
        back through ``post`` (started eagerly: see the module docstring)."""
        task = _eager_task(coro)
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
        self.halted = True
        for handle in self.timers.values():
            handle.cancel()
        for task in self.tasks:
            task.cancel()


def _handle_only(actor: Actor, event: ev.Event) -> None:
    actor.model.handle(event)
