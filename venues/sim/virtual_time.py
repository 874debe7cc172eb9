"""An asyncio event loop whose clock is virtual.

Simulation runs the real engine, not a model of it: the same actor, timers and
concurrent command tasks as live trading. Only the clock differs. When the loop has
nothing ready it jumps straight to its next timer instead of sleeping, so a
30-second quote timeout costs microseconds and a run is reproducible to the
microsecond. Waiting forever with nothing scheduled is a bug in simulation (nothing
can ever wake the loop), so it raises ``SimulationDeadlock`` instead of hanging.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class SimulationDeadlock(RuntimeError):
    """The virtual loop would wait forever: no timer, no ready callback, no I/O."""


class _VirtualClock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start


class _VirtualSelector(selectors.DefaultSelector):
    """Polls real descriptors without blocking, then advances the virtual clock."""

    def __init__(self, clock: _VirtualClock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready:
            return ready
        if timeout is None:
            raise SimulationDeadlock(
                "the simulation is waiting for something that nothing will ever deliver"
            )
        if timeout > 0:
            self._clock.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop with a virtual clock starting at ``start`` seconds."""

    def __init__(self, start: float = 0.0) -> None:
        self._virtual_clock = _VirtualClock(start)
        super().__init__(_VirtualSelector(self._virtual_clock))

    def time(self) -> float:
        return self._virtual_clock.now


def run_virtual(coro: Coroutine[Any, Any, T], *, start: float = 0.0) -> T:
    """Run ``coro`` to completion on a fresh virtual-time loop and close the loop."""
    loop = VirtualTimeLoop(start)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
