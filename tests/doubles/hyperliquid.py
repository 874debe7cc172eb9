"""hyperliquid perp double: REST (``POST /info``, ``POST /exchange``) and the websocket.

Shapes follow hyperliquid's API documentation and ccxt's static fixtures. Signatures
are not verified (a double has no chain): ``/exchange`` actions are parsed and applied.
Orders carry a 128-bit hex ``cloid``; our own client ids are recovered from it by
hashing the ids an entry can use (``learn``), so scripts keyed by purpose still apply.
What hyperliquid does and the double does too: an order's answer is a per-order
status (``resting``, ``filled`` or ``error`` with HTTP 200); a post-only (``Alo``) order
that would take is refused ("Post only order would have immediately matched") and not
recorded; an IOC that meets nothing is refused ("could not immediately match"); a
cancel of a finished order answers "Order was never placed, already canceled, or
filled."; ``orderStatus`` of an unknown id answers ``{"status": "unknownOid"}``. The
websocket follows ``orderUpdates`` (status changes only, as hyperliquid sends them)
and ``userFills`` (a snapshot of the account's fills on subscribe, then each fill).
The account set-up (``tests.doubles.account``): the ``updateLeverage`` action sets the
leverage and the margin mode together (``isCross``), as ccxt's set_leverage and
set_margin_mode both send it; a position reports them. There is no hedge mode.
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
from venues.ccxt.dialects import hyperliquid_cloid

COINS = {"BTC": "BTCUSDT"}  # hyperliquid coin -> the core's symbol (asset index = position)
ASSETS = list(COINS)
USER = "0x" + "ab" * 20

_ERRORS = {
    "not_found_cancel": "Order was never placed, already canceled, or filled. asset=0",
    "not_found": "Order was never placed, already canceled, or filled. asset=0",
    "duplicate": "Duplicate cloid. asset=0",
    "lot": "Order has invalid size. asset=0",
    "tick": "Order has invalid price. asset=0",
    "notional": "Order must have minimum value of $10. asset=0",
    "reduce_only": "Reduce only order would increase position. asset=0",
    "post_only": "Post only order would have immediately matched, bbo was 60000.0@60001.0. "
                 "asset=0",
    "ioc": "Order could not immediately match against any resting orders. asset=0",
    "bad_symbol": "Invalid asset. asset=0",
    "margin": "Insufficient margin to place order. asset=0",
}
_STATUS = {"new": "open", "partially_filled": "open", "filled": "filled",
           "canceled": "canceled", "expired": "canceled", "rejected": "rejected"}
_TIF = {"gtc": "Gtc", "ioc": "Ioc", "post_only": "Alo"}


def _d(value: Decimal | None) -> str:
    return "0.0" if value is None or value == 0 else format(value.normalize(), "f")


class HyperliquidDouble(SocketFront):
    def __init__(self, core: FakeExchange, entry_ids: tuple[str, ...] = ("sim1", "t1")) -> None:
        self.core = core
        self.ws = Sockets(core)
        self.names: dict[str, str] = {}
        self.account = AccountState()
        for entry_id in entry_ids:
            self.learn(entry_id)
        core.listeners.append(self._on_event)

    def learn(self, entry_id: str, most: int = 40) -> None:
        """Know the cloids of entry ``entry_id``'s ids (``ae<entry><L|S><q|h|t|r><n>``)."""
        for leg in "LS":
            for purpose in "qhtr":
                for n in range(1, most + 1):
                    cid = f"ae{entry_id}{leg}{purpose}{n}"
                    self.names[hyperliquid_cloid(cid)] = cid

    # -- payloads ------------------------------------------------------------------------

    def order_json(self, o: Order) -> dict[str, Any]:
        return {"coin": self._coin(o.symbol), "side": "B" if o.side == "buy" else "A",
                "limitPx": _d(o.price), "sz": _d(o.remaining), "oid": o.order_id,
                "timestamp": o.created_ms, "triggerCondition": "N/A", "isTrigger": False,
                "triggerPx": "0.0", "children": [], "isPositionTpsl": False,
                "reduceOnly": o.reduce_only, "orderType": "Limit", "origSz": _d(o.qty),
                "tif": _TIF[o.tif], "cloid": hyperliquid_cloid(o.client_id)
                if purpose_of(o.client_id) else o.client_id}

    def status_json(self, o: Order) -> dict[str, Any]:
        return {"order": self.order_json(o), "status": _STATUS[o.status],
                "statusTimestamp": o.updated_ms}

    def fill_json(self, o: Order, t: Trade) -> dict[str, Any]:
        return {"coin": self._coin(o.symbol), "px": _d(t.price), "sz": _d(t.qty),
                "side": "B" if o.side == "buy" else "A", "time": t.time_ms,
                "startPosition": "0.0", "dir": "Open Long" if o.side == "buy"
                else "Open Short", "closedPnl": "0.0",
                "hash": "0x" + format(t.trade_id, "064x"), "oid": o.order_id,
                "crossed": not t.maker, "fee": _d(t.fee), "tid": t.trade_id,
                "feeToken": "USDC", "cloid": self.order_json(o)["cloid"]}

    def meta(self) -> list[Any]:
        decimals = -self.core.rules.lot.normalize().as_tuple().exponent  # type: ignore[operator]
        universe = [{"szDecimals": decimals, "name": coin, "maxLeverage": 40,
                     "marginTableId": 56} for coin in ASSETS]
        ctxs = [{"funding": "0.0000125", "openInterest": "27000.1", "prevDayPx": "59000.0",
                 "dayNtlVlm": "1500000000.0", "premium": "0.0001", "oraclePx": "60000.0",
                 "markPx": "60000.0", "midPx": "60000.5", "impactPxs": ["60000.0", "60001.0"],
                 "dayBaseVlm": "25000.0"} for _ in ASSETS]
        return [{"universe": universe, "marginTables": []}, ctxs]

    def _book(self, coin: str) -> dict[str, Any]:
        bids, asks = self.core.books[COINS[coin]]
        return {"coin": coin, "time": self.core.now_ms(), "levels": [
            [{"px": _d(a), "sz": _d(b), "n": 1} for a, b in bids],
            [{"px": _d(a), "sz": _d(b), "n": 1} for a, b in asks]]}

    def _coin(self, symbol: str) -> str:
        return next(c for c, s in COINS.items() if s == symbol)

    # -- websocket -----------------------------------------------------------------------

    def _on_event(self, what: str, o: Order, t: Trade | None) -> None:
        if t is not None:
            self.ws.push("userFills", {"channel": "userFills", "data": {
                "user": USER, "fills": [self.fill_json(o, t)]}})
        if what in ("new", "canceled", "expired") or (what == "trade" and not o.live):
            self.ws.push("orderUpdates", {"channel": "orderUpdates",
                                          "data": [self.status_json(o)]})

    async def _frame(self, ws: web.WebSocketResponse, topics: set[str],
                     text: str) -> list[Any]:
        message = json.loads(text)
        if message.get("method") == "ping":
            return [{"channel": "pong"}]
        if message.get("method") != "subscribe":
            return [{"channel": "error", "data": f"unknown method: {text}"}]
        subscription = message.get("subscription", {})
        kind = subscription.get("type")
        answers: list[Any] = [{"channel": "subscriptionResponse", "data": message}]
        if kind in ("orderUpdates", "userFills"):
            topics.add(kind)
        if kind == "l2Book" and self.core.script.serve_books:
            answers.append({"channel": "l2Book", "data": self._book(subscription["coin"])})
        if kind == "userFills":
            answers.append({"channel": "userFills", "data": {
                "isSnapshot": True, "user": subscription.get("user", USER),
                "fills": [self.fill_json(o, t) for o in self.core.orders.values()
                          for t in o.trades]}})
        return answers

    # -- REST ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.ws.serve(request, self._frame)
        body = json.loads(await request.text() or "{}")
        self.core.record(request.method, request.path, body)
        if request.path == "/info":
            return await self._info(body)
        if request.path == "/exchange":
            return await self._exchange(body.get("action", {}))
        self.core.unknown_routes.append(request.path)
        return web.json_response({"status": "err", "response": "double: no route"},
                                 status=404)

    async def _info(self, p: dict[str, Any]) -> web.StreamResponse:
        core, kind = self.core, p.get("type")
        if kind == "metaAndAssetCtxs":
            return web.json_response(self.meta())
        if kind == "meta":
            return web.json_response(self.meta()[0])
        if kind == "l2Book":
            return web.json_response(self._book(p["coin"]))
        if kind == "userFees":
            return web.json_response({"dailyUserVlm": [], "feeSchedule": {},
                                      "userCrossRate": _d(core.rules.taker_fee),
                                      "userAddRate": _d(core.rules.maker_fee),
                                      "activeReferralDiscount": "0.0"})
        if kind == "orderStatus":
            try:
                order = self._find(p["oid"])
            except Refused:
                return web.json_response({"status": "unknownOid"})
            return web.json_response({"status": "order", "order": self.status_json(order)})
        if kind in ("userFills", "userFillsByTime"):
            fills = [self.fill_json(o, t) for o in core.orders.values() for t in o.trades]
            return web.json_response(sorted(fills, key=lambda f: f["time"], reverse=True))
        if kind == "clearinghouseState":
            return web.json_response(self._clearinghouse())
        if kind == "activeAssetData":  # the leverage in force on one perp, position or not
            if p.get("coin") not in COINS or not p.get("user"):
                return web.json_response(None)
            return web.json_response({
                "user": p["user"], "coin": p["coin"], "markPx": "60000.0",
                "leverage": {"type": self.account.margin, "value": int(self.account.leverage),
                             **({"rawUsd": "0.0"} if self.account.margin == "isolated" else {})},
                "maxTradeSzs": ["10.0", "10.0"], "availableToTrade": ["10.0", "10.0"]})
        core.unknown_routes.append(f"/info {kind}")
        return web.json_response(None)

    def _clearinghouse(self) -> dict[str, Any]:
        rows = [{"type": "oneWay", "position": {
            "coin": coin, "szi": _d(self.core.positions[symbol]),
            "leverage": {"type": self.account.margin, "value": int(self.account.leverage)},
            "entryPx": "60000.0",
            "positionValue": _d(abs(self.core.positions[symbol]) * 60000),
            "unrealizedPnl": "0.0", "returnOnEquity": "0.0", "liquidationPx": None,
            "marginUsed": "0.0", "maxLeverage": 40, "cumFunding": {
                "allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"}}}
            for coin, symbol in COINS.items() if self.core.positions[symbol]]
        summary = {"accountValue": "100000.0", "totalNtlPos": "0.0",
                   "totalRawUsd": "100000.0", "totalMarginUsed": "0.0"}
        return {"marginSummary": summary, "crossMarginSummary": summary,
                "crossMaintenanceMarginUsed": "0.0", "withdrawable": "100000.0",
                "assetPositions": rows, "time": self.core.now_ms()}

    def _find(self, oid: Any) -> Order:
        if isinstance(oid, str) and oid.startswith("0x"):
            return self.core.lookup(client_id=self.names.get(oid, oid))
        return self.core.lookup(order_id=int(oid))

    def _statuses(self, statuses: list[Any], kind: str = "order") -> web.Response:
        return web.json_response({"status": "ok", "response": {
            "type": kind, "data": {"statuses": statuses}}})

    async def _exchange(self, action: dict[str, Any]) -> web.StreamResponse:
        kind = action.get("type")
        if kind == "order":
            return await self._create(action["orders"][0])
        if kind in ("cancelByCloid", "cancel"):
            statuses: list[Any] = []
            for c in action.get("cancels", []):
                try:
                    order = self._find(c.get("cloid") or c.get("o"))
                    self.core.cancel(order.client_id)
                    statuses.append("success")
                except Refused:
                    statuses.append({"error": _ERRORS["not_found_cancel"]})
            return self._statuses(statuses, "cancel")
        if kind == "updateLeverage" and int(action["asset"]) < len(ASSETS):
            if self.account.refused is not None:
                return web.json_response({"status": "err", "response": self.account.refused})
            self.account.margin = "cross" if action["isCross"] else "isolated"
            self.account.leverage = Decimal(str(action["leverage"]))
            self.account.changes.append(f"leverage {action['leverage']} {self.account.margin}")
            return web.json_response({"status": "ok", "response": {"type": "default"}})
        self.core.unknown_routes.append(f"/exchange {kind}")
        return web.json_response({"status": "err", "response": f"double: no action {kind}"})

    async def _create(self, w: dict[str, Any]) -> web.StreamResponse:
        core = self.core
        cloid = w.get("c", "")
        cid = self.names.get(cloid, cloid)
        purpose = purpose_of(cid) or ""
        if core.script.rate_limited(cid):
            return web.json_response({"status": "err", "response": "Too many cumulative "
                                      "requests sent (37986 > 10436)"}, status=429)
        tif = {"Gtc": "gtc", "Ioc": "ioc", "Alo": "post_only"}[w["t"]["limit"]["tif"]]
        symbol, side, price = COINS[ASSETS[int(w["a"])]], "buy" if w["b"] else "sell", \
            Decimal(w["p"])
        if tif == "post_only" and core.would_take(symbol, side, price):
            return self._statuses([{"error": _ERRORS["post_only"]}])
        try:
            order = core.create(client_id=cid, symbol=symbol, side=side, kind="limit",
                                qty=Decimal(w["s"]), price=price, tif=tif,
                                reduce_only=bool(w.get("r")))
        except Refused as refused:
            return self._statuses([{"error": _ERRORS[refused.kind]}])
        hang = core.script.hang_create.pop(purpose, None)
        if hang is not None:
            await asyncio.sleep(hang)
        if tif == "ioc" and order.filled == 0:
            return self._statuses([{"error": _ERRORS["ioc"]}])
        if order.filled and not order.live:
            return self._statuses([{"filled": {"totalSz": _d(order.filled),
                                               "avgPx": _d(order.avg_price),
                                               "oid": order.order_id, "cloid": cloid}}])
        return self._statuses([{"resting": {"oid": order.order_id, "cloid": cloid}}])
