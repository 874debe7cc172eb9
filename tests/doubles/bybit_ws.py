"""bybit v5 private websocket on top of the REST double: ``order`` and ``execution``.

Shapes follow bybit's v5 websocket documentation: ``{"op": "auth", "args": [key,
expires, signature]}`` answered ``{"success": true, "op": "auth"}`` (the double does not
check the signature), ``{"op": "subscribe", "args": ["order"]}`` acknowledged the same
way, ``{"op": "ping"}`` answered with a pong, and pushes
``{"topic": "order"|"execution", "creationTime", "data": [...]}`` whose rows are the
REST rows plus ``category``. Public sockets (books) are acknowledged and left silent, so
the adapter's book feed reads books over REST as it does when a stream is quiet.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.doubles.bybit import BybitDouble, _d
from tests.doubles.core import FakeExchange, Order, Trade
from tests.doubles.sockets import SocketFront, Sockets

_PRIVATE_TOPICS = ("order", "execution")


class BybitWsDouble(SocketFront, BybitDouble):
    """The bybit REST double with its private websocket (``watch_orders``,
    ``watch_my_trades``)."""

    def __init__(self, core: FakeExchange) -> None:
        super().__init__(core)
        self.ws = Sockets(core)
        core.listeners.append(self._on_event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.ws.serve(request, self._frame)
        return await super().handle(request)

    def _on_event(self, what: str, o: Order, t: Trade | None) -> None:
        now = self.core.now_ms()
        row = {"category": "linear", **self.order_json(o)}
        self.ws.push("order", {"id": f"{o.order_id}-{now}", "topic": "order",
                               "creationTime": now, "data": [row]})
        if t is not None:
            trade = {"category": "linear", **self.execution_json(o, t)}
            self.ws.push("execution", {"id": f"{t.trade_id}-{now}", "topic": "execution",
                                       "creationTime": now, "data": [trade]})

    def _book(self, topic: str) -> dict[str, Any]:
        symbol = topic.split(".")[-1]
        bids, asks = self.core.books[symbol]
        now = self.core.now_ms()
        return {"topic": topic, "type": "snapshot", "ts": now, "cts": now, "data": {
            "s": symbol, "b": [[_d(p), _d(q)] for p, q in bids],
            "a": [[_d(p), _d(q)] for p, q in asks], "u": 1, "seq": 7961638724}}

    async def _frame(self, ws: web.WebSocketResponse, topics: set[str],
                     text: str) -> list[Any]:
        message = json.loads(text)
        op = message.get("op")
        base = {"success": True, "ret_msg": "", "conn_id": "cojifin88smerbj9t560-404",
                "req_id": message.get("req_id", ""), "op": op}
        if op == "ping":
            return [{**base, "ret_msg": "pong"}]
        if op == "auth":
            return [base]
        if op == "subscribe":
            args = message.get("args", [])
            topics.update(a for a in args if a in _PRIVATE_TOPICS)
            books = [a for a in args if a.startswith("orderbook.")]
            if books and self.core.script.serve_books:
                return [base, *(self._book(a) for a in books)]
            return [base]
        return [{**base, "success": False, "ret_msg": f"error:invalid op {op}"}]
