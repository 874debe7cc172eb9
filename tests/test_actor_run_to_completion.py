"""An actor processes each event as it is posted, to completion, one at a time.

What replaced the per-entry task and its inbox (``fsm.shell.actor``): a fill pushed by a
venue is decided on inside the venue's own call, so the sibling's cancel leaves before
that call returns, with no loop turn in between; an event posted meanwhile waits its
turn; an entry that failed or was retired hears nothing more.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from loguru import logger

from fsm.bench import runtime
from fsm.core import events as ev
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.actor import Actor
from venues import protocol as base
from venues.market import Leg


def _actor(process: object) -> Actor:
    request = EntryRequest(LegSpec("a", "X", "1"), LegSpec("b", "X", "1"), entry_id="t")
    return Actor(EntryModel("t", request, EntryConfig()), {}, process=process)  # type: ignore[arg-type]


def _kill(reason: str) -> ev.Kill:
    return ev.Kill(0.0, reason)


async def _posted_while_processing() -> list[str]:
    seen: list[str] = []

    def process(actor: Actor, event: ev.Event) -> None:
        assert isinstance(event, ev.Kill)
        seen.append(f"in {event.reason}")
        if event.reason == "first":  # answers that arrive while deciding on it
            actor.post(_kill("second"))
            actor.post(_kill("third"))
        seen.append(f"out {event.reason}")

    actor = _actor(process)
    actor.post(_kill("first"))
    seen.append("post returned")
    return seen


def test_an_event_posted_while_one_is_processed_waits_its_turn_and_none_is_left() -> None:
    assert asyncio.run(_posted_while_processing()) == [
        "in first", "out first", "in second", "out second", "in third", "out third",
        "post returned"]


async def _failing() -> tuple[Actor, list[str]]:
    seen: list[str] = []

    def process(actor: Actor, event: ev.Event) -> None:
        assert isinstance(event, ev.Kill)
        seen.append(event.reason)
        if event.reason == "bad":
            actor.post(_kill("queued behind the failure"))
            raise RuntimeError("the model failed")

    actor = _actor(process)
    actor.post(_kill("good"))
    actor.post(_kill("bad"))  # the exception does not reach the poster
    actor.post(_kill("after"))
    return actor, seen


def test_an_exception_ends_the_entry_with_it_and_nothing_is_processed_after() -> None:
    actor, seen = asyncio.run(_failing())
    assert seen == ["good", "bad"]
    assert actor.halted
    with pytest.raises(RuntimeError, match="the model failed"):
        actor.ended.result()


async def _stopped() -> list[str]:
    seen: list[str] = []
    actor = _actor(lambda actor, event: seen.append(type(event).__name__))
    actor.post(_kill("heard"))
    actor.stop()
    actor.post(_kill("not heard"))
    return seen


def test_a_retired_actor_hears_nothing() -> None:
    assert asyncio.run(_stopped()) == ["Kill"]


async def _cancel_sent_inside_the_push() -> tuple[bool, bool]:
    world = runtime.World.create()
    task = asyncio.create_task(world.engine.enter(world.request("r1")))
    await world.until(world.quoting(["r1"]))
    long = world.engine._actors["r1"].model.quote(Leg.LONG)
    assert long is not None and long.command.price is not None
    world.engine._on_update("alpha", base.FillUpdate(
        "alpha", runtime.SYMBOL, long.client_id, "t1", long.qty, long.command.price,
        Decimal(0)))
    sent_inside = "r1" in world.probe.cancel_out  # before any loop turn
    result = await task
    world.close()
    return sent_inside, result.succeeded


def test_a_fill_push_sends_the_sibling_cancel_before_the_push_returns() -> None:
    logger.disable("fsm")
    try:
        sent_inside, succeeded = asyncio.run(_cancel_sent_inside_the_push())
    finally:
        logger.enable("fsm")
    assert sent_inside, "the cancel waited for a loop turn after the fill"
    assert succeeded
