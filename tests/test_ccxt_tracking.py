"""The tracker's ordering rules for websocket pushes (found by the exchange doubles).

A terminal order update that claims more filled than the trades delivered so far is
held until they arrive, or the order is re-queried: settling on it would end an entry
with fills that have no price and no fee. Hyperliquid's websocket trades say taker or
maker only in their raw ``crossed`` flag.

The tracker waits ``fill_grace_s`` (50 ms) for the trades: these tests run on the
virtual clock, since a real 10 ms sleep that a loaded machine stretches past the
grace period would race it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from venues.ccxt.dialects import DIALECTS
from venues.ccxt.tracking import OrderTracker, Tracked, with_liquidity
from venues.market import OrderKind, OrderStatus, Side
from venues.protocol import OrderUpdate, VenueUpdate
from venues.sim.virtual_time import run_virtual

SYMBOL = "BTC/USDT:USDT"
FILLED = {"clientOrderId": "aet1Sh1", "id": "77", "status": "closed", "amount": "0.5",
          "filled": "0.5"}
TRADE = {"id": "t1", "order": "77", "amount": "0.5", "price": "60000",
         "takerOrMaker": "taker", "fee": {"cost": "15", "currency": "USDT"}, "info": {}}


def _tracker(refetch: Any) -> tuple[OrderTracker, list[VenueUpdate]]:
    tracker = OrderTracker("v", DIALECTS["bybit"], lambda symbol: Decimal(1), refetch=refetch)
    tracker.track("aet1Sh1", Tracked(SYMBOL, Side.SELL, Decimal("0.5"), OrderKind.MARKET))
    updates: list[VenueUpdate] = []
    tracker.add_handler(updates.append)
    return tracker, updates


def _kinds(updates: list[VenueUpdate]) -> list[str]:
    return [type(u).__name__ for u in updates]


def test_a_filled_status_before_its_trade_waits_for_the_trade() -> None:
    async def main() -> list[VenueUpdate]:
        async def refetch(symbol: str, cid: str) -> None:
            raise AssertionError("the trade came in time: no query needed")

        tracker, updates = _tracker(refetch)
        tracker.on_ws_order(FILLED)
        assert updates == []  # held: no fill delivered yet
        await asyncio.sleep(0.01)
        tracker.on_ws_trade(TRADE)
        await asyncio.sleep(0.03)
        return updates

    updates = run_virtual(main())
    assert _kinds(updates) == ["FillUpdate", "OrderUpdate"]


def test_a_filled_status_whose_trade_never_comes_is_re_queried() -> None:
    async def main() -> tuple[list[VenueUpdate], list[str]]:
        asked: list[str] = []

        async def refetch(symbol: str, cid: str) -> object:
            asked.append(cid)
            # what the query's snapshot pushes: the trade, then the status
            tracker.on_ws_trade(TRADE)
            tracker.push(OrderUpdate("v", SYMBOL, cid, OrderStatus.FILLED, Decimal("0.5")))
            return object()

        tracker, updates = _tracker(refetch)
        tracker.on_ws_order(FILLED)
        await asyncio.sleep(0.2)
        return updates, asked

    updates, asked = run_virtual(main())
    assert asked == ["aet1Sh1"]
    assert _kinds(updates) == ["FillUpdate", "OrderUpdate"]  # the held update is not sent


def test_a_held_status_is_sent_when_the_query_fails() -> None:
    async def main() -> list[VenueUpdate]:
        async def refetch(symbol: str, cid: str) -> object:
            raise OSError("network down")

        tracker, updates = _tracker(refetch)
        tracker.on_ws_order(FILLED)
        await asyncio.sleep(0.2)
        return updates

    updates = run_virtual(main())
    assert [(type(u).__name__, getattr(u, "filled", None)) for u in updates] == [
        ("OrderUpdate", Decimal("0.5"))]


def test_hyperliquid_websocket_trades_take_liquidity_from_crossed() -> None:
    raw = {"id": "1", "takerOrMaker": None, "info": {"crossed": True}}
    assert with_liquidity(raw, "crossed")["takerOrMaker"] == "taker"
    assert with_liquidity({**raw, "info": {"crossed": False}}, "crossed")[
        "takerOrMaker"] == "maker"
    assert with_liquidity({**raw, "takerOrMaker": "maker"}, "crossed")[
        "takerOrMaker"] == "maker"  # ccxt's own value wins
    assert with_liquidity(raw, None) is raw
    assert DIALECTS["hyperliquid"].ws_taker_flag == "crossed"
