"""binanceusdm (USDⓈ-M futures) double: REST on fapi and the user-data websocket.

Shapes follow Binance's futures API documentation (exchangeInfo filters, order and
userTrades fields, ``{"code": -2011, "msg": ...}`` errors, ORDER_TRADE_UPDATE events).
A post-only (GTX) order that would take is refused with -5022 and not recorded, as the
real venue does; a cancel of a filled order answers -2011 "Unknown order sent.".
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.doubles.account import AccountState
from tests.doubles.core import FakeExchange, Order, Refused, Trade, purpose_of
from tests.doubles.sockets import SocketFront, Sockets

SYMBOLS = {"BTCUSDT": "BTC"}

_ERRORS = {
    "not_found_cancel": (400, -2011, "Unknown order sent."),
    "not_found": (400, -2013, "Order does not exist."),
    "duplicate": (400, -4116, "ClientOrderId is duplicated."),
    "lot": (400, -1111, "Precision is over the maximum defined for this asset."),
    "tick": (400, -4014, "Price not increased by tick size."),
    "notional": (400, -4164, "Order's notional must be no smaller than 5 "
                             "(unless you choose reduce only)."),
    "reduce_only": (400, -2022, "ReduceOnly Order is rejected."),
    "post_only": (400, -5022, "Due to the order could not be executed as maker, the Post "
                              "Only order will be rejected. The order will not be recorded "
                              "in the order history"),
    "bad_symbol": (400, -1121, "Invalid symbol."),
    "margin": (400, -2019, "Margin is insufficient."),
    "bad_order_id": (400, -1102, "Mandatory parameter 'orderId' was not sent, was empty/null, "
                                 "or malformed."),
    "position_side": (400, -4061, "Order's position side does not match user's setting."),
    "rate_limit": (429, -1003, "Too many requests; current limit is 2400 requests per "
                               "minute. Please use the websocket for live updates to avoid "
                               "polling the API."),
}
_STATUS = {"new": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED",
           "canceled": "CANCELED", "expired": "EXPIRED", "rejected": "REJECTED"}
_TIF = {"gtc": "GTC", "ioc": "IOC", "post_only": "GTX"}


def _error(kind: str) -> web.Response:
    status, code, msg = _ERRORS[kind]
    return web.json_response({"code": code, "msg": msg}, status=status)


def _d(value: Decimal | None) -> str:
    return "0" if value is None else format(value.normalize(), "f")


_USER = "user"  # the one topic of a user-data stream: every order push of the account


async def _no_answer(ws: web.WebSocketResponse, subscribed: set[str], frame: str) -> list[Any]:
    """A user-data stream takes no frames from the client (ccxt sends none)."""
    return []


class BinanceDouble(SocketFront):
    def __init__(self, core: FakeExchange) -> None:
        self.core = core
        self.ws = Sockets(core)
        self.account = AccountState()
        core.listeners.append(self._on_event)

    # -- payloads --------------------------------------------------------------------------

    def order_json(self, o: Order) -> dict[str, Any]:
        return {
            "orderId": o.order_id, "symbol": o.symbol, "status": _STATUS[o.status],
            "clientOrderId": o.client_id, "price": _d(o.price),
            "avgPrice": _d(o.avg_price), "origQty": _d(o.qty), "executedQty": _d(o.filled),
            "cumQty": _d(o.filled), "cumQuote": _d(o.notional),
            "timeInForce": _TIF[o.tif], "type": o.kind.upper(), "reduceOnly": o.reduce_only,
            "closePosition": False, "side": o.side.upper(), "positionSide": "BOTH",
            "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": False,
            "origType": o.kind.upper(), "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE", "goodTillDate": 0,
            "time": o.created_ms, "updateTime": o.updated_ms,
        }

    def trade_json(self, o: Order, t: Trade) -> dict[str, Any]:
        return {
            "buyer": o.side == "buy", "commission": _d(t.fee), "commissionAsset": "USDT",
            "id": t.trade_id, "maker": t.maker, "orderId": o.order_id, "price": _d(t.price),
            "qty": _d(t.qty), "quoteQty": _d(t.qty * t.price), "realizedPnl": "0",
            "side": o.side.upper(), "positionSide": "BOTH", "symbol": o.symbol,
            "time": t.time_ms,
        }

    def exchange_info(self) -> dict[str, Any]:
        r = self.core.rules
        symbols = []
        for symbol, base in SYMBOLS.items():
            symbols.append({
                "symbol": symbol, "pair": symbol, "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000, "onboardDate": 1569398400000,
                "status": "TRADING", "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000", "baseAsset": base, "quoteAsset": "USDT",
                "marginAsset": "USDT", "pricePrecision": 2, "quantityPrecision": 3,
                "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
                "underlyingSubType": ["PoW"], "settlePlan": 0, "triggerProtect": "0.0500",
                "liquidationFee": "0.012500", "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": [
                    {"filterType": "PRICE_FILTER", "maxPrice": "4529764", "minPrice": "556.80",
                     "tickSize": _d(r.tick)},
                    {"filterType": "LOT_SIZE", "maxQty": "1000", "minQty": _d(r.min_qty),
                     "stepSize": _d(r.lot)},
                    {"filterType": "MARKET_LOT_SIZE", "maxQty": "120",
                     "minQty": _d(r.min_qty), "stepSize": _d(r.lot)},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                    {"filterType": "MIN_NOTIONAL", "notional": _d(r.min_notional)},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500",
                     "multiplierDown": "0.9500", "multiplierDecimal": "4"},
                ],
                "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                               "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            })
        return {"timezone": "UTC", "serverTime": self.core.now_ms(), "futuresType": "U_MARGINED",
                "rateLimits": [], "exchangeFilters": [], "assets": [], "symbols": symbols}

    # -- websocket -----------------------------------------------------------------------

    def _on_event(self, what: str, o: Order, t: Trade | None) -> None:
        execution = {"new": "NEW", "trade": "TRADE", "canceled": "CANCELED",
                     "expired": "EXPIRED", "amended": "AMENDMENT"}[what]
        event = {
            "e": "ORDER_TRADE_UPDATE", "E": self.core.now_ms(), "T": o.updated_ms,
            "o": {
                "s": o.symbol, "c": o.client_id, "S": o.side.upper(), "o": o.kind.upper(),
                "f": _TIF[o.tif], "q": _d(o.qty), "p": _d(o.price), "ap": _d(o.avg_price),
                "sp": "0", "x": execution, "X": _STATUS[o.status], "i": o.order_id,
                "l": _d(t.qty) if t else "0", "z": _d(o.filled),
                "L": _d(t.price) if t else "0", "N": "USDT", "n": _d(t.fee) if t else "0",
                "T": o.updated_ms, "t": t.trade_id if t else 0, "b": "0", "a": "0",
                "m": t.maker if t else False, "R": o.reduce_only, "wt": "CONTRACT_PRICE",
                "ot": o.kind.upper(), "ps": "BOTH", "cp": False, "rp": "0", "pP": False,
                "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0,
            },
        }
        self.ws.push(_USER, event)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        return await self.ws.serve(request, _no_answer, follow=frozenset({_USER}))

    # -- REST ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            params.update(dict(await request.post()))
        path = request.path
        self.core.record(request.method, path, params)
        try:
            return await self._route(request.method, path, params)
        except Refused as refused:
            return _error(refused.kind)

    async def _route(self, method: str, path: str, p: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        if path == "/fapi/v1/exchangeInfo":
            return web.json_response(self.exchange_info())
        if path == "/fapi/v1/depth":
            bids, asks = core.books[p["symbol"]]
            return web.json_response({
                "lastUpdateId": 1027024, "E": core.now_ms(), "T": core.now_ms(),
                "bids": [[_d(a), _d(b)] for a, b in bids],
                "asks": [[_d(a), _d(b)] for a, b in asks]})
        if path == "/fapi/v1/commissionRate":
            return web.json_response({"symbol": p["symbol"],
                                      "makerCommissionRate": _d(core.rules.maker_fee),
                                      "takerCommissionRate": _d(core.rules.taker_fee)})
        if path in ("/fapi/v2/positionRisk", "/fapi/v3/positionRisk"):
            return web.json_response([self._position(s) for s in SYMBOLS
                                      if "symbol" not in p or p["symbol"] == s])
        if path == "/fapi/v1/leverageBracket":
            return web.json_response([{"symbol": s, "brackets": [
                {"bracket": 1, "initialLeverage": 125, "notionalCap": 50000,
                 "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0}]}
                for s in SYMBOLS])
        answer = self._account(method, path, p)
        if answer is not None:
            return web.json_response(answer)
        if path == "/fapi/v1/listenKey":
            return web.json_response({"listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61"
                                                   "cv6a81va65sdf19v8a65a1"})
        if path == "/fapi/v1/order":
            return await self._order(method, p)
        if path == "/fapi/v1/userTrades":
            orders = [o for o in core.orders.values() if o.symbol == p["symbol"]
                      and ("orderId" not in p or o.order_id == int(p["orderId"]))]
            return web.json_response([self.trade_json(o, t) for o in orders for t in o.trades])
        core.unknown_routes.append(f"{method} {path}")
        return web.json_response({"code": -1000, "msg": f"double: no route {path}"}, status=404)

    def _account(self, method: str, path: str, p: dict[str, Any]) -> Any:
        """The account set-up endpoints (``tests.doubles.account``); None: not one of them."""
        account = self.account
        if path == "/fapi/v1/positionSide/dual" and method == "GET":
            return {"dualSidePosition": account.hedge}
        if path == "/fapi/v1/positionSide/dual":
            account.hedge = p["dualSidePosition"] == "true"
            account.changes.append(f"hedge {account.hedge}")
            return {"code": 200, "msg": "success"}
        if path == "/fapi/v1/symbolConfig":
            return [{"symbol": s, "marginType": "CROSSED" if account.margin == "cross"
                     else "ISOLATED", "isAutoAddMargin": "false",
                     "leverage": int(account.leverage), "maxNotionalValue": "1000000"}
                    for s in SYMBOLS if p.get("symbol") in (None, s)]
        if path == "/fapi/v1/marginType":
            account.margin = "cross" if p["marginType"] in ("CROSS", "CROSSED") else "isolated"
            account.changes.append(f"margin {account.margin}")
            return {"code": 200, "msg": "success"}
        if path == "/fapi/v1/leverage":
            account.leverage = Decimal(p["leverage"])
            account.changes.append(f"leverage {p['leverage']}")
            return {"leverage": int(account.leverage), "maxNotionalValue": "1000000",
                    "symbol": p["symbol"]}
        if path in ("/fapi/v2/account", "/fapi/v3/account"):
            return {"canTrade": account.can_trade, "canDeposit": True, "canWithdraw": True,
                    "feeTier": 0, "multiAssetsMargin": False, "assets": [], "positions": []}
        return None

    def _position(self, symbol: str) -> dict[str, Any]:
        amt = self.core.positions[symbol]
        entry = "60000.0" if amt else "0.0"  # binance reports the entry of an open position
        return {"symbol": symbol, "positionSide": "BOTH", "positionAmt": _d(amt),
                "entryPrice": entry, "breakEvenPrice": entry, "markPrice": "60000.0",
                "unRealizedProfit": "0.00000000", "liquidationPrice": "0",
                "isolatedMargin": "0", "notional": _d(amt * 60000), "marginAsset": "USDT",
                "isolatedWallet": "0", "initialMargin": "0", "maintMargin": "0",
                "positionInitialMargin": "0", "openOrderInitialMargin": "0", "adl": 0,
                "bidNotional": "0", "askNotional": "0", "updateTime": self.core.now_ms()}

    def _find(self, p: dict[str, Any]) -> Order:
        """Binance reads ``orderId`` first when both are sent, and wants it numeric."""
        if "orderId" in p:
            if not p["orderId"].isdigit():
                raise Refused("bad_order_id", p["orderId"])
            return self.core.lookup(order_id=int(p["orderId"]))
        return self.core.lookup(client_id=p["origClientOrderId"])

    async def _order(self, method: str, p: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        if method == "GET":
            return web.json_response(self.order_json(self._find(p)))
        if method == "DELETE":
            try:
                order = self._find(p)
                order = core.cancel(order.client_id)
            except Refused as refused:
                if refused.kind == "not_found":
                    return _error("not_found_cancel")
                raise
            return web.json_response(self.order_json(order))
        if method == "PUT":
            order = self._find(p)
            return web.json_response(self.order_json(core.amend(order, Decimal(p["price"]))))
        return await self._create(p)

    async def _create(self, p: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        cid = p.get("newClientOrderId", "")
        purpose = purpose_of(cid)
        if core.script.rate_limited(cid):
            return _error("rate_limit")
        if self.account.hedge and p.get("positionSide", "BOTH") == "BOTH":
            return _error("position_side")
        tif = {"GTC": "gtc", "IOC": "ioc", "GTX": "post_only"}[p.get("timeInForce", "GTC")]
        kind = p["type"].lower()
        price = Decimal(p["price"]) if "price" in p else None
        if tif == "post_only" and core.would_take(p["symbol"], p["side"].lower(), price):
            return _error("post_only")
        order = core.create(client_id=cid, symbol=p["symbol"], side=p["side"].lower(),
                            kind=kind, qty=Decimal(p["quantity"]), price=price,
                            tif=tif if kind == "limit" else "ioc",
                            reduce_only=p.get("reduceOnly") == "true")
        hang = core.script.hang_create.pop(purpose or "", None)
        if hang is not None:
            await asyncio.sleep(hang)
        return web.json_response(self.order_json(order))
