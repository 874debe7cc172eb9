"""CcxtVenue on each venue's websocket, against the doubles of all four exchanges.

What the race suite (``test_ccxt_engine``) takes for granted, pinned per venue: pushes
reach the handler as fills and statuses, a fill missed while the socket was down is
found by the reconciliation after the reconnect, sizes travel in the exchange's units,
refusals come back as the right Venue error, and no error carries a credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import attrs
import pytest

from tests.ccxtkit import (
    CREDENTIALS,
    FAKE_KEY,
    FAKE_SECRET,
    Double,
    double_venue,
    short_timeout,
    symbol_for,
)
from tests.test_ccxt_venue import HANG_TIMEOUT_MS, eventually, order
from venues import protocol as base

EXCHANGES = ["binanceusdm", "bybit", "okx", "hyperliquid"]


def run(exchange: str, body: Callable[[Double, str], Awaitable[None]]) -> None:
    async def main() -> None:
        async with double_venue("v", exchange, stream="ws") as double:
            await body(double, symbol_for(exchange))
            assert double.core.unknown_routes == []

    asyncio.run(main())


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_websocket_pushes_reach_the_handler(exchange: str) -> None:
    async def body(d: Double, symbol: str) -> None:
        updates: list[base.VenueUpdate] = []
        d.venue.subscribe(updates.append)
        await d.venue.place(attrs.evolve(order(), symbol=symbol))
        await eventually(lambda: bool(d.wire.sockets))
        d.core.fill_first_live("q", Decimal("0.2"))
        d.core.fill_first_live("q")
        await eventually(lambda: any(isinstance(u, base.OrderUpdate)
                                     and u.status is base.OrderStatus.FILLED for u in updates))
        fills = [u for u in updates if isinstance(u, base.FillUpdate)]
        assert [(f.qty, f.price, f.liquidity) for f in fills] == [
            (Decimal("0.2"), Decimal("59990"), base.Liquidity.MAKER),
            (Decimal("0.3"), Decimal("59990"), base.Liquidity.MAKER)]
        assert all(f.fee > 0 for f in fills)

    run(exchange, body)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_websocket_gap_is_reconciled_over_rest(exchange: str) -> None:
    async def body(d: Double, symbol: str) -> None:
        updates: list[base.VenueUpdate] = []
        d.venue.subscribe(updates.append)
        await d.venue.place(attrs.evolve(order(), symbol=symbol))
        await eventually(lambda: bool(d.wire.sockets))
        connections = d.wire.ws_connections
        await d.wire.disconnect()
        dropped = d.wire.dropped_pushes
        d.core.fill_first_live("q", Decimal("0.3"))  # lands while no socket is up
        assert d.wire.dropped_pushes > dropped
        await eventually(lambda: any(isinstance(u, base.FillUpdate) for u in updates))
        fills = [u for u in updates if isinstance(u, base.FillUpdate)]
        assert [f.qty for f in fills] == [Decimal("0.3")]
        assert d.venue.stream.reconnects >= 1
        await eventually(lambda: d.wire.ws_connections > connections)

    run(exchange, body)


@pytest.mark.parametrize("exchange", ["bybit", "okx"])
def test_a_fill_before_the_resubscription_takes_effect_is_reconciled(exchange: str) -> None:
    """The private topics are subscribed after the connection (bybit ``auth`` then
    ``subscribe``, okx ``login``): a fill landing after the reconnect's reconciliation
    but before the subscription works is pushed to nobody; the second reconciliation,
    ``settle_s`` later, finds it."""
    async def body(d: Double, symbol: str) -> None:
        updates: list[base.VenueUpdate] = []
        d.venue.subscribe(updates.append)
        await d.venue.place(attrs.evolve(order(), symbol=symbol))
        await eventually(lambda: bool(d.wire.sockets))
        # long enough that the fill below lands before it even on a loaded machine;
        # nothing waits for it (the second reconciliation finds the fill)
        d.core.script.subscribe_delay_s = 5.0
        connections, sent = d.wire.ws_connections, len(d.core.requests)
        await d.wire.disconnect()
        # the reconnect's reconciliation has been answered (the double answers a query
        # as it records it) while the new subscription does not work yet
        await eventually(lambda: d.wire.ws_connections > connections and any(
            path in ("/v5/order/realtime", "/api/v5/trade/order")
            for _, path, _ in d.core.requests[sent:]))
        assert not d.wire.sockets
        dropped = d.wire.dropped_pushes
        d.core.fill_first_live("q", Decimal("0.3"))
        assert d.wire.dropped_pushes > dropped
        await eventually(lambda: any(isinstance(u, base.FillUpdate) for u in updates))

    run(exchange, body)


def test_okx_sizes_travel_in_contracts() -> None:
    """0.5 BTC at 0.001 BTC a contract is 500 contracts; the position reads back in BTC."""
    async def body(d: Double, symbol: str) -> None:
        await d.venue.place(attrs.evolve(order(), symbol=symbol))
        d.core.fill_first_live("q")
        (create,) = [r[2] for r in d.core.trading_requests() if r[1].endswith("batch-orders")]
        assert (create["sz"], create["clOrdId"]) == ("500", "aet1Lq1")
        assert await d.venue.position(symbol) == Decimal("0.5")

    run("okx", body)


def test_hyperliquid_refuses_a_crossing_post_only_quote() -> None:
    """An ``Alo`` order that would take is refused and not recorded, as hyperliquid does."""
    async def main() -> None:
        async with double_venue("v", "hyperliquid", post_only_quotes=True) as d:
            with pytest.raises(base.OrderRejected, match="Post only"):
                await d.venue.place(attrs.evolve(order(price="60005"),
                                                 symbol=symbol_for("hyperliquid")))
            assert d.core.orders == {}

    asyncio.run(main())


@pytest.mark.parametrize("exchange", ["okx", "hyperliquid"])
def test_errors_never_carry_credentials(exchange: str) -> None:
    async def body(d: Double, symbol: str) -> None:
        d.core.script.hang_create["q"] = 0.6
        errors: list[str] = []

        async def timed_out_place() -> None:
            with short_timeout(d, HANG_TIMEOUT_MS):
                await d.venue.place(attrs.evolve(order(), symbol=symbol))

        for attempt in (timed_out_place,
                        lambda: d.venue.cancel(symbol, "aenoneLq1"),
                        lambda: d.venue.query(symbol, "aenoneLq1")):
            try:
                await attempt()
            except base.VenueError as exc:
                errors.append(str(exc))
        assert len(errors) == 3
        secrets = [FAKE_KEY, FAKE_SECRET, *CREDENTIALS[exchange].values()]
        for text in errors:
            assert not [s for s in secrets if s in text], text

    run(exchange, body)


_REST_BOOKS = ("/v5/market/orderbook", "/api/v5/market/books")


@pytest.mark.parametrize("exchange", ["bybit", "okx", "hyperliquid"])
def test_a_followed_book_arrives_over_the_websocket(exchange: str) -> None:
    """Once read, a symbol's book is followed by ``watch_order_book`` on the venue's
    public stream: the snapshot the double sends on subscribe is pushed to the engine
    (as a ``BookChanged`` in base units) with no further REST read."""
    async def body(d: Double, symbol: str) -> None:
        d.core.script.serve_books = True
        updates: list[base.VenueUpdate] = []
        d.venue.subscribe(updates.append)
        read = await d.venue.book(symbol)
        await eventually(lambda: any(isinstance(u, base.BookChanged) for u in updates))
        (pushed,) = [u for u in updates if isinstance(u, base.BookChanged)]
        assert (pushed.book.bids, pushed.book.asks) == (read.bids, read.asks)
        assert pushed.book.asks[0].qty == Decimal("2.0")  # okx: 2000 contracts of 0.001
        rest = [p for _, p, params in d.core.requests
                if p in _REST_BOOKS or params.get("type") == "l2Book"]
        assert len(rest) == 1  # the first read; the feed never polled

    run(exchange, body)
