"""The simulated venue answering normally: protocol and latency, matching on arrival,
resting orders filled by the script or a moving book, cancel and query, reduce-only,
the market's rules and positions.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import attrs
import pytest

from tests.simkit import TOY_BOOK as BOOK
from tests.simkit import TOY_RULES as RULES
from tests.simkit import fill, market, now, order, run, status, venue_with
from venues.market import (
    Book,
    BookLevel,
    OrderKind,
    OrderStatus,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)
from venues.protocol import (
    BookChanged,
    CancelAck,
    OrderNotFound,
    OrderRejected,
    OrderSnapshot,
    PlaceAck,
    UnusableBook,
    Venue,
)
from venues.sim.venue import (
    JournalEntry,
    Liquidity,
    ScriptedBook,
    ScriptedFill,
    SimulatedVenue,
)

# -- protocol and latency -------------------------------------------------------------


def test_implements_the_venue_protocol() -> None:
    venue: Venue = SimulatedVenue("A", [market()])
    assert isinstance(venue, Venue)
    assert venue.name == "A"


def test_answers_take_two_latencies_and_pushes_one() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(latency_s=0.25, script=[ScriptedFill(at_s=1.0)])
        venue.start()
        ack = await venue.place(order("q1"))
        assert (now(), ack) == (0.5, PlaceAck("q1", "A-o1"))
        assert venue.journal[0].at == 0.25  # processed at the venue after one latency
        assert await venue.market_rules("BTC") == RULES
        assert now() == 1.0
        assert await venue.book("BTC", depth=1) == Book(
            bids=(BookLevel("99", "2"),), asks=(BookLevel("100", "1"),)
        )
        assert now() == 1.5
        assert await venue.position("BTC") == D("1")  # the scripted fill happened at 1.0
        assert now() == 2.0
        await asyncio.sleep(1)
        assert rec.seen == [
            (1.25, fill("q1", 1, "1", "99", "0.0198")),
            (1.25, status("q1", OrderStatus.FILLED, "1")),
        ]

    run(scenario())


def test_errors_also_travel_back() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(latency_s=0.25)
        with pytest.raises(OrderRejected, match="unknown symbol ETH"):
            await venue.market_rules("ETH")
        assert now() == 0.5

    run(scenario())


# -- matching on arrival --------------------------------------------------------------


def test_marketable_limit_walks_levels_within_its_limit_and_rests() -> None:
    async def scenario() -> None:
        venue, rec = venue_with()
        ack = await venue.place(order("q1", qty="4", price="101"))
        assert ack == PlaceAck("q1", "A-o1")
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("q1", 1, "1", "100", "0.05"),
            fill("q1", 2, "2", "101", "0.101"),
        ]
        sim = venue.order("q1")
        assert (sim.status, sim.filled, sim.remaining) == (OrderStatus.OPEN, D(3), D(1))
        assert venue.position_now("BTC") == D(3)
        book = await venue.book("BTC")
        assert book.asks == (BookLevel("102", "5"),)
        assert book.bids == BOOK.bids

    run(scenario())


def test_book_snapshots_are_shared_until_the_book_changes() -> None:
    """Entries on one symbol keep the snapshot they read: one object while the book reads
    the same, a fresh one once a taker consumed liquidity (never a stale one)."""

    async def scenario() -> None:
        venue, _ = venue_with()
        first, again = await venue.book("BTC"), await venue.book("BTC")
        assert first is again
        assert (await venue.book("BTC", depth=1)) != first  # depth is part of what is read
        await venue.place(order("q1", qty="1", price="100"))
        after = await venue.book("BTC")
        assert after is not first
        assert after.asks[0] == BookLevel("101", "2") and first.asks[0] == BookLevel("100", "1")

    run(scenario())


def test_market_order_walks_whole_depth_and_expires_the_rest() -> None:
    async def scenario() -> None:
        venue, rec = venue_with()
        await venue.place(order("m1", side=Side.SELL, qty="10", price=None, kind=OrderKind.MARKET))
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("m1", 1, "2", "99", "0.099"),
            fill("m1", 2, "3", "98", "0.147"),
            status("m1", OrderStatus.CANCELED, "5"),
        ]
        assert venue.position_now("BTC") == D(-5)
        with pytest.raises(UnusableBook, match="the book has no bids"):  # drained
            await venue.book("BTC")

    run(scenario())


def test_market_order_on_an_empty_side_is_canceled_unfilled() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(market(book=Liquidity(bids=BOOK.bids, asks=())))
        ack = await venue.place(order("m1", price=None, kind=OrderKind.MARKET))
        assert ack.venue_order_id == "A-o1"
        await asyncio.sleep(0)
        assert rec.updates == [status("m1", OrderStatus.CANCELED, "0")]

    run(scenario())


def test_ioc_limit_remainder_is_canceled() -> None:
    async def scenario() -> None:
        venue, rec = venue_with()
        await venue.place(order("i1", qty="3", price="100", tif=TimeInForce.IOC))
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("i1", 1, "1", "100", "0.05"),
            status("i1", OrderStatus.CANCELED, "1"),
        ]
        assert venue.order("i1").status is OrderStatus.CANCELED

    run(scenario())


# -- resting orders: scripted fills and book moves ------------------------------------


def test_scripted_fill_partial_then_whole_at_limit_with_maker_fee() -> None:
    async def scenario() -> None:
        script = [ScriptedFill(at_s=1.0, qty=D("0.5")), ScriptedFill(at_s=2.0)]
        venue, rec = venue_with(script=script)
        venue.start()
        await venue.place(order("q1", qty="2", price="99"))
        await asyncio.sleep(1.5)
        assert rec.updates == [fill("q1", 1, "0.5", "99", "0.0099")]
        assert venue.order("q1").status is OrderStatus.OPEN
        await asyncio.sleep(1)
        assert rec.updates[1:] == [
            fill("q1", 2, "1.5", "99", "0.0297"),
            status("q1", OrderStatus.FILLED, "2"),
        ]
        assert venue.position_now("BTC") == D(2)

    run(scenario())


def test_scripted_fill_picks_oldest_order_of_its_purpose_at_its_price() -> None:
    async def scenario() -> None:
        script = [ScriptedFill(at_s=1.0, purpose=Purpose.HEDGE, price=D("98.5"), symbol="BTC")]
        venue, rec = venue_with(script=script)
        venue.start()
        await venue.place(order("q1"))
        await venue.place(order("h1", purpose=Purpose.HEDGE))
        await venue.place(order("h2", purpose=Purpose.HEDGE))
        await asyncio.sleep(2)
        assert rec.updates == [
            fill("h1", 1, "1", "98.5", "0.01970"),
            status("h1", OrderStatus.FILLED, "1"),
        ]
        assert venue.order("q1").status is OrderStatus.OPEN
        assert venue.order("h2").status is OrderStatus.OPEN

    run(scenario())


def test_scripted_fill_without_live_order_is_journaled_as_skipped() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(script=[ScriptedFill(at_s=1.0)])
        venue.start()
        await asyncio.sleep(2)
        assert venue.journal == [JournalEntry(1.0, "fill_skipped", None, "no live quote order")]
        assert rec.updates == []

    run(scenario())


def test_book_move_through_a_resting_order_fills_it_at_its_limit() -> None:
    async def scenario() -> None:
        moved = Book(bids=(BookLevel("98", "1"),), asks=(BookLevel("98.5", "4"),))
        venue, rec = venue_with(latency_s=0.25, script=[ScriptedBook(at_s=1.0, book=moved)])
        venue.start()
        await venue.place(order("q1", qty="2", price="99"))
        await venue.place(order("s1", side=Side.SELL, qty="1", price="101"))
        await asyncio.sleep(2)
        assert rec.seen == [
            (1.25, BookChanged("A", "BTC", moved)),
            (1.25, fill("q1", 1, "2", "99", "0.0396")),
            (1.25, status("q1", OrderStatus.FILLED, "2")),
        ]
        assert venue.order("s1").status is OrderStatus.OPEN
        assert await venue.book("BTC") == moved

    run(scenario())


# -- cancel and query -----------------------------------------------------------------


def test_cancel_live_then_cancel_again_is_not_found() -> None:
    async def scenario() -> None:
        venue, rec = venue_with()
        await venue.place(order("q1", qty="4", price="101"))
        assert await venue.cancel("BTC", "q1") == CancelAck("q1", D(3))
        with pytest.raises(OrderNotFound):
            await venue.cancel("BTC", "q1")
        with pytest.raises(OrderNotFound):
            await venue.cancel("BTC", "nobody")
        await asyncio.sleep(0)
        assert rec.updates[-1] == status("q1", OrderStatus.CANCELED, "3")

    run(scenario())


def test_query_returns_the_snapshot_with_all_fills() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(market(), market("ETH"))
        await venue.place(order("q1", qty="4", price="101"))
        snap = await venue.query("BTC", "q1")
        assert snap == OrderSnapshot(
            "q1",
            OrderStatus.OPEN,
            D(4),
            D(3),
            (fill("q1", 1, "1", "100", "0.05"), fill("q1", 2, "2", "101", "0.101")),
        )
        with pytest.raises(OrderNotFound):
            await venue.query("BTC", "zz")
        with pytest.raises(OrderNotFound):  # orders are scoped by symbol
            await venue.query("ETH", "q1")

    run(scenario())


# -- reduce-only, rules, positions ----------------------------------------------------


def test_reduce_only_clips_to_the_position_and_rejects_growth() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(market(position="3"))
        sell = order("r1", side=Side.SELL, qty="5", price=None, kind=OrderKind.MARKET)
        await venue.place(attrs.evolve(sell, reduce_only=True))
        await asyncio.sleep(0)
        assert rec.updates == [
            fill("r1", 1, "2", "99", "0.099"),
            fill("r1", 2, "1", "98", "0.049"),
            status("r1", OrderStatus.CANCELED, "3"),
        ]
        assert venue.position_now("BTC") == D(0)
        with pytest.raises(OrderRejected, match="reduce-only: sell 1 would increase position 0"):
            await venue.place(order("r2", side=Side.SELL, reduce_only=True))

    run(scenario())


def test_reduce_only_rejects_an_order_on_the_side_of_the_position() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(market(position="3"))
        with pytest.raises(OrderRejected, match="reduce-only: buy 1 would increase position 3"):
            await venue.place(order("r1", reduce_only=True))

    run(scenario())


def test_resting_reduce_only_is_clipped_at_execution() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(market(position="-1"), script=[ScriptedFill(at_s=1.0)])
        venue.start()
        await venue.place(order("r1", qty="2", price="99", reduce_only=True))
        await asyncio.sleep(2)
        assert rec.updates == [
            fill("r1", 1, "1", "99", "0.0198"),
            status("r1", OrderStatus.CANCELED, "1"),
        ]
        assert venue.position_now("BTC") == D(0)

    run(scenario())


@pytest.mark.parametrize(
    ("placed", "reason"),
    [
        (order("x", qty="0.15"), "lot: qty 0.15 is not a multiple of lot 0.1"),
        (order("x", price="99.3"), "tick: price 99.3 is not a multiple of tick 0.5"),
        (order("x", qty="0.1"), "min_qty: qty 0.1 is below min_qty 0.2"),
        (
            order("x", qty="0.3"),
            "min_notional: notional 29.7 (qty 0.3 x price 99) is below min_notional 50",
        ),
        (
            order("x", qty="0.3", price=None, kind=OrderKind.MARKET),
            "min_notional: notional 30.0 (qty 0.3 x price 100) is below min_notional 50",
        ),
        (order("x", price=None), "price: a limit order needs a price"),
    ],
)
def test_rule_rejections_name_the_rule_and_the_numbers(placed: PlaceOrder, reason: str) -> None:
    async def scenario() -> None:
        venue, rec = venue_with()
        with pytest.raises(OrderRejected) as caught:
            await venue.place(placed)
        assert str(caught.value) == f"A: order x rejected: {reason}"
        assert [e.kind for e in venue.journal] == ["rejected"]
        assert await venue.place(order("ok")) == PlaceAck("ok", "A-o1")  # no id was used
        assert rec.updates == []

    run(scenario())


def test_duplicate_client_id_and_unknown_symbol_are_rejected() -> None:
    async def scenario() -> None:
        venue, _ = venue_with()
        await venue.place(order("q1"))
        await venue.cancel("BTC", "q1")
        with pytest.raises(OrderRejected, match=r"^A: duplicate client order id q1$"):
            await venue.place(order("q1"))
        with pytest.raises(OrderRejected, match=r"^A: unknown symbol ETH$"):
            await venue.place(order("e1", symbol="ETH"))

    run(scenario())


def test_pre_existing_positions_and_fills_move_them() -> None:
    async def scenario() -> None:
        venue, _ = venue_with(market(position="-1.5"), market("ETH"))
        assert await venue.position("BTC") == D("-1.5")
        assert await venue.position("ETH") == D(0)
        await venue.place(order("q1", qty="0.5", price="100"))
        assert venue.position_now("BTC") == D("-1.0")

    run(scenario())
