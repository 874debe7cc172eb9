"""Whether the simulated venue answers: scripted reactions (refusals, lost answers, fills
racing a cancel, partial fills, unavailable) and outages, each on the request it names.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from tests.simkit import AMEND_RULES, fill, market, now, order, run, status, venue_with
from venues.market import OrderKind, OrderStatus, Purpose
from venues.protocol import (
    CancelAck,
    OrderNotFound,
    OrderRejected,
    OutcomeUnknown,
    PlaceAck,
    VenueUnavailable,
)
from venues.sim.venue import Outage, Reaction, ReactionAction

# -- reactions ------------------------------------------------------------------------


def test_fill_then_cancel_fills_first_and_acks_cumulative() -> None:
    async def scenario() -> None:
        reaction = Reaction("cancel", ReactionAction.FILL_THEN_CANCEL, qty=D("0.5"))
        venue, rec = venue_with(reactions=[reaction])
        await venue.place(order("q1", qty="2"))
        assert await venue.cancel("BTC", "q1") == CancelAck("q1", D("0.5"))
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("q1", 1, "0.5", "99", "0.0099"),
            status("q1", OrderStatus.CANCELED, "0.5"),
        ]
        assert venue.position_now("BTC") == D("0.5")

    run(scenario())


def test_fill_then_not_found_fills_everything_and_answers_not_found() -> None:
    async def scenario() -> None:
        reaction = Reaction("cancel", ReactionAction.FILL_THEN_NOT_FOUND)
        venue, rec = venue_with(reactions=[reaction])
        await venue.place(order("q1", qty="2"))
        with pytest.raises(OrderNotFound):
            await venue.cancel("BTC", "q1")
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("q1", 1, "2", "99", "0.0396"),
            status("q1", OrderStatus.FILLED, "2"),
        ]
        assert venue.order("q1").status is OrderStatus.FILLED

    run(scenario())


def test_reject_on_place_creates_nothing_and_is_used_up() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(latency_s=0.25, reactions=[Reaction("place", ReactionAction.REJECT)])
        with pytest.raises(OrderRejected, match="scripted"):
            await venue.place(order("q1"))
        assert now() == 0.5
        with pytest.raises(KeyError):
            venue.order("q1")
        assert await venue.place(order("q1")) == PlaceAck("q1", "A-o1")

    run(scenario())


def test_reaction_matches_purpose_and_applies_times_times() -> None:
    async def scenario() -> None:
        reaction = Reaction("place", ReactionAction.REJECT, purpose=Purpose.HEDGE, times=2)
        venue, _ = venue_with(reactions=[reaction])
        await venue.place(order("q1"))
        for cid in ("h1", "h2"):
            with pytest.raises(OrderRejected):
                await venue.place(order(cid, purpose=Purpose.HEDGE))
        assert await venue.place(order("h3", purpose=Purpose.HEDGE)) == PlaceAck("h3", "A-o2")

    run(scenario())


def test_reject_on_cancel_leaves_the_order_live() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(reactions=[Reaction("cancel", ReactionAction.REJECT)])
        await venue.place(order("q1"))
        with pytest.raises(OrderRejected, match="cancel of q1 rejected"):
            await venue.cancel("BTC", "q1")
        assert venue.order("q1").status is OrderStatus.OPEN
        assert await venue.cancel("BTC", "q1") == CancelAck("q1", D(0))

    run(scenario())


def test_a_cancel_of_a_finished_order_is_not_found_not_refused() -> None:
    """A venue cannot refuse to cancel an order that is gone: the refusal waits its turn."""
    async def scenario() -> None:
        venue, _ = venue_with(reactions=[Reaction("cancel", ReactionAction.REJECT)])
        await venue.place(order("q1", kind=OrderKind.MARKET, price=None))  # fills at once
        assert venue.order("q1").status is OrderStatus.FILLED
        with pytest.raises(OrderNotFound):
            await venue.cancel("BTC", "q1")
        await venue.place(order("q2"))
        with pytest.raises(OrderRejected, match="cancel of q2 rejected"):
            await venue.cancel("BTC", "q2")

    run(scenario())


def test_reject_and_timeout_on_query() -> None:
    async def scenario() -> None:
        reactions = [
            Reaction("query", ReactionAction.REJECT),
            Reaction("query", ReactionAction.TIMEOUT),
        ]
        venue, _ = venue_with(latency_s=0.25, request_timeout_s=2.0, reactions=reactions)
        await venue.place(order("q1"))
        with pytest.raises(OrderRejected):
            await venue.query("BTC", "q1")
        start = now()
        with pytest.raises(OutcomeUnknown):
            await venue.query("BTC", "q1")
        assert now() - start == 2.25
        assert (await venue.query("BTC", "q1")).status is OrderStatus.OPEN

    run(scenario())


def test_timeout_live_on_place_creates_the_order_but_loses_the_answer() -> None:
    async def scenario() -> None:
        reaction = Reaction("place", ReactionAction.TIMEOUT, live=True)
        venue, _ = venue_with(latency_s=0.25, request_timeout_s=1.0, reactions=[reaction])
        with pytest.raises(OutcomeUnknown):
            await venue.place(order("q1"))
        assert now() == 1.25
        assert venue.order("q1").status is OrderStatus.OPEN
        with pytest.raises(OrderRejected, match="duplicate client order id"):
            await venue.place(order("q1"))

    run(scenario())


def test_timeout_not_live_on_place_drops_the_request() -> None:
    async def scenario() -> None:
        reaction = Reaction("place", ReactionAction.TIMEOUT)
        venue, _ = venue_with(latency_s=0.25, request_timeout_s=1.0, reactions=[reaction])
        with pytest.raises(OutcomeUnknown):
            await venue.place(order("q1"))
        assert now() == 1.25
        with pytest.raises(KeyError):
            venue.order("q1")
        assert await venue.place(order("q1")) == PlaceAck("q1", "A-o1")

    run(scenario())


def test_timeout_live_on_cancel_cancels_but_loses_the_answer() -> None:
    async def scenario() -> None:
        reaction = Reaction("cancel", ReactionAction.TIMEOUT, live=True)
        venue, rec = venue_with(latency_s=0.25, request_timeout_s=1.0, reactions=[reaction])
        await venue.place(order("q1"))
        with pytest.raises(OutcomeUnknown):
            await venue.cancel("BTC", "q1")
        assert now() == 0.5 + 1.25
        assert venue.order("q1").status is OrderStatus.CANCELED
        assert rec.seen == [(1.0, status("q1", OrderStatus.CANCELED, "0"))]
        with pytest.raises(OrderNotFound):
            await venue.cancel("BTC", "q1")

    run(scenario())


def test_timeout_not_live_on_cancel_leaves_the_order_live() -> None:
    async def scenario() -> None:
        reaction = Reaction("cancel", ReactionAction.TIMEOUT)
        venue, rec = venue_with(latency_s=0.25, request_timeout_s=1.0, reactions=[reaction])
        await venue.place(order("q1"))
        with pytest.raises(OutcomeUnknown):
            await venue.cancel("BTC", "q1")
        assert now() == 0.5 + 1.25
        assert venue.order("q1").status is OrderStatus.OPEN
        assert rec.seen == []

    run(scenario())


def test_cancel_reaction_for_an_unknown_order_matches_only_without_purpose() -> None:
    async def scenario() -> None:
        reactions = [
            Reaction("cancel", ReactionAction.REJECT, purpose=Purpose.QUOTE),
            Reaction("cancel", ReactionAction.TIMEOUT),
        ]
        venue, _ = venue_with(reactions=reactions)
        with pytest.raises(OutcomeUnknown):
            await venue.cancel("BTC", "ghost")
        with pytest.raises(OrderNotFound):
            await venue.cancel("BTC", "ghost")

    run(scenario())


def test_partial_fills_qty_of_a_marketable_order_and_expires_the_rest() -> None:
    async def scenario() -> None:
        reaction = Reaction("place", ReactionAction.PARTIAL, qty=D("1.5"))
        venue, rec = venue_with(reactions=[reaction])
        await venue.place(order("r1", qty="1"))  # not marketable: the reaction waits
        await venue.place(order("q1", qty="3", price="101"))
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("q1", 1, "1", "100", "0.05"),
            fill("q1", 2, "0.5", "101", "0.02525"),
            status("q1", OrderStatus.CANCELED, "1.5"),
        ]
        assert venue.order("r1").status is OrderStatus.OPEN

    run(scenario())


def test_reaction_refuses_meaningless_combinations() -> None:
    with pytest.raises(ValueError, match="does not apply to place"):
        Reaction("place", ReactionAction.FILL_THEN_CANCEL, qty=D(1))
    with pytest.raises(ValueError, match="needs a qty"):
        Reaction("cancel", ReactionAction.FILL_THEN_CANCEL)
    with pytest.raises(ValueError, match="times"):
        Reaction("query", ReactionAction.REJECT, times=0)
    with pytest.raises(TypeError):
        Reaction("place", ReactionAction.PARTIAL, qty=0.5)


# -- unavailable: definitely not processed ----------------------------------------------


def test_unavailable_reaction_refuses_unprocessed_after_one_round_trip() -> None:
    async def scenario() -> None:
        reactions = [Reaction(on, ReactionAction.UNAVAILABLE)  # type: ignore[arg-type]
                     for on in ("place", "cancel", "query", "amend")]
        venue, _ = venue_with(market(rules=AMEND_RULES), latency_s=0.25, reactions=reactions)
        with pytest.raises(VenueUnavailable):
            await venue.place(order("q1"))
        assert now() == 0.5
        with pytest.raises(KeyError):
            venue.order("q1")  # never processed: the same client id may be sent again
        await venue.place(order("q1"))
        for call in (venue.cancel("BTC", "q1"), venue.query("BTC", "q1"),
                     venue.amend("BTC", "q1", D("98"), D("1"))):
            with pytest.raises(VenueUnavailable):
                await call
        assert venue.order("q1").status is OrderStatus.OPEN
        assert venue.order("q1").price == D("99")
        assert [e.kind for e in venue.journal].count("unavailable") == 4

    run(scenario())


def test_outage_refuses_order_requests_in_its_window_only() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(latency_s=0.25, outages=[Outage(1.0, 3.0)])
        venue.start()
        await venue.place(order("q1"))                  # at 0.25: before the outage
        await asyncio.sleep(1.0 - now())
        for call in (venue.place(order("q2")), venue.cancel("BTC", "q1"),
                     venue.query("BTC", "q1")):
            with pytest.raises(VenueUnavailable):
                await call
        assert await venue.position("BTC") == 0        # market data still answers
        await asyncio.sleep(3.0 - now())
        assert (await venue.cancel("BTC", "q1")).filled == 0  # processed at 3.25: back up

    run(scenario())


def test_outage_for_good_never_ends() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(outages=[Outage(0.5)])
        venue.start()
        await asyncio.sleep(1000.0)
        with pytest.raises(VenueUnavailable):
            await venue.place(order("q1"))

    run(scenario())


@pytest.mark.parametrize(
    ("start", "until", "message"),
    [
        (1.0, 1.0, r"Outage.until_s must be after from_s \(1.0\), got 1.0"),
        (-1.0, None, r"Outage.from_s must be >= 0, got -1.0"),
    ],
)
def test_outage_is_validated(start: float, until: float | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Outage(start, until)
