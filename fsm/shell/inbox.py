"""An entry actor's inbox: events in arrival order, one waiting reader, nothing else.

``asyncio.Queue`` gives the same semantics (first in, first out; ``get`` waits while
empty) but carries a size bound, unfinished-task accounting, a putters deque and a
getters deque: 3.8 KiB per live entry, for features an actor never uses. With one
reader (the actor's loop) and unbounded puts, a deque and at most one future do.
The reader wakes exactly as with a Queue: ``put_nowait`` resolves the future, which
schedules the waiting task once.

An idle entry (thousands of them in a large book) waits here, so the inbox holds as
little as it can while it waits: the waiting future carries the next event itself, no
coroutine frame is suspended in ``get`` (it returns the future), and the deque exists
only while events queue behind one another. Each object fewer is one fewer for every
full garbage collection to traverse, per live entry.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[T] | None = None
        self._waiter: asyncio.Future[T] | None = None

    def put_nowait(self, item: T) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():  # a reader is waiting: the event goes straight to it
                waiter.set_result(item)
                return
        if self._items is None:
            self._items = deque()
        self._items.append(item)

    def empty(self) -> bool:
        return not self._items

    def get(self) -> asyncio.Future[T]:
        """The oldest event, to await; it waits for one while there is none.

        One reader at a time. A reader cancelled while it waits gives up its place; the
        event handed to it in that instant goes with it (only a retired or crashed
        actor's loop is ever cancelled, and nothing reads its inbox after that).
        """
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            raise RuntimeError("an inbox has one reader")
        waiter = asyncio.get_running_loop().create_future()
        items = self._items
        if items:
            waiter.set_result(items.popleft())
            if not items:
                self._items = None
        else:
            self._waiter = waiter
        return waiter
