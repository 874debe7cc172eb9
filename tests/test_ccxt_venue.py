"""CcxtVenue against the binanceusdm and bybit doubles (polling bybit): the quirks, one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tests.ccxtkit import FAKE_KEY, FAKE_SECRET, SYMBOL, Double, double_venue, short_timeout
from venues import protocol as base
from venues.market import (
    Leg,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)

EXCHANGES = ["binanceusdm", "bybit"]
# the timeout of the create a test makes hang (``hang_create``, 0.6 s): it must time out
HANG_TIMEOUT_MS = 300


def order(cid: str = "aet1Lq1", *, side: Side = Side.BUY, qty: str = "0.5",
          price: str | None = "59990.0", kind: OrderKind = OrderKind.LIMIT,
          purpose: Purpose = Purpose.QUOTE, reduce_only: bool = False,
          tif: TimeInForce = TimeInForce.GTC) -> PlaceOrder:
    return PlaceOrder(cid, "v", SYMBOL, Leg.LONG if side is Side.BUY else Leg.SHORT, purpose,
                      side, kind, Decimal(qty), None if price is None else Decimal(price),
                      tif, reduce_only)


def run(exchange: str, body: Callable[[Double], Awaitable[None]], **kwargs: object) -> None:
    async def main() -> None:
        async with double_venue("v", exchange, **kwargs) as double:  # type: ignore[arg-type]
            await body(double)
            assert double.core.unknown_routes == []

    asyncio.run(main())


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds. The limit (real clock) is only reached when it never
    does: generous, since a loaded machine stretches every round trip and reconnect."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_rules_book_position_in_base_units(exchange: str) -> None:
    async def body(d: Double) -> None:
        rules = await d.venue.market_rules(SYMBOL)
        assert (rules.lot, rules.tick, rules.min_qty, rules.min_notional) == (
            Decimal("0.001"), Decimal("0.5"), Decimal("0.001"), Decimal("5"))
        assert (rules.maker_fee, rules.taker_fee) == (Decimal("0.0002"), Decimal("0.0005"))
        book = await d.venue.book(SYMBOL, 2)
        assert (book.best_bid, book.best_ask, len(book.bids)) == (
            Decimal("60000.0"), Decimal("60000.5"), 2)
        d.core.positions["BTCUSDT"] = Decimal("-0.25")
        assert await d.venue.position(SYMBOL) == Decimal("-0.25")

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_partial_fill_then_cancel_reports_filled(exchange: str) -> None:
    async def body(d: Double) -> None:
        ack = await d.venue.place(order())
        assert ack.venue_order_id
        d.core.fill_first_live("q", Decimal("0.2"))
        snap = await d.venue.query(SYMBOL, "aet1Lq1")
        assert (snap.status, snap.qty, snap.filled) == (
            base.OrderStatus.OPEN, Decimal("0.5"), Decimal("0.2"))
        assert [(f.qty, f.price) for f in snap.fills] == [(Decimal("0.2"), Decimal("59990.0"))]
        assert snap.fills[0].fee == Decimal("2.39960000")
        cancel = await d.venue.cancel(SYMBOL, "aet1Lq1")
        assert cancel.filled == Decimal("0.2")
        snap = await d.venue.query(SYMBOL, "aet1Lq1")
        # bybit says PartiallyFilledCanceled, ccxt says "closed": it is not filled
        assert (snap.status, snap.filled) == (base.OrderStatus.CANCELED, Decimal("0.2"))

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_cancel_of_filled_order_is_not_found_and_query_tells_the_truth(exchange: str) -> None:
    async def body(d: Double) -> None:
        await d.venue.place(order())
        d.core.fill_first_live("q")
        with pytest.raises(base.OrderNotFound):
            await d.venue.cancel(SYMBOL, "aet1Lq1")
        snap = await d.venue.query(SYMBOL, "aet1Lq1")
        assert (snap.status, snap.filled, len(snap.fills)) == (
            base.OrderStatus.FILLED, Decimal("0.5"), 1)

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_create_timeout_with_order_live_is_unknown_then_query_finds_it(exchange: str) -> None:
    async def body(d: Double) -> None:
        d.core.script.hang_create["q"] = 0.6
        with short_timeout(d, HANG_TIMEOUT_MS), pytest.raises(base.OutcomeUnknown) as caught:
            await d.venue.place(order())
        assert type(caught.value) is base.OutcomeUnknown
        assert d.core.orders["aet1Lq1"].live
        snap = await d.venue.query(SYMBOL, "aet1Lq1")
        assert snap.status is base.OrderStatus.OPEN

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_rate_limit_is_definite_and_nothing_was_created(exchange: str) -> None:
    async def body(d: Double) -> None:
        d.core.script.rate_limit_create["q"] = 1
        with pytest.raises(base.VenueUnavailable):
            await d.venue.place(order())
        assert d.core.orders == {}
        await d.venue.place(order())  # the same intent, the same id, now accepted
        assert d.core.orders["aet1Lq1"].live

    run(exchange, body)


def test_post_only_rejection_binance_is_a_definite_reject() -> None:
    async def body(d: Double) -> None:
        with pytest.raises(base.OrderRejected) as caught:
            await d.venue.place(order(price="60001.0"))  # would take the 60000.5 ask
        assert "-5022" in str(caught.value)
        assert d.core.orders == {}
        assert d.core.requests[-1][2]["timeInForce"] == "GTX"

    run("binanceusdm", body, post_only_quotes=True)


def test_post_only_rejection_bybit_is_accepted_then_cancelled() -> None:
    async def body(d: Double) -> None:
        await d.venue.place(order(price="60001.0"))
        assert d.core.requests[-1][2]["timeInForce"] == "PostOnly"
        snap = await d.venue.query(SYMBOL, "aet1Lq1")
        assert (snap.status, snap.filled) == (base.OrderStatus.CANCELED, Decimal(0))

    run("bybit", body, post_only_quotes=True)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_minimums_are_checked_before_sending(exchange: str) -> None:
    async def body(d: Double) -> None:
        await d.venue.market_rules(SYMBOL)
        sent = len(d.core.requests)
        with pytest.raises(base.OrderRejected, match="lot"):
            await d.venue.place(order(qty="0.0005"))
        with pytest.raises(base.OrderRejected, match="minimum 5"):
            await d.venue.place(order(qty="0.001", price="1000.0"))
        assert d.core.requests[sent:] == []

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_maker_prices_round_toward_their_own_side(exchange: str) -> None:
    async def body(d: Double) -> None:
        await d.venue.place(order("aet1Lq1", price="59994.3"))  # nearest would be 59994.5
        await d.venue.place(order("aet1Sq1", side=Side.SELL, price="60006.2"))  # not 60006.0
        prices = [r[2]["price"] for r in d.core.trading_requests() if "price" in r[2]]
        assert prices == ["59994", "60006.5"]  # ccxt's nearest: 59994.5 and 60006

    run(exchange, body)


def test_websocket_gap_is_reconciled_over_rest() -> None:
    async def body(d: Double) -> None:
        updates: list[base.VenueUpdate] = []
        d.venue.subscribe(updates.append)
        await d.venue.place(order())
        await eventually(lambda: d.wire.ws_connections == 1 and bool(d.wire.sockets))
        await eventually(lambda: any(isinstance(u, base.OrderUpdate) for u in updates))
        await d.wire.disconnect()
        d.core.fill_first_live("q", Decimal("0.3"))  # lands while no socket is up
        assert d.wire.dropped_pushes == 1
        await eventually(lambda: any(isinstance(u, base.FillUpdate) for u in updates))
        fills = [u for u in updates if isinstance(u, base.FillUpdate)]
        assert [f.qty for f in fills] == [Decimal("0.3")]
        assert d.venue.stream.reconnects >= 1 and d.wire.ws_connections == 2
        assert d.venue.stream.reconciliations >= 2

    run("binanceusdm", body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_updates_by_polling_or_websocket_reach_the_handler(exchange: str) -> None:
    async def body(d: Double) -> None:
        updates: list[base.VenueUpdate] = []
        d.venue.subscribe(updates.append)
        await d.venue.place(order())
        d.core.fill_first_live("q")
        await eventually(lambda: any(isinstance(u, base.OrderUpdate)
                                     and u.status is base.OrderStatus.FILLED for u in updates))
        fills = [u for u in updates if isinstance(u, base.FillUpdate)]
        assert [(f.client_id, f.qty) for f in fills] == [("aet1Lq1", Decimal("0.5"))]

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_reduce_only_and_ioc_reach_the_wire(exchange: str) -> None:
    async def body(d: Double) -> None:
        d.core.positions["BTCUSDT"] = Decimal("1")
        await d.venue.place(order("aet1Sr1", side=Side.SELL, qty="0.1", price=None,
                                  kind=OrderKind.MARKET, purpose=Purpose.ROLLBACK,
                                  reduce_only=True))
        await d.venue.place(order("aet1Sh1", side=Side.SELL, qty="0.1", price="59990.0",
                                  purpose=Purpose.HEDGE, tif=TimeInForce.IOC))
        market, ioc = [r[2] for r in d.core.trading_requests()]
        assert market["reduceOnly"] in ("true", True)
        assert ioc["timeInForce"] == "IOC"
        assert d.core.positions["BTCUSDT"] == Decimal("0.8")

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_errors_never_carry_credentials(exchange: str) -> None:
    async def body(d: Double) -> None:
        d.core.script.hang_create["q"] = 0.6
        errors: list[str] = []

        async def timed_out_place() -> None:
            with short_timeout(d, HANG_TIMEOUT_MS):
                await d.venue.place(order())

        for attempt in (timed_out_place,
                        lambda: d.venue.cancel(SYMBOL, "aenoneLq1"),
                        lambda: d.venue.query(SYMBOL, "aenoneLq1")):
            try:
                await attempt()
            except base.VenueError as exc:
                errors.append(str(exc))
        assert len(errors) == 3
        for text in errors:
            assert FAKE_KEY not in text and FAKE_SECRET not in text
            assert "signature=" not in text

    run(exchange, body)
