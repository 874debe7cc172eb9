"""bybit v5 (linear) double, REST; its private websocket is ``bybit_ws.py`` on top of it.

Shapes follow bybit's v5 documentation: every answer is an envelope
``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` with HTTP 200 even for
errors; create and cancel answer only ``orderId``/``orderLinkId``; a PostOnly order
that would take is accepted and then Cancelled with ``EC_PostOnlyWillTakeLiquidity``;
a cancel of a filled order answers 110001 "order not exists or too late to cancel".
"""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.doubles.account import AccountState
from tests.doubles.core import FakeExchange, Order, Refused, Trade, purpose_of

SYMBOLS = {"BTCUSDT": "BTC"}

_ERRORS = {
    "not_found_cancel": (110001, "order not exists or too late to cancel"),
    "not_found": (110001, "order not exists or too late to cancel"),
    "duplicate": (110072, "OrderLinkedID is duplicate"),
    "lot": (10001, "Qty invalid"),
    "tick": (10001, "price invalid"),
    "notional": (110094, "Order does not meet minimum order value 5USDT"),
    "reduce_only": (110017, "current position is zero, cannot fix reduce-only order qty"),
    "bad_symbol": (10001, "params error: symbol invalid"),
    "margin": (110007, "ab not enough for new order"),
    "position_idx": (10001, "position idx not match position mode"),
    "rate_limit": (10006, "Too many visits. Exceeded the API Rate Limit."),
}
_STATUS = {"new": "New", "partially_filled": "PartiallyFilled", "filled": "Filled",
           "canceled": "Cancelled", "expired": "Cancelled", "rejected": "Rejected"}
_TIF = {"gtc": "GTC", "ioc": "IOC", "post_only": "PostOnly"}


def _d(value: Decimal | None) -> str:
    return "0" if value is None else format(value.normalize(), "f")


class BybitDouble:
    def __init__(self, core: FakeExchange) -> None:
        self.core = core
        self.account = AccountState()

    def envelope(self, result: Any, code: int = 0, msg: str = "OK") -> web.Response:
        return web.json_response({"retCode": code, "retMsg": msg, "result": result,
                                  "retExtInfo": {}, "time": self.core.now_ms()})

    def error(self, kind: str) -> web.Response:
        code, msg = _ERRORS[kind]
        return self.envelope({}, code, msg)

    def order_json(self, o: Order) -> dict[str, Any]:
        status = _STATUS[o.status]
        if o.status in ("canceled", "expired") and o.filled > 0:
            status = "PartiallyFilledCanceled"
        return {
            "orderId": str(uuid.UUID(int=o.order_id)), "orderLinkId": o.client_id,
            "blockTradeId": "", "symbol": o.symbol, "price": _d(o.price), "qty": _d(o.qty),
            "side": o.side.capitalize(), "isLeverage": "", "positionIdx": 0,
            "orderStatus": status, "cancelType": "CancelByUser" if o.status == "canceled"
            else "UNKNOWN",
            "rejectReason": "EC_PostOnlyWillTakeLiquidity" if o.reject_reason == "post_only"
            else "EC_NoError",
            "avgPrice": _d(o.avg_price) if o.filled else "", "leavesQty": _d(o.remaining)
            if o.live else "0", "leavesValue": "0", "cumExecQty": _d(o.filled),
            "cumExecValue": _d(o.notional), "cumExecFee": _d(sum((t.fee for t in o.trades),
                                                                 Decimal(0))),
            "timeInForce": _TIF[o.tif] if o.kind == "limit" else "IOC",
            "orderType": o.kind.capitalize(), "stopOrderType": "", "orderIv": "",
            "triggerPrice": "", "takeProfit": "", "stopLoss": "", "tpTriggerBy": "",
            "slTriggerBy": "", "triggerDirection": 0, "triggerBy": "",
            "lastPriceOnCreated": "", "reduceOnly": o.reduce_only, "closeOnTrigger": False,
            "smpType": "None", "smpGroup": 0, "smpOrderId": "", "tpslMode": "",
            "tpLimitPrice": "", "slLimitPrice": "", "placeType": "",
            "createdTime": str(o.created_ms), "updatedTime": str(o.updated_ms),
        }

    def execution_json(self, o: Order, t: Trade) -> dict[str, Any]:
        return {
            "symbol": o.symbol, "orderType": o.kind.capitalize(), "underlyingPrice": "",
            "orderLinkId": o.client_id, "side": o.side.capitalize(), "indexPrice": "",
            "orderId": str(uuid.UUID(int=o.order_id)), "stopOrderType": "UNKNOWN",
            "leavesQty": _d(o.remaining), "execTime": str(t.time_ms), "feeCurrency": "",
            "isMaker": t.maker, "execFee": _d(t.fee), "feeRate": "0.0002",
            "execId": str(uuid.UUID(int=t.trade_id)), "tradeIv": "", "blockTradeId": "",
            "markPrice": _d(t.price), "execPrice": _d(t.price), "markIv": "",
            "orderQty": _d(o.qty), "orderPrice": _d(o.price), "execValue": _d(t.qty * t.price),
            "execType": "Trade", "execQty": _d(t.qty), "closedSize": "", "seq": t.trade_id,
        }

    def instrument(self, symbol: str, base: str) -> dict[str, Any]:
        r = self.core.rules
        return {
            "symbol": symbol, "contractType": "LinearPerpetual", "status": "Trading",
            "baseCoin": base, "quoteCoin": "USDT", "launchTime": "1585526400000",
            "deliveryTime": "0", "deliveryFeeRate": "", "priceScale": "2",
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00",
                               "leverageStep": "0.01"},
            "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80",
                            "tickSize": _d(r.tick)},
            "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": _d(r.min_qty),
                              "qtyStep": _d(r.lot), "postOnlyMaxOrderQty": "1190.000",
                              "maxMktOrderQty": "500.000",
                              "minNotionalValue": _d(r.min_notional)},
            "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": "USDT",
            "copyTrading": "both", "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375", "isPreListing": False,
            "preListingInfo": None, "riskParameters": {"priceLimitRatioX": "0.01",
                                                       "priceLimitRatioY": "0.02"},
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            body = await request.text()
            if body:
                params.update(json.loads(body))
        self.core.record(request.method, request.path, params)
        try:
            return await self._route(request.path, params)
        except Refused as refused:
            return self.error(refused.kind)

    async def _route(self, path: str, p: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        if path == "/v5/market/instruments-info":
            items = [self.instrument(s, b) for s, b in SYMBOLS.items()]
            if p.get("category") != "linear":
                items = []
            return self.envelope({"category": p.get("category"), "list": items,
                                  "nextPageCursor": ""})
        if path == "/v5/market/orderbook":
            bids, asks = core.books[p["symbol"]]
            return self.envelope({"s": p["symbol"], "b": [[_d(a), _d(b)] for a, b in bids],
                                  "a": [[_d(a), _d(b)] for a, b in asks],
                                  "ts": core.now_ms(), "u": 18521288, "seq": 7961638724,
                                  "cts": core.now_ms()})
        if path == "/v5/user/query-api":
            return self.envelope({"id": "13770661", "note": "double", "apiKey": "<hidden>",
                                  "readOnly": 0 if self.account.can_trade else 1,
                                  "secret": "", "permissions": {
                                      "ContractTrade": ["Order", "Position"]},
                                  "ips": ["*"], "type": 1, "deadlineDay": 83,
                                  "unified": 0, "uta": 1, "userID": 24600000,
                                  "isMaster": True, "parentUid": "0"})
        if path == "/v5/account/info":
            margin = "ISOLATED_MARGIN" if self.account.margin == "isolated" else "REGULAR_MARGIN"
            return self.envelope({"unifiedMarginStatus": 5, "marginMode": margin,
                                  "isMasterTrader": False, "spotHedgingStatus": "OFF",
                                  "updatedTime": "1697078946000", "dcpStatus": "OFF",
                                  "timeWindow": 10, "smpGroup": 0})
        if path == "/v5/account/fee-rate":
            return self.envelope({"list": [{"symbol": p.get("symbol", "BTCUSDT"),
                                            "takerFeeRate": _d(core.rules.taker_fee),
                                            "makerFeeRate": _d(core.rules.maker_fee)}]})
        if path == "/v5/position/list":
            return self.envelope({"category": "linear", "nextPageCursor": "",
                                  "list": [row for s in SYMBOLS if p.get("symbol") in (None, s)
                                           for row in self._positions(s)]})
        if path in ("/v5/position/switch-mode", "/v5/position/set-leverage",
                    "/v5/account/set-margin-mode"):
            return self._set_up(path, p)
        if path == "/v5/order/create":
            return await self._create(p)
        if path == "/v5/order/cancel":
            order = self._find(p)
            try:
                order = core.cancel(order.client_id)
            except Refused:
                return self.error("not_found_cancel")
            return self.envelope({"orderId": str(uuid.UUID(int=order.order_id)),
                                  "orderLinkId": order.client_id})
        if path == "/v5/order/amend":
            order = core.amend(self._find(p), Decimal(p["price"]))
            return self.envelope({"orderId": str(uuid.UUID(int=order.order_id)),
                                  "orderLinkId": order.client_id})
        if path in ("/v5/order/realtime", "/v5/order/history"):
            try:
                order = self._find(p)
                rows = [self.order_json(order)]
                if path.endswith("realtime") and not order.live:
                    rows = rows  # UTA: realtime also lists recent closed orders
            except Refused:
                rows = []
            return self.envelope({"list": rows, "nextPageCursor": "", "category": "linear"})
        if path == "/v5/execution/list":
            rows = [self.execution_json(o, t) for o in core.orders.values() for t in o.trades
                    if ("orderId" not in p or str(uuid.UUID(int=o.order_id)) == p["orderId"])]
            return self.envelope({"list": rows, "nextPageCursor": "", "category": "linear"})
        core.unknown_routes.append(path)
        return self.envelope({}, 10001, f"double: no route {path}")

    def _set_up(self, path: str, p: dict[str, Any]) -> web.Response:
        """The account set-up endpoints (``tests.doubles.account``)."""
        account = self.account
        if path.endswith("switch-mode"):
            account.hedge = str(p["mode"]) == "3"
            account.changes.append(f"hedge {account.hedge}")
        elif path.endswith("set-leverage"):
            account.leverage = Decimal(str(p["buyLeverage"]))
            account.changes.append(f"leverage {p['buyLeverage']}")
        else:
            account.margin = "isolated" if p["setMarginMode"] == "ISOLATED_MARGIN" else "cross"
            account.changes.append(f"margin {account.margin}")
        return self.envelope({})

    def _positions(self, symbol: str) -> list[dict[str, Any]]:
        """One row (positionIdx 0) in one-way mode; a long and a short row in hedge mode."""
        row = self._position(symbol)
        row["leverage"] = _d(self.account.leverage)
        if not self.account.hedge:
            return [row]
        return [dict(row, positionIdx=1, side="Buy"), dict(row, positionIdx=2, side="Sell")]

    def _position(self, symbol: str) -> dict[str, Any]:
        size = self.core.positions[symbol]
        side = "Buy" if size > 0 else "Sell" if size < 0 else ""
        return {"positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "symbol": symbol,
                "side": side, "size": _d(abs(size)), "avgPrice": "0", "positionValue": "0",
                "tradeMode": 0, "positionStatus": "Normal", "autoAddMargin": 0,
                "adlRankIndicator": 0, "leverage": "10", "positionBalance": "0",
                "markPrice": "60000", "liqPrice": "", "bustPrice": "", "positionMM": "0",
                "positionIM": "0", "tpslMode": "Full", "takeProfit": "0", "stopLoss": "0",
                "trailingStop": "0", "unrealisedPnl": "0", "curRealisedPnl": "0",
                "cumRealisedPnl": "0", "seq": 1, "isReduceOnly": False,
                "createdTime": "1676538056258", "updatedTime": str(self.core.now_ms())}

    def _find(self, p: dict[str, Any]) -> Order:
        if p.get("orderLinkId"):
            return self.core.lookup(client_id=p["orderLinkId"])
        return self.core.lookup(order_id=uuid.UUID(p["orderId"]).int)

    async def _create(self, p: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        cid = p.get("orderLinkId", "")
        purpose = purpose_of(cid) or ""
        if core.script.rate_limited(cid):
            return self.error("rate_limit")
        if self.account.hedge and str(p.get("positionIdx", 0)) == "0":
            return self.error("position_idx")
        kind = p["orderType"].lower()
        tif = {"GTC": "gtc", "IOC": "ioc", "PostOnly": "post_only"}[p.get("timeInForce", "GTC")]
        order = core.create(client_id=cid, symbol=p["symbol"], side=p["side"].lower(),
                            kind=kind, qty=Decimal(p["qty"]),
                            price=Decimal(p["price"]) if kind == "limit" else None,
                            tif=tif if kind == "limit" else "ioc",
                            reduce_only=bool(p.get("reduceOnly")))
        hang = core.script.hang_create.pop(purpose, None)
        if hang is not None:
            await asyncio.sleep(hang)
        return self.envelope({"orderId": str(uuid.UUID(int=order.order_id)),
                              "orderLinkId": order.client_id})
