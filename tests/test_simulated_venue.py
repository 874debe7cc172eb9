"""SimulatedVenue: timing, matching, scripted steps and every reaction, on virtual time.

Times are binary-exact (0.25, 0.5, ...) so that virtual instants compare with ``==``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal as D
from typing import Any, TypeVar

import attrs
import pytest

from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
    OrderKind,
    OrderStatus,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)
from venues.protocol import (
    AmendAck,
    BookChanged,
    CancelAck,
    FillUpdate,
    NotSupported,
    OrderNotFound,
    OrderRejected,
    OrderSnapshot,
    OrderUpdate,
    OutcomeUnknown,
    PlaceAck,
    Venue,
    VenueUnavailable,
    VenueUpdate,
)
from venues.sim.venue import (
    JournalEntry,
    Outage,
    Reaction,
    ReactionAction,
    ScriptedBook,
    ScriptedFill,
    SimMarket,
    SimulatedVenue,
)
from venues.sim.virtual_time import run_virtual

T = TypeVar("T")

RULES = MarketRules(
    lot="0.1",
    tick="0.5",
    min_qty="0.2",
    min_notional="50",
    maker_fee="0.0002",
    taker_fee="0.0005",
)
AMEND_RULES = MarketRules(lot="0.1", tick="0.5", min_qty="0.1", supports_amend=True)
BOOK = Book(
    bids=(BookLevel("99", "2"), BookLevel("98", "3")),
    asks=(BookLevel("100", "1"), BookLevel("101", "2"), BookLevel("102", "5")),
)


def market(
    symbol: str = "BTC", rules: MarketRules = RULES, book: Book = BOOK, position: str = "0"
) -> SimMarket:
    return SimMarket(symbol=symbol, rules=rules, book=book, position=D(position))


def order(
    cid: str,
    *,
    side: Side = Side.BUY,
    qty: str = "1",
    price: str | None = "99",
    kind: OrderKind = OrderKind.LIMIT,
    purpose: Purpose = Purpose.QUOTE,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    symbol: str = "BTC",
) -> PlaceOrder:
    return PlaceOrder(
        client_id=cid,
        venue="A",
        symbol=symbol,
        leg=Leg.LONG if side is Side.BUY else Leg.SHORT,
        purpose=purpose,
        side=side,
        kind=kind,
        qty=D(qty),
        price=None if price is None else D(price),
        time_in_force=tif,
        reduce_only=reduce_only,
    )


def fill(cid: str, n: int, qty: str, price: str, fee: str) -> FillUpdate:
    return FillUpdate("A", "BTC", cid, f"A-t{n}", D(qty), D(price), D(fee))


def status(cid: str, st: OrderStatus, filled: str) -> OrderUpdate:
    return OrderUpdate("A", "BTC", cid, st, D(filled))


class Recorder:
    """Records every pushed update with the virtual instant it arrived."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, VenueUpdate]] = []

    def __call__(self, update: VenueUpdate) -> None:
        self.seen.append((asyncio.get_running_loop().time(), update))

    @property
    def updates(self) -> list[VenueUpdate]:
        return [u for _, u in self.seen]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return run_virtual(coro)


def venue_with(*markets: SimMarket, **kwargs: Any) -> tuple[SimulatedVenue, Recorder]:
    venue = SimulatedVenue("A", markets or (market(),), **kwargs)
    recorder = Recorder()
    venue.subscribe(recorder)
    return venue, recorder


def now() -> float:
    return asyncio.get_running_loop().time()


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
        assert (await venue.book("BTC")).bids == ()

    run(scenario())


def test_market_order_on_an_empty_side_is_canceled_unfilled() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(market(book=Book(bids=BOOK.bids, asks=())))
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


# -- report delivery ------------------------------------------------------------------


def test_duplicate_fills_deliver_each_fill_twice_with_the_same_trade_id() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(latency_s=0.25, duplicate_fills=True)
        await venue.place(order("q1", price="100"))
        await asyncio.sleep(1)
        assert rec.seen == [
            (0.5, fill("q1", 1, "1", "100", "0.05")),
            (0.5, status("q1", OrderStatus.FILLED, "1")),
            (0.75, fill("q1", 1, "1", "100", "0.05")),
        ]
        assert venue.order("q1").fills == [fill("q1", 1, "1", "100", "0.05")]

    run(scenario())


def test_stream_delay_lets_the_cancel_answer_overtake_every_push() -> None:
    async def scenario() -> None:
        reaction = Reaction("cancel", ReactionAction.FILL_THEN_CANCEL, qty=D("0.5"))
        venue, rec = venue_with(latency_s=0.25, stream_delay_s=1.0, reactions=[reaction])
        await venue.place(order("q1", qty="2"))
        ack = await venue.cancel("BTC", "q1")
        assert (now(), ack) == (1.0, CancelAck("q1", D("0.5")))
        assert rec.seen == []  # the lagging stream has said nothing yet
        await asyncio.sleep(2)
        assert rec.seen == [(2.0, fill("q1", 1, "0.5", "99", "0.0099")),
                            (2.0, status("q1", OrderStatus.CANCELED, "0.5"))]

    run(scenario())


def test_unsubscribe_and_a_failing_handler_do_not_starve_others() -> None:
    async def scenario() -> None:
        errors: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        venue, rec = venue_with()
        gone = Recorder()
        unsubscribe = venue.subscribe(gone)

        def broken(update: VenueUpdate) -> None:
            raise RuntimeError("boom")

        venue.subscribe(broken)
        venue.subscribe(later := Recorder())
        unsubscribe()
        await venue.place(order("q1", price="100"))
        await asyncio.sleep(0)
        assert gone.updates == []
        assert later.updates == rec.updates
        assert len(rec.updates) == 2
        assert [str(e["exception"]) for e in errors] == ["boom", "boom"]

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


# -- life cycle and determinism -------------------------------------------------------


def test_close_cancels_the_script_and_pending_pushes() -> None:
    async def scenario() -> None:
        venue, rec = venue_with(
            latency_s=0.25, stream_delay_s=1.0, script=[ScriptedFill(at_s=1.0)]
        )
        venue.start()
        await venue.place(order("q1", price="100"))  # fills at 0.25, fill push due at 1.5
        venue.close()
        await asyncio.sleep(2)
        assert rec.updates == []  # fill and status pushes were both due at 1.5
        assert [e.kind for e in venue.journal] == ["placed", "fill", "filled"]

    run(scenario())


def _race() -> tuple[list[JournalEntry], list[tuple[float, VenueUpdate]]]:
    async def scenario() -> tuple[list[JournalEntry], list[tuple[float, VenueUpdate]]]:
        venue, rec = venue_with(
            latency_s=0.125,
            stream_delay_s=0.5,
            duplicate_fills=True,
            script=[
                ScriptedFill(at_s=0.5, qty=D("0.3")),
                ScriptedBook(at_s=1.0, book=Book(bids=(), asks=(BookLevel("98", "9"),))),
            ],
            reactions=[Reaction("cancel", ReactionAction.FILL_THEN_CANCEL, qty=D("0.2"))],
        )
        venue.start()
        await venue.place(order("q1", qty="1"))
        await venue.place(order("q2", qty="1", price="98"))
        await asyncio.sleep(0.125)
        await venue.cancel("BTC", "q1")
        await asyncio.sleep(2)
        return venue.journal, rec.seen

    return run(scenario())


def _label(update: VenueUpdate) -> str:
    if isinstance(update, FillUpdate):
        return f"fill {update.trade_id} {update.client_id} {update.qty}"
    if isinstance(update, OrderUpdate):
        return f"{update.status.value} {update.client_id} {update.filled}"
    return f"book {update.symbol}"


def test_same_script_gives_the_same_journal_and_pushes() -> None:
    first, second = _race(), _race()
    assert first == second
    journal, seen = first
    assert [(e.at, e.kind, e.client_id) for e in journal] == [
        (0.125, "placed", "q1"),
        (0.125, "resting", "q1"),
        (0.375, "placed", "q2"),
        (0.375, "resting", "q2"),
        (0.5, "fill", "q1"),
        (0.75, "reaction", "q1"),
        (0.75, "fill", "q1"),
        (0.75, "canceled", "q1"),
        (1.0, "book", None),
        (1.0, "fill", "q2"),
        (1.0, "filled", "q2"),
    ]
    assert [(at, _label(u)) for at, u in seen] == [
        (1.125, "fill A-t1 q1 0.3"),  # scheduled first, so delivered first at 1.125
        (1.125, "book BTC"),  # market data is not behind the order stream's lag
        (1.25, "fill A-t1 q1 0.3"),
        (1.375, "fill A-t2 q1 0.2"),
        (1.375, "canceled q1 0.5"),
        (1.5, "fill A-t2 q1 0.2"),
        (1.625, "fill A-t3 q2 1"),
        (1.625, "filled q2 1"),
        (1.75, "fill A-t3 q2 1"),
    ]


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
