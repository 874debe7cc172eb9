"""Websocket plumbing shared by the exchange doubles (binance, bybit, okx, hyperliquid).

Each exchange speaks its own login and subscribe dialect (the dialect module answers
those frames); what is the same everywhere lives here: which socket follows which topic,
pushes delayed by the script's ``push_delay_s`` and sent in order, pushes that find no
subscriber counted as dropped (what a real venue's gap looks like to us), and
``disconnect`` dropping every socket as an exchange does at maintenance.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.doubles.core import FakeExchange

# answer one text frame: (the socket, a set to add the topics it subscribes, the frame)
# -> frames to send back
Answer = Callable[[web.WebSocketResponse, set[str], str], Awaitable[list[Any]]]


class Sockets:
    """The open websockets of one double and the topics each one follows."""

    def __init__(self, core: FakeExchange) -> None:
        self.core = core
        self.topics: dict[web.WebSocketResponse, set[str]] = {}
        self.ws_connections = 0
        self.dropped_pushes = 0
        self._sends: set[asyncio.Future[None]] = set()

    @property
    def sockets(self) -> list[web.WebSocketResponse]:
        """Sockets following at least one private topic (what a test waits for)."""
        return [ws for ws, topics in self.topics.items() if topics]

    async def serve(self, request: web.Request, answer: Answer,
                    follow: frozenset[str] = frozenset()) -> web.StreamResponse:
        """One socket until it closes. ``follow``: topics it follows from the start, as a
        binance user-data stream (its URL names the account) follows every order push."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.ws_connections += 1
        topics: set[str] = set(follow)
        self.topics[ws] = topics
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
                if msg.type is WSMsgType.TEXT:
                    subscribed: set[str] = set()
                    for frame in await answer(ws, subscribed, msg.data):
                        await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
                    self._follow(topics, subscribed)
        finally:
            self.topics.pop(ws, None)
        return ws

    def _follow(self, topics: set[str], subscribed: set[str]) -> None:
        """Topics take effect at once, or the script's ``subscribe_delay_s`` later."""
        delay = self.core.script.subscribe_delay_s
        if subscribed and delay:
            asyncio.get_running_loop().call_later(delay, topics.update, subscribed)
        else:
            topics.update(subscribed)

    def push(self, topic: str, payload: Any) -> None:
        """Send ``payload`` to every socket following ``topic`` after the script's delay."""
        targets = [ws for ws, topics in self.topics.items() if topic in topics]
        if not targets:
            self.dropped_pushes += 1
            return
        text = json.dumps(payload)
        delay = self.core.script.push_delay_s
        for ws in targets:
            asyncio.get_running_loop().call_later(delay, self._send, ws, text)

    def _send(self, ws: web.WebSocketResponse, text: str) -> None:
        if not ws.closed:
            task = asyncio.ensure_future(ws.send_str(text))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def disconnect(self) -> None:
        """Drop every socket (the venue's maintenance, a network blip)."""
        for ws in list(self.topics):
            self.topics.pop(ws, None)
            await ws.close()


class SocketFront:
    """What the race tests read of a double with websockets (its followed sockets, how
    many connected, pushes dropped, ``disconnect``); a double mixes it in and keeps its
    ``Sockets`` as ``ws``."""

    ws: Sockets

    @property
    def sockets(self) -> list[web.WebSocketResponse]:
        return self.ws.sockets

    @property
    def ws_connections(self) -> int:
        return self.ws.ws_connections

    @property
    def dropped_pushes(self) -> int:
        return self.ws.dropped_pushes

    async def disconnect(self) -> None:
        await self.ws.disconnect()
