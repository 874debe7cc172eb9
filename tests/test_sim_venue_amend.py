"""The simulated venue's amend: repricing and resizing a resting order, crossing as a
taker, refusing sizes it cannot hold, and amend where the market does not support it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from tests.simkit import AMEND_RULES, fill, market, now, order, run, status, venue_with
from venues.market import OrderStatus, Purpose
from venues.protocol import AmendAck, NotSupported, OrderNotFound, OrderRejected, OutcomeUnknown
from venues.sim.venue import Reaction, ReactionAction

# -- amend ----------------------------------------------------------------------------


def test_amend_reprices_and_fills_as_taker_when_it_crosses() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(market(rules=AMEND_RULES))
        await venue.place(order("q1", qty="2", price="99"))
        ack = await venue.amend("BTC", "q1", D("99.5"), D("2"))
        assert ack == AmendAck("q1", OrderStatus.OPEN, D(0))
        assert venue.order("q1").price == D("99.5")
        assert rec.updates == []
        with pytest.raises(OrderRejected, match="tick"):
            await venue.amend("BTC", "q1", D("99.7"), D("2"))
        ack = await venue.amend("BTC", "q1", D("101"), D("2"))
        assert ack == AmendAck("q1", OrderStatus.FILLED, D("2"))
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("q1", 1, "1", "100", "0"),
            fill("q1", 2, "1", "101", "0"),
            status("q1", OrderStatus.FILLED, "2"),
        ]
        with pytest.raises(OrderNotFound):
            await venue.amend("BTC", "q1", D("100"), D("2"))

    run(scenario())


def test_amend_resizes_and_crosses_only_the_new_remainder() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(market(rules=AMEND_RULES))
        await venue.place(order("q1", qty="2", price="99"))
        ack = await venue.amend("BTC", "q1", D("101"), D("0.5"))
        assert ack == AmendAck("q1", OrderStatus.FILLED, D("0.5"))
        assert venue.order("q1").qty == D("0.5")
        assert venue.position_now("BTC") == D("0.5")

    run(scenario())


@pytest.mark.parametrize(
    ("qty", "problem"),
    [("0", "size: 0 must be a multiple of lot 0.1"), ("0.55", "size: 0.55 must be a multiple")],
)
def test_amend_refuses_a_size_the_venue_cannot_hold(qty: str, problem: str) -> None:
    async def scenario() -> None:
        venue, _ = venue_with(market(rules=AMEND_RULES))
        await venue.place(order("q1", qty="2", price="99"))
        with pytest.raises(OrderRejected, match=problem):
            await venue.amend("BTC", "q1", D("101"), D(qty))
        assert venue.order("q1").qty == D("2")
        assert venue.order("q1").filled == D(0)

    run(scenario())


def test_amend_reactions_reject_or_lose_the_answer() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(
            market(rules=AMEND_RULES),
            reactions=[
                Reaction("amend", ReactionAction.REJECT),
                Reaction("amend", ReactionAction.TIMEOUT, live=True),
            ],
        )
        await venue.place(order("q1", qty="2", price="99"))
        with pytest.raises(OrderRejected, match="scripted"):
            await venue.amend("BTC", "q1", D("101"), D("1"))
        assert venue.order("q1").filled == D(0)
        with pytest.raises(OutcomeUnknown):
            await venue.amend("BTC", "q1", D("101"), D("1"))
        assert venue.order("q1").filled == D("1")  # processed; only the answer was lost

    run(scenario())


def test_amend_not_supported_is_refused_without_a_round_trip() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(latency_s=0.25)
        await venue.place(order("q1"))
        with pytest.raises(NotSupported):
            await venue.amend("BTC", "q1", D("99.5"), D("1"))
        assert now() == 0.5
        assert venue.order("q1").price == D(99)

    run(scenario())


# -- post-only quotes (the venues' rules: a crossing place is refused, a crossing amend
# cancels the order) ---------------------------------------------------------------------


def test_post_only_quote_that_would_take_is_refused_and_others_are_not() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(market(rules=AMEND_RULES), post_only_quotes=True)
        with pytest.raises(OrderRejected, match="post-only: buy at 100 would take"):
            await venue.place(order("q1", qty="1", price="100"))
        assert venue.client_ids() == []
        await venue.place(order("q2", qty="1", price="99"))  # rests
        await venue.place(order("h1", qty="1", price="100", purpose=Purpose.HEDGE))  # takes
        assert venue.position_now("BTC") == D("1")

    run(scenario())


def test_amend_that_would_cross_cancels_a_post_only_quote() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(market(rules=AMEND_RULES), post_only_quotes=True)
        await venue.place(order("q1", qty="2", price="98"))
        assert await venue.amend("BTC", "q1", D("99"), D("2")) == AmendAck(
            "q1", OrderStatus.OPEN, D(0))
        ack = await venue.amend("BTC", "q1", D("101"), D("2"))
        assert ack == AmendAck("q1", OrderStatus.CANCELED, D(0))
        await asyncio.sleep(0)
        assert rec.updates == [status("q1", OrderStatus.CANCELED, "0")]
        assert venue.position_now("BTC") == D(0)

    run(scenario())
