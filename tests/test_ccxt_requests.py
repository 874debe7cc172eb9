"""The exact parameters ccxt puts on the wire, per exchange.

binanceusdm and bybit go through their loopback doubles; okx and hyperliquid through a
recorder standing in for ccxt's lowest HTTP call (``fetch``), so ccxt still builds and
signs every request while the answers come from real-format payloads.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import pytest

from tests.ccxtkit import SYMBOL, double_venue
from venues.ccxt.adapter import CcxtVenue
from venues.ccxt.dialects import hyperliquid_cloid
from venues.market import (
    Leg,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)

QUOTE = PlaceOrder("aet1Lq1", "v", SYMBOL, Leg.LONG, Purpose.QUOTE, Side.BUY, OrderKind.LIMIT,
                   Decimal("0.5"), Decimal("59994.3"))
ROLLBACK = PlaceOrder("aet1Sr1", "v", SYMBOL, Leg.SHORT, Purpose.ROLLBACK, Side.BUY,
                      OrderKind.MARKET, Decimal("0.02"), None, TimeInForce.GTC, True)


def _creates(exchange: str) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        async with double_venue("v", exchange, post_only_quotes=True) as d:
            d.core.positions["BTCUSDT"] = Decimal("-1")
            await d.venue.place(QUOTE)
            await d.venue.place(ROLLBACK)
            return [r[2] for r in d.core.trading_requests()]

    return asyncio.run(main())


def test_binanceusdm_wire() -> None:
    quote, rollback = _creates("binanceusdm")
    assert {k: quote[k] for k in ("newClientOrderId", "timeInForce", "price", "quantity",
                                  "side", "type")} == {
        "newClientOrderId": "aet1Lq1", "timeInForce": "GTX", "price": "59994",
        "quantity": "0.5", "side": "BUY", "type": "LIMIT"}
    assert (rollback["newClientOrderId"], rollback["reduceOnly"], rollback["type"]) == (
        "aet1Sr1", "true", "MARKET")
    assert "price" not in rollback


def test_bybit_wire() -> None:
    quote, rollback = _creates("bybit")
    assert {k: quote[k] for k in ("orderLinkId", "timeInForce", "price", "qty", "side",
                                  "orderType", "category")} == {
        "orderLinkId": "aet1Lq1", "timeInForce": "PostOnly", "price": "59994",
        "qty": "0.5", "side": "Buy", "orderType": "Limit", "category": "linear"}
    assert (rollback["orderLinkId"], rollback["reduceOnly"], rollback["orderType"]) == (
        "aet1Sr1", True, "Market")


class Recorder:
    """Answers ccxt's ``fetch`` from canned real-format payloads; records every request."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def fetch(self, url: str, method: str = "GET", headers: Any = None,
                    body: Any = None) -> Any:
        parts = urlsplit(url)
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        if body:
            loaded = json.loads(body)
            params.update(loaded[0] if isinstance(loaded, list) else loaded)
        self.sent.append((method, parts.path, params))
        key = parts.path if parts.path != "/info" else f"/info:{params.get('type')}"
        if key not in self.answers:
            raise AssertionError(f"unexpected request {method} {key} {params}")
        return self.answers[key]


OKX_INSTRUMENT = {
    "alias": "", "baseCcy": "", "category": "1", "ctMult": "1", "ctType": "linear",
    "ctVal": "0.01", "ctValCcy": "BTC", "expTime": "", "instFamily": "BTC-USDT",
    "instId": "BTC-USDT-SWAP", "instType": "SWAP", "lever": "100",
    "listTime": "1573557408000", "lotSz": "0.01", "maxIcebergSz": "100000000",
    "maxLmtAmt": "20000000", "maxLmtSz": "100000000", "maxMktAmt": "", "maxMktSz": "12000",
    "maxStopSz": "12000", "maxTriggerSz": "100000000", "maxTwapSz": "100000000",
    "minSz": "0.01", "optType": "", "quoteCcy": "", "settleCcy": "USDT", "state": "live",
    "stk": "", "tickSz": "0.1", "uly": "BTC-USDT",
}
OKX_ORDER_ACK = {"code": "0", "msg": "", "inTime": "1695190491421339",
                 "outTime": "1695190491423240",
                 "data": [{"clOrdId": "aet1Lq1", "ordId": "312269865356374016", "tag": "",
                           "ts": "1695190491421", "sCode": "0", "sMsg": "Order placed"}]}


def _run_recorded(exchange: str, answers: dict[str, Any], orders: list[PlaceOrder],
                  credentials: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    async def main() -> list[tuple[str, str, dict[str, Any]]]:
        venue = CcxtVenue("v", exchange, credentials=credentials, sandbox=False,
                          post_only_quotes=True, config={"timeout_on_exit": 0})
        recorder = Recorder(answers)
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        try:
            for order in orders:
                await venue.place(order)
        finally:
            await venue.close()
        return [r for r in recorder.sent if r[0] == "POST" and r[1] != "/info"]

    return asyncio.run(main())


def test_okx_wire_counts_contracts_and_uses_clordid() -> None:
    answers = {"/api/v5/public/instruments": {"code": "0", "msg": "",
                                              "data": [OKX_INSTRUMENT]},
               # ccxt's okx creates through the batch endpoint (one order per batch)
               "/api/v5/trade/batch-orders": OKX_ORDER_ACK}
    creds = {"apiKey": "k" * 8, "secret": "s" * 8, "password": "p" * 8}
    quote, rollback = _run_recorded("okx", answers, [QUOTE, ROLLBACK], creds)
    q = quote[2]
    # 0.5 BTC at 0.01 BTC per contract is 50 contracts; buy price rounded down
    assert {k: q[k] for k in ("instId", "clOrdId", "ordType", "sz", "px", "side")} == {
        "instId": "BTC-USDT-SWAP", "clOrdId": "aet1Lq1", "ordType": "post_only",
        "sz": "50", "px": "59994.3", "side": "buy"}
    r = rollback[2]
    assert (r["clOrdId"], r["reduceOnly"], r["ordType"], r["sz"]) == (
        "aet1Sr1", True, "market", "2")


HL_META = [
    {"universe": [{"szDecimals": 5, "name": "BTC", "maxLeverage": 40, "marginTableId": 56}],
     "marginTables": []},
    [{"funding": "0.0000125", "openInterest": "27000.1", "prevDayPx": "59000.0",
      "dayNtlVlm": "1500000000.0", "premium": "0.0001", "oraclePx": "60000.0",
      "markPx": "60000.0", "midPx": "60000.5", "impactPxs": ["60000.0", "60001.0"],
      "dayBaseVlm": "25000.0"}],
]
HL_ACK = {"status": "ok", "response": {"type": "order", "data": {
    "statuses": [{"resting": {"oid": 77738308}}]}}}
HL_BOOK = {"coin": "BTC", "time": 1700000000000, "levels": [
    [{"px": "60000.0", "sz": "2.0", "n": 3}], [{"px": "60001.0", "sz": "2.0", "n": 2}]]}


def test_hyperliquid_wire_cloid_market_price_and_no_builder() -> None:
    answers = {"/info:metaAndAssetCtxs": HL_META, "/info:meta": HL_META[0],
               "/info:l2Book": HL_BOOK, "/exchange": HL_ACK}
    creds = {"walletAddress": "0x" + "ab" * 20, "privateKey": "0x" + "11" * 32}
    orders = [attrs.evolve(o, symbol="BTC/USDC:USDC") for o in (QUOTE, ROLLBACK)]
    quote, rollback = _run_recorded("hyperliquid", answers, orders, creds)
    q = quote[2]["action"]
    assert q["type"] == "order" and "builder" not in q
    wire = q["orders"][0]
    assert wire["c"] == hyperliquid_cloid("aet1Lq1") and len(wire["c"]) == 34
    assert (wire["b"], wire["s"], wire["r"], wire["t"]) == (True, "0.5", False,
                                                            {"limit": {"tif": "Alo"}})
    r = rollback[2]["action"]["orders"][0]
    assert r["c"] == hyperliquid_cloid("aet1Sr1") and r["r"] is True
    assert r["t"] == {"limit": {"tif": "Ioc"}} and Decimal(r["p"]) > Decimal("60001")
    assert [quote[1], rollback[1]] == ["/exchange", "/exchange"]


@pytest.mark.parametrize("cid", ["aet1Lq1", "aeXYZLh12"])
def test_hyperliquid_cloid_is_deterministic_128_bit_hex(cid: str) -> None:
    cloid = hyperliquid_cloid(cid)
    assert cloid == hyperliquid_cloid(cid) and cloid != hyperliquid_cloid(cid + "0")
    assert cloid.startswith("0x") and int(cloid, 16) < 2**128 and len(cloid) == 34
