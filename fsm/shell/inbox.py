"""An entry actor's inbox: events in arrival order, one waiting reader, nothing else.

``asyncio.Queue`` gives the same semantics (first in, first out; ``get`` waits while
empty) but carries a size bound, unfinished-task accounting, a putters deque and a
getters deque: 3.8 KiB per live entry, for features an actor never uses. With one
reader (the actor's loop) and unbounded puts, a deque and at most one future do.
The reader wakes exactly as with a Queue: ``put_nowait`` resolves the future, which
schedules the waiting task once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> T:
        """The oldest event; waits for one while there is none. One reader at a time."""
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("an inbox has one reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()
