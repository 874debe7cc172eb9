"""The actor inbox: first in, first out, one reader, a waiting reader woken once."""

from __future__ import annotations

import asyncio

import pytest

from fsm.shell.inbox import Inbox


def test_events_come_out_in_arrival_order_whether_queued_or_awaited() -> None:
    async def scenario() -> list[int]:
        inbox: Inbox[int] = Inbox()
        got = []

        async def reader() -> None:
            for _ in range(4):
                got.append(await inbox.get())

        task = asyncio.create_task(reader())
        await asyncio.sleep(0)  # the reader waits on an empty inbox
        inbox.put_nowait(1)  # handed to the waiting reader
        inbox.put_nowait(2)  # queued behind it
        inbox.put_nowait(3)
        await asyncio.sleep(0)
        assert inbox.empty()
        inbox.put_nowait(4)
        await task
        return got

    assert asyncio.run(scenario()) == [1, 2, 3, 4]


def test_a_second_reader_is_refused_and_a_cancelled_one_gives_up_its_place() -> None:
    async def scenario() -> str:
        inbox: Inbox[str] = Inbox()
        first = asyncio.ensure_future(inbox.get())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="one reader"):
            inbox.get()
        first.cancel()
        await asyncio.sleep(0)
        inbox.put_nowait("kept")  # nobody waits now: it is queued, not lost
        assert not inbox.empty()
        return await inbox.get()

    assert asyncio.run(scenario()) == "kept"


def test_a_waiting_reader_is_woken_once_per_event() -> None:
    async def scenario() -> int:
        inbox: Inbox[int] = Inbox()
        wakes = 0

        async def reader() -> None:
            nonlocal wakes
            await inbox.get()
            wakes += 1

        task = asyncio.create_task(reader())
        await asyncio.sleep(0)
        inbox.put_nowait(1)
        inbox.put_nowait(2)
        await task
        assert not inbox.empty()  # the second event waits for the next get
        return wakes

    assert asyncio.run(scenario()) == 1
