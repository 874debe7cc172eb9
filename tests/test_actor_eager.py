"""A request an actor spawns leaves at once, inside its own task, and is cancelled as a task is.

``Actor.spawn`` runs a request coroutine's first step before it returns (on Python 3.11
through ``fsm.shell.actor._eager_task``), so the venue call starts in the loop turn of
the decision that sent it. That step must run as the request's task: a timeout opened
there (``asyncio.timeout``, aiohttp's timers) would otherwise cancel the actor's loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.actor import Actor
from venues.sim.virtual_time import run_virtual


def _actor() -> Actor:
    request = EntryRequest(LegSpec("a", "X", "1"), LegSpec("b", "X", "1"), entry_id="t")
    return Actor(EntryModel("t", request, EntryConfig()), {})


async def _the_first_step_runs_before_spawn_returns_as_the_request_task() -> None:
    actor = _actor()
    seen: list[Any] = []
    spawner = asyncio.current_task()

    async def request() -> None:
        seen.append(asyncio.current_task())
        await asyncio.sleep(0)
        seen.append(asyncio.current_task())

    actor.spawn(request())
    assert len(seen) == 1, "the request did not start in the spawning turn"
    assert asyncio.current_task() is spawner
    (task,) = actor.tasks
    assert seen[0] is task
    await task
    assert seen == [task, task]
    assert not actor.tasks


def test_the_first_step_runs_before_spawn_returns_as_the_request_task() -> None:
    run_virtual(_the_first_step_runs_before_spawn_returns_as_the_request_task())


async def _a_timeout_opened_in_the_first_step_cancels_the_request_not_the_spawner() -> None:
    actor = _actor()
    outcome: list[str] = []

    async def request() -> None:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(10)
        except TimeoutError:
            outcome.append("timed out")

    actor.spawn(request())
    (task,) = actor.tasks
    await asyncio.sleep(0.05)  # virtual time; the spawner outlives the request's timeout
    assert task.done() and outcome == ["timed out"]


def test_a_timeout_opened_in_the_first_step_cancels_the_request_not_the_spawner() -> None:
    run_virtual(_a_timeout_opened_in_the_first_step_cancels_the_request_not_the_spawner())


async def _stop_before_the_task_takes_over_cancels_the_request_and_its_wait() -> None:
    actor = _actor()
    waited: list[asyncio.Future[None]] = []
    outcome: list[str] = []

    async def request() -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waited.append(future)
        try:
            await future
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    actor.spawn(request())
    (task,) = actor.tasks
    actor.stop()  # in the same turn: the task has not taken its first step yet
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outcome == ["cancelled"] and waited[0].cancelled()


def test_stop_before_the_task_takes_over_cancels_the_request_and_its_wait() -> None:
    run_virtual(_stop_before_the_task_takes_over_cancels_the_request_and_its_wait())


async def _a_request_that_ends_or_fails_in_its_first_step_ends_its_task_so() -> None:
    actor = _actor()

    async def quick() -> None:
        return None

    async def broken() -> None:
        raise ValueError("bad request")

    actor.spawn(quick())
    actor.spawn(broken())
    results = await asyncio.gather(*actor.tasks, return_exceptions=True)
    assert sorted(map(repr, results)) == sorted([repr(None), repr(ValueError("bad request"))])


def test_a_request_that_ends_or_fails_in_its_first_step_ends_its_task_so() -> None:
    run_virtual(_a_request_that_ends_or_fails_in_its_first_step_ends_its_task_so())


async def _a_request_woken_by_its_future_resumes_with_the_result() -> None:
    actor = _actor()
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[int] = []

    async def request() -> None:
        got.append(await future)

    actor.spawn(request())
    (task,) = actor.tasks
    future.set_result(7)
    await task
    assert got == [7]


def test_a_request_woken_by_its_future_resumes_with_the_result() -> None:
    run_virtual(_a_request_woken_by_its_future_resumes_with_the_result())
