"""Same-instant callbacks of the simulated venue run in the order they were scheduled.

A venue must never reorder two pushes it sent in order, and asyncio alone does not
promise that for timers due at the same instant; this queue does.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

__all__ = ["Timeline"]


class Timeline:
    """Runs callbacks at loop instants in (time, insertion) order.

    asyncio's timer heap does not promise FIFO order between timers due at the same
    instant, and a venue must never reorder two pushes it sent in order. So every timer
    drains the queue up to its own key instead of running only its own callback.
    """

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._handles: dict[int, asyncio.TimerHandle] = {}
        self._seq = itertools.count()

    def at(self, when: float, callback: Callable[[], None]) -> None:
        seq = next(self._seq)
        heapq.heappush(self._queue, (when, seq, callback))
        self._handles[seq] = asyncio.get_running_loop().call_at(when, self._drain, when, seq)

    def _drain(self, when: float, seq: int) -> None:
        while self._queue and self._queue[0][:2] <= (when, seq):
            _, item_seq, callback = heapq.heappop(self._queue)
            handle = self._handles.pop(item_seq, None)
            if handle is not None and item_seq != seq:
                handle.cancel()
            callback()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        self._queue.clear()
