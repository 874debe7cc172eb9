"""Same-instant callbacks of the simulated venues run in the order they were scheduled.

A venue must never reorder two pushes it sent in order, nor two requests sent to it in
order, and asyncio alone does not promise that for timers due at the same instant; this
queue does. It is one queue per event loop, shared by every simulated venue on it, so
that even two venues' callbacks at one instant keep the order they were scheduled in:
a run then depends only on what was sent when, never on how asyncio's timer heap breaks
a tie, and a rebuild that re-sends the same requests at the same instants gets the same
venues (``fsm.sim.rebuild``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import weakref
from collections.abc import Callable

__all__ = ["Timeline"]


class _Queue:
    """One loop's callbacks in (time, scheduling) order; every timer drains up to its key."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._handles: dict[int, asyncio.TimerHandle] = {}
        self._callbacks: dict[int, tuple[Timeline, Callable[[], None]]] = {}
        self._seq = itertools.count()

    def push(self, owner: Timeline, when: float, callback: Callable[[], None]) -> int:
        seq = next(self._seq)
        heapq.heappush(self._heap, (when, seq))
        self._callbacks[seq] = (owner, callback)
        self._handles[seq] = asyncio.get_running_loop().call_at(when, self._drain, when, seq)
        return seq

    def drop(self, seqs: set[int]) -> None:
        for seq in seqs:
            self._callbacks.pop(seq, None)
            handle = self._handles.pop(seq, None)
            if handle is not None:
                handle.cancel()

    def _drain(self, when: float, seq: int) -> None:
        while self._heap and self._heap[0] <= (when, seq):
            _, item = heapq.heappop(self._heap)
            handle = self._handles.pop(item, None)
            if handle is not None and item != seq:
                handle.cancel()
            scheduled = self._callbacks.pop(item, None)
            if scheduled is not None:  # None: its venue closed
                owner, callback = scheduled
                owner._pending.discard(item)
                callback()


_QUEUES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
    weakref.WeakKeyDictionary()
)


class Timeline:
    """One venue's share of its loop's queue: what ``close`` drops when the venue goes."""

    def __init__(self) -> None:
        self._pending: set[int] = set()
        self._queue: _Queue | None = None

    def at(self, when: float, callback: Callable[[], None]) -> None:
        if self._queue is None:
            loop = asyncio.get_running_loop()
            self._queue = _QUEUES.get(loop)
            if self._queue is None:
                self._queue = _QUEUES[loop] = _Queue()
        self._pending.add(self._queue.push(self, when, callback))

    def close(self) -> None:
        if self._queue is not None:
            self._queue.drop(self._pending)
        self._pending.clear()
