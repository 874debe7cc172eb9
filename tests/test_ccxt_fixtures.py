"""The adapter against ccxt's own static test fixtures: what it sends, what it reads.

The payloads are verbatim from ccxt's repository (``ts/src/test/static/request/*.json``
for the requests ccxt builds, their ``output``; ``ts/src/test/static/response/*.json``
for the exchanges' answers, their ``httpResponse``), stored under ``tests/data/ccxt/``
with the fixture's description as key. ccxt 4.5.90 builds and signs every request
while a recorder standing in for its ``fetch`` answers (no network); so a request test
compares the wire the adapter makes with the wire in ccxt's fixture (our own client id
and the parameters we add on purpose aside), and a response test reads the fixture's
answer through ``CcxtVenue`` into our values.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.test_ccxt_requests import Recorder
from venues import protocol as base
from venues.ccxt.adapter import CcxtVenue
from venues.ccxt.dialects import hyperliquid_cloid
from venues.market import Leg, OrderKind, OrderStatus, PlaceOrder, Purpose, Side

DATA = Path(__file__).parent / "data" / "ccxt"
T = TypeVar("T")


def fixture(exchange: str, key: str) -> Any:
    return json.loads((DATA / f"{exchange}.json").read_text())[key]


# -- hyperliquid -------------------------------------------------------------------------

# hyperliquid's perp universe as far as the fixtures use it: asset index = position.
_HL_COINS = {0: ("BTC", 5), 1: ("ETH", 4), 5: ("SOL", 2), 159: ("HYPE", 2)}
_HL_PRICES = {"BTC": "60000.0", "ETH": "1100.0", "SOL": "110.0", "HYPE": "25.0"}


def _hl_meta() -> list[Any]:
    universe, ctxs = [], []
    for index in range(160):
        name, decimals = _HL_COINS.get(index, (f"X{index}", 1))
        universe.append({"szDecimals": decimals, "name": name, "maxLeverage": 10,
                         "marginTableId": 10})
        px = _HL_PRICES.get(name, "1.0")
        ctxs.append({"funding": "0.0000125", "openInterest": "1000.0", "prevDayPx": px,
                     "dayNtlVlm": "1000000.0", "premium": "0.0", "oraclePx": px,
                     "markPx": px, "midPx": px, "impactPxs": [px, px], "dayBaseVlm": "10.0"})
    return [{"universe": universe, "marginTables": []}, ctxs]


HL_CREDS = {"walletAddress": "0x" + "ab" * 20, "privateKey": "0x" + "11" * 32}


def _hyperliquid(answers: dict[str, Any], body: Callable[[CcxtVenue], Awaitable[T]]
                 ) -> tuple[T, Recorder]:
    meta = _hl_meta()
    recorder = Recorder({"/info:metaAndAssetCtxs": meta, "/info:meta": meta[0], **answers})

    async def main() -> T:
        venue = CcxtVenue("v", "hyperliquid", credentials=HL_CREDS, sandbox=False,
                          config={"timeout_on_exit": 0})
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        try:
            return await body(venue)
        finally:
            await venue.close()

    return asyncio.run(main()), recorder


def _order(cid: str, symbol: str, side: Side, kind: OrderKind, qty: str, price: str | None,
           purpose: Purpose = Purpose.HEDGE, reduce_only: bool = False) -> PlaceOrder:
    return PlaceOrder(cid, "v", symbol, Leg.LONG if side is Side.BUY else Leg.SHORT, purpose,
                      side, kind, Decimal(qty), None if price is None else Decimal(price),
                      reduce_only=reduce_only)


@pytest.mark.parametrize("key", ["request swap market buy",
                                 "request order with clientOrderId"])
def test_hyperliquid_market_buy_request(key: str) -> None:
    """Our market buy is ccxt's (5% slippage price, IOC), with our cloid and no builder."""
    case = fixture("hyperliquid", key)
    symbol, _, _, qty, price = case["input"][:5]
    order = _order("aet1Lh1", symbol, Side.BUY, OrderKind.MARKET, str(qty), str(price))
    _, recorder = _hyperliquid({"/exchange": fixture("hyperliquid", "createOrder market")},
                               lambda venue: venue.place(order))
    (sent,) = [params for method, path, params in recorder.sent if path == "/exchange"]
    action = sent["action"]
    assert action["type"] == "order" and action["grouping"] == "na"
    assert "builder" not in action  # the fixtures' orders carry ccxt's paid builder
    assert action["orders"] == [{**case["order"], "c": hyperliquid_cloid("aet1Lh1")}]


def test_hyperliquid_market_create_answer_is_an_acceptance() -> None:
    order = _order("aet1Lh1", "HYPE/USDC:USDC", Side.SELL, OrderKind.MARKET, "1", "25")
    ack, _ = _hyperliquid({"/exchange": fixture("hyperliquid", "createOrder market")},
                          lambda venue: venue.place(order))
    assert ack == base.PlaceAck("aet1Lh1", "296683658818")


def _query(symbol: str, order_status: Any, fills: list[Any]) -> base.OrderSnapshot:
    snap, _ = _hyperliquid({"/info:orderStatus": order_status, "/info:userFills": fills},
                           lambda venue: venue.query(symbol, "aet1Lq1"))
    return snap


def test_hyperliquid_post_only_open_order() -> None:
    snap = _query("HYPE/USDC:USDC", fixture("hyperliquid", "fetchOrder postOnly open"), [])
    assert (snap.status, snap.qty, snap.filled, snap.fills) == (
        OrderStatus.OPEN, Decimal(2), Decimal(0), ())


def test_hyperliquid_filled_order_with_size_left_zero() -> None:
    """``sz`` is what is left: 0.0 of an ``origSz`` 0.2 is all of it filled."""
    snap = _query("ETH/USDC:USDC", fixture("hyperliquid", "fetchOrder filled sz 0.0"), [])
    assert (snap.status, snap.qty, snap.filled) == (
        OrderStatus.FILLED, Decimal("0.2"), Decimal("0.2"))


def test_hyperliquid_canceled_order() -> None:
    answer = {"status": "order", "order": fixture("hyperliquid", "fetchOrders canceled")}
    snap = _query("HYPE/USDC:USDC", answer, [])
    assert (snap.status, snap.qty, snap.filled) == (OrderStatus.CANCELED, Decimal(1),
                                                      Decimal(0))


@pytest.mark.parametrize(("key", "symbol", "fill"), [
    pytest.param(
        "fetchMyTrades builderFee", "HYPE/USDC:USDC",
        ("882779857052503", Decimal("0.73"), Decimal("33.209"), Decimal("0.015320")),
        marks=pytest.mark.xfail(strict=True, reason=(
            "issue 15: with Decimal numbers ccxt loses fee.cost (fee + builderFee) and "
            "parse._fee's fallback reads info.fee alone (0.012896); fee reading is the "
            "fills/fees work item's (parse.py). Our orders carry no builder, so our own "
            "fills have no builderFee"))),
    ("fetchMyTrades cloid", "SOL/USDC:USDC",
     ("566849930446139", Decimal("0.5"), Decimal("132.31"), Decimal("0.023154"))),
])
def test_hyperliquid_fills_with_their_fees(key: str, symbol: str,
                                           fill: tuple[str, Decimal, Decimal, Decimal]) -> None:
    """A filled order's trades from ``userFills``; the fee includes a builder's share."""
    trade = fixture("hyperliquid", key)
    coin = symbol.split("/")[0]
    status = {"status": "order", "order": {"order": {
        "coin": coin, "side": "B", "limitPx": trade["px"], "sz": "0.0", "oid": trade["oid"],
        "timestamp": trade["time"], "triggerCondition": "N/A", "isTrigger": False,
        "triggerPx": "0.0", "children": [], "isPositionTpsl": False, "reduceOnly": False,
        "orderType": "Limit", "origSz": trade["sz"], "tif": "Gtc", "cloid": None},
        "status": "filled", "statusTimestamp": trade["time"]}}
    snap = _query(symbol, status, [trade])
    assert snap.status is OrderStatus.FILLED
    assert [(f.trade_id, f.qty, f.price, f.fee) for f in snap.fills] == [fill]


@pytest.mark.parametrize(("key", "symbol", "net"), [
    ("fetchPositions short", "SOL/USDC:USDC", Decimal("-0.5")),
    ("fetchPositions isolated short", "HYPE/USDC:USDC", Decimal("-4")),
])
def test_hyperliquid_short_positions(key: str, symbol: str, net: Decimal) -> None:
    position, _ = _hyperliquid({"/info:clearinghouseState": fixture("hyperliquid", key)},
                               lambda venue: venue.position(symbol))
    assert position == net
