"""okx v5 (USDT swaps) double: REST and the private ``orders`` websocket channel.

Shapes follow okx's v5 documentation and ccxt's static fixtures: every answer is
``{"code", "msg", "data": [...]}``; order calls answer per order with ``sCode``/``sMsg``
(``code`` "1" when all failed); sizes are in contracts (here 0.001 BTC each, so the
adapter's contract conversion is on the path of every order); a post_only order that
would take is accepted and then canceled; a cancel of a filled order answers 51400;
the websocket wants a ``login`` before ``subscribe`` and a text ``ping`` keeps it up.
The ``orders`` channel carries the fills (``fillSz``/``fillPx``/``tradeId``/``fillFee``),
which is all ccxt's watch_my_trades reads on okx.
The account set-up (``tests.doubles.account``) answers ``/api/v5/account/config``
(``posMode``), ``leverage-info`` and takes ``set-leverage`` and ``set-position-mode``; okx
keeps a leverage per margin mode, the double one for both (the mode asked is echoed and
recorded, which is what a test checks).
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.doubles.account import AccountState
from tests.doubles.core import FakeExchange, Order, Refused, Trade, purpose_of
from tests.doubles.sockets import SocketFront, Sockets

INSTRUMENTS = {"BTC-USDT-SWAP": "BTCUSDT"}  # okx instId -> the core's symbol
CONTRACT = Decimal("0.001")  # BTC per contract (okx's ctVal)

_ERRORS = {
    "not_found_cancel": ("51400", "Order cancellation failed as the order has been filled, "
                                  "canceled or does not exist"),
    "not_found": ("51603", "Order does not exist"),
    "duplicate": ("51016", "Duplicated clOrdId"),
    "lot": ("51121", "Order quantity must be a multiple of the lot size"),
    "tick": ("51000", "Parameter px error"),
    "notional": ("51020", "Order amount should be greater than the min available amount"),
    "reduce_only": ("51169", "Order failed because you don't have any positions in this "
                             "direction for this contract to reduce or close."),
    "bad_symbol": ("51001", "Instrument ID does not exist"),
    "margin": ("51008", "Order failed. Insufficient USDT margin in account"),
    "rate_limit": ("50011", "Rate limit reached. Please refer to API documentation and "
                            "throttle requests accordingly."),
}
_STATE = {"new": "live", "partially_filled": "partially_filled", "filled": "filled",
          "canceled": "canceled", "expired": "canceled", "rejected": "canceled"}
_ORD_TYPE = {"gtc": "limit", "ioc": "ioc", "post_only": "post_only"}


def _d(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _contracts(qty: Decimal) -> str:
    return _d(qty / CONTRACT)


def _inst(symbol: str) -> str:
    return next(i for i, s in INSTRUMENTS.items() if s == symbol)


class OkxDouble(SocketFront):
    def __init__(self, core: FakeExchange) -> None:
        self.core = core
        self.ws = Sockets(core)
        self.account = AccountState()
        core.listeners.append(self._on_event)

    # -- payloads --------------------------------------------------------------------------

    def envelope(self, data: list[Any], code: str = "0", msg: str = "") -> web.Response:
        return web.json_response({"code": code, "msg": msg, "data": data})

    def error(self, kind: str, cid: str = "") -> web.Response:
        code, msg = _ERRORS[kind]
        status = 429 if kind == "rate_limit" else 200
        return web.json_response({"code": "1", "msg": "All operations failed", "data": [
            {"clOrdId": cid, "ordId": "", "tag": "", "ts": str(self.core.now_ms()),
             "sCode": code, "sMsg": msg}]}, status=status)

    def ack(self, o: Order) -> dict[str, Any]:
        return {"clOrdId": o.client_id, "ordId": str(o.order_id), "tag": "", "reqId": "",
                "ts": str(self.core.now_ms()), "sCode": "0", "sMsg": ""}

    def order_json(self, o: Order, t: Trade | None = None) -> dict[str, Any]:
        last = t if t is not None else (o.trades[-1] if o.trades else None)
        fee = sum((x.fee for x in o.trades), Decimal(0))
        return {
            "instType": "SWAP", "instId": _inst(o.symbol), "tgtCcy": "", "ccy": "",
            "ordId": str(o.order_id), "clOrdId": o.client_id, "tag": "",
            "px": _d(o.price), "sz": _contracts(o.qty),
            "ordType": "market" if o.kind == "market" else _ORD_TYPE[o.tif],
            "side": o.side, "posSide": "net", "tdMode": "cross",
            "accFillSz": _contracts(o.filled), "avgPx": _d(o.avg_price) if o.filled else "",
            "fillPx": _d(last.price) if last else "", "tradeId": str(last.trade_id) if last
            else "", "fillSz": _contracts(t.qty) if t else "0",
            "fillTime": str(last.time_ms) if last else "",
            "fillFee": _d(-t.fee) if t else "0", "fillFeeCcy": "USDT" if t else "",
            "execType": ("M" if t.maker else "T") if t else "",
            "state": _STATE[o.status], "lever": "10", "feeCcy": "USDT", "fee": _d(-fee),
            "rebateCcy": "USDT", "rebate": "0", "pnl": "0", "category": "normal",
            "reduceOnly": "true" if o.reduce_only else "false",
            "cancelSource": "31" if o.reject_reason == "post_only" else
            ("1" if o.status == "canceled" else ""), "amendResult": "", "code": "0",
            "msg": "", "stpMode": "cancel_maker", "attachAlgoOrds": [],
            "uTime": str(o.updated_ms), "cTime": str(o.created_ms),
        }

    def fill_json(self, o: Order, t: Trade) -> dict[str, Any]:
        return {
            "instType": "SWAP", "instId": _inst(o.symbol), "tradeId": str(t.trade_id),
            "ordId": str(o.order_id), "clOrdId": o.client_id, "billId": str(t.trade_id + 1),
            "subType": "1", "tag": "", "fillPx": _d(t.price), "fillSz": _contracts(t.qty),
            "fillIdxPx": _d(t.price), "fillPnl": "0", "fillMarkPx": _d(t.price),
            "side": o.side, "posSide": "net", "execType": "M" if t.maker else "T",
            "feeCcy": "USDT", "fee": _d(-t.fee), "ts": str(t.time_ms),
            "fillTime": str(t.time_ms),
            "feeRate": _d(-(self.core.rules.maker_fee if t.maker else self.core.rules.taker_fee)),
        }

    def instrument(self, inst_id: str) -> dict[str, Any]:
        r = self.core.rules
        return {
            "alias": "", "baseCcy": "", "category": "1", "ctMult": "1", "ctType": "linear",
            "ctVal": _d(CONTRACT), "ctValCcy": "BTC", "expTime": "", "instFamily": "BTC-USDT",
            "instId": inst_id, "instType": "SWAP", "lever": "100",
            "listTime": "1573557408000", "lotSz": _contracts(r.lot),
            "maxIcebergSz": "100000000", "maxLmtAmt": "20000000", "maxLmtSz": "100000000",
            "maxMktAmt": "", "maxMktSz": "12000", "maxStopSz": "12000",
            "maxTriggerSz": "100000000", "maxTwapSz": "100000000",
            "minSz": _contracts(r.min_qty), "optType": "", "quoteCcy": "",
            "settleCcy": "USDT", "state": "live", "stk": "", "tickSz": _d(r.tick),
            "uly": "BTC-USDT",
        }

    # -- websocket -----------------------------------------------------------------------

    def _on_event(self, what: str, o: Order, t: Trade | None) -> None:
        row = self.order_json(o, t)
        if what == "amended":
            row["amendResult"] = "0"
        self.ws.push("orders", {"arg": {"channel": "orders", "instType": "ANY",
                                        "uid": "44705892343619584"}, "data": [row]})

    async def _frame(self, ws: web.WebSocketResponse, topics: set[str],
                     text: str) -> list[Any]:
        if text == "ping":
            return ["pong"]
        message = json.loads(text)
        op = message.get("op")
        if op == "login":
            return [{"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"}]
        if op == "subscribe":
            answers: list[Any] = []
            for arg in message.get("args", []):
                if arg.get("channel") == "orders":
                    topics.add("orders")
                answers.append({"event": "subscribe", "arg": arg, "connId": "a4d3ae55"})
                if arg.get("channel") == "books" and self.core.script.serve_books:
                    answers.append(self._book(arg))
            return answers
        return [{"event": "error", "code": "60012", "msg": f"Illegal request: {text}"}]

    def _book(self, arg: dict[str, Any]) -> dict[str, Any]:
        bids, asks = self.core.books[self._symbol(arg)]
        return {"arg": arg, "action": "snapshot", "data": [{
            "asks": [[_d(a), _contracts(b), "0", "1"] for a, b in asks],
            "bids": [[_d(a), _contracts(b), "0", "1"] for a, b in bids],
            "ts": str(self.core.now_ms()), "checksum": 0, "seqId": 1, "prevSeqId": -1}]}

    # -- REST ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.ws.serve(request, self._frame)
        params: dict[str, Any] = dict(request.query)
        batch: list[dict[str, Any]] = []
        if request.can_read_body:
            body = await request.text()
            if body:
                loaded = json.loads(body)
                batch = loaded if isinstance(loaded, list) else [loaded]
                params.update(batch[0])
        self.core.record(request.method, request.path, params)
        try:
            return await self._route(request.path, params, batch)
        except Refused as refused:
            return self.error(refused.kind, params.get("clOrdId", ""))

    async def _route(self, path: str, p: dict[str, Any],
                     batch: list[dict[str, Any]]) -> web.StreamResponse:
        core = self.core
        if path == "/api/v5/public/instruments":
            rows = [self.instrument(i) for i in INSTRUMENTS] if p.get("instType") == "SWAP" \
                else []
            return self.envelope(rows)
        if path == "/api/v5/market/books":
            bids, asks = core.books[self._symbol(p)]
            return self.envelope([{
                "asks": [[_d(a), _contracts(b), "0", "1"] for a, b in asks],
                "bids": [[_d(a), _contracts(b), "0", "1"] for a, b in bids],
                "ts": str(core.now_ms())}])
        if path == "/api/v5/account/trade-fee":
            maker, taker = _d(-core.rules.maker_fee), _d(-core.rules.taker_fee)
            return self.envelope([{"category": "1", "delivery": "", "exercise": "",
                                   "instType": "SWAP", "level": "Lv1", "maker": maker,
                                   "taker": taker, "makerU": maker, "takerU": taker,
                                   "makerUSDC": maker, "takerUSDC": taker,
                                   "ts": str(core.now_ms())}])
        if path == "/api/v5/account/positions":
            return self.envelope([self._position(i) for i, s in INSTRUMENTS.items()
                                  if p.get("instId") in (None, i) and core.positions[s]])
        if path in ("/api/v5/trade/order", "/api/v5/trade/batch-orders") and batch:
            return await self._create(batch[0])
        if path == "/api/v5/trade/order":
            return self.envelope([self.order_json(self._find(p))])
        if path in ("/api/v5/trade/cancel-order", "/api/v5/trade/cancel-batch-orders"):
            order = self._find(p)
            try:
                order = core.cancel(order.client_id)
            except Refused:
                return self.error("not_found_cancel", order.client_id)
            return self.envelope([self.ack(order)])
        if path == "/api/v5/trade/amend-order":
            order = self._find(p)
            if "newSz" in p and Decimal(p["newSz"]) * CONTRACT != order.qty:
                core.unknown_routes.append(f"amend size {p['newSz']} of {order.qty}")
            try:
                order = core.amend(order, Decimal(p["newPx"]))
            except Refused:
                return self.error("not_found_cancel", order.client_id)
            return self.envelope([self.ack(order)])
        if path in ("/api/v5/trade/fills-history", "/api/v5/trade/fills"):
            rows = [self.fill_json(o, t) for o in core.orders.values() for t in o.trades
                    if p.get("ordId") in (None, str(o.order_id))]
            return self.envelope(sorted(rows, key=lambda r: r["ts"], reverse=True))
        answer = self._account(path, p)
        if answer is not None:
            return self.envelope(answer)
        core.unknown_routes.append(path)
        return web.json_response({"code": "50000", "msg": f"double: no route {path}",
                                  "data": []})

    def _account(self, path: str, p: dict[str, Any]) -> list[Any] | None:
        """The account set-up endpoints (``tests.doubles.account``); None: not one of them."""
        account = self.account
        if path == "/api/v5/account/config":
            return [{"acctLv": "2", "autoLoan": False, "ctIsoMode": "automatic",
                     "greeksType": "PA", "level": "Lv1", "levelTmp": "",
                     "mgnIsoMode": "automatic", "posMode": "long_short_mode" if account.hedge
                     else "net_mode", "uid": "44705892343619584", "label": "",
                     "perm": "read_only,trade" if account.can_trade else "read_only"}]
        if path == "/api/v5/account/leverage-info":
            self._symbol(p)
            sides = ("long", "short") if account.hedge and p["mgnMode"] == "isolated" \
                else ("net",)
            return [{"instId": p["instId"], "mgnMode": p["mgnMode"], "posSide": side,
                     "lever": _d(account.leverage)} for side in sides]
        if path == "/api/v5/account/set-leverage":
            self._symbol(p)
            account.leverage = Decimal(str(p["lever"]))
            account.changes.append(f"leverage {p['lever']} {p['mgnMode']}")
            return [{"instId": p["instId"], "lever": str(p["lever"]), "mgnMode": p["mgnMode"],
                     "posSide": p.get("posSide", "")}]
        if path == "/api/v5/account/set-position-mode":
            account.hedge = p["posMode"] == "long_short_mode"
            account.changes.append(f"hedge {account.hedge}")
            return [{"posMode": p["posMode"]}]
        return None

    def _symbol(self, p: dict[str, Any]) -> str:
        try:
            return INSTRUMENTS[p.get("instId", "")]
        except KeyError:
            raise Refused("bad_symbol", str(p.get("instId"))) from None

    def _position(self, inst_id: str) -> dict[str, Any]:
        pos = self.core.positions[INSTRUMENTS[inst_id]]
        return {"instType": "SWAP", "instId": inst_id, "mgnMode": "cross", "posId": "1",
                "posSide": "net", "pos": _contracts(pos), "ccy": "USDT", "posCcy": "",
                "avgPx": "60000", "markPx": "60000", "lever": "10", "liqPx": "",
                "notionalUsd": _d(abs(pos) * 60000), "upl": "0", "uplRatio": "0",
                "margin": "", "imr": "0", "mmr": "0", "mgnRatio": "", "adl": "1",
                "availPos": "", "interest": "0", "last": "60000", "realizedPnl": "0",
                "cTime": "1695190491421", "uTime": str(self.core.now_ms())}

    def _find(self, p: dict[str, Any]) -> Order:
        self._symbol(p)
        if p.get("clOrdId"):
            return self.core.lookup(client_id=p["clOrdId"])
        return self.core.lookup(order_id=int(p.get("ordId") or 0))

    async def _create(self, p: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        cid = p.get("clOrdId", "")
        purpose = purpose_of(cid) or ""
        if core.script.rate_limited(cid):
            return self.error("rate_limit", cid)
        ord_type = p["ordType"]
        kind = "market" if ord_type == "market" else "limit"
        tif = {"limit": "gtc", "ioc": "ioc", "post_only": "post_only", "market": "ioc"}[
            ord_type]
        order = core.create(client_id=cid, symbol=self._symbol(p), side=p["side"],
                            kind=kind, qty=Decimal(p["sz"]) * CONTRACT,
                            price=Decimal(p["px"]) if kind == "limit" else None, tif=tif,
                            reduce_only=str(p.get("reduceOnly")).lower() == "true")
        hang = core.script.hang_create.pop(purpose, None)
        if hang is not None:
            await asyncio.sleep(hang)
        return self.envelope([self.ack(order)])
