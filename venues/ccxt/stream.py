"""Order and fill updates for ``CcxtVenue``: websocket where ccxt.pro has it, else polling.

Websockets lose what happens while they are down, and ``watch_orders`` does not replay
the gap. So every (re)connection is followed, once the new socket is up, by a REST
reconciliation of every order this venue still believes live: a fill missed during the
gap comes back through the query answer. Reconciling *after* the socket is up closes
the window in which a fill could land between the REST answer and the subscription.

Trades pushed by ``watch_my_trades`` name the exchange order id, not ours; a trade can
overtake the create answer and the order update that would teach us the mapping, so
unmatched trades wait in a small buffer until the mapping is known.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from loguru import logger

from venues.ccxt import parse as ccxt_parse
from venues.protocol import OrderSnapshot

RECONNECT_BACKOFF_S = (0.05, 0.2, 1.0, 2.0, 5.0)


class StreamOwner(Protocol):
    """What the stream needs from the venue (kept narrow so the two stay decoupled)."""

    name: str

    def live_orders(self) -> list[tuple[str, str]]: ...

    async def refresh(self, symbol: str, client_id: str) -> OrderSnapshot | None: ...

    def on_ws_order(self, order: dict[str, Any]) -> None: ...

    def on_ws_trade(self, trade: dict[str, Any]) -> None: ...

    def scrub(self, text: str) -> str: ...

    async def start(self) -> None: ...


class OrderStream:
    """Runs the update loops of one venue; ``stop`` ends them."""

    def __init__(self, owner: StreamOwner, exchange: Any, *, websocket: bool,
                 poll_interval_s: float, connect_timeout_s: float = 5.0) -> None:
        self._owner = owner
        self._exchange = exchange
        self._websocket = websocket
        self._poll_interval_s = poll_interval_s
        self._connect_timeout_s = connect_timeout_s
        self._tasks: list[asyncio.Task[None]] = []
        self.reconnects = 0
        self.reconciliations = 0
        self._log = logger.bind(venue=owner.name)

    def start(self) -> None:
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        if self._websocket:
            self._tasks.append(loop.create_task(
                self._run(lambda: self._watch("watch_orders", self._orders))))
            self._tasks.append(loop.create_task(
                self._run(lambda: self._watch("watch_my_trades", self._trades))))
        else:
            self._tasks.append(loop.create_task(self._run(self._poll)))

    async def _run(self, loop_body: Callable[[], Awaitable[None]]) -> None:
        """Markets first (shared, loaded once), so ccxt.pro never loads them on its own."""
        while True:
            try:
                await self._owner.start()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log.warning("{}: cannot start updates yet: {}", self._owner.name,
                                  self._owner.scrub(str(exc)))
                await asyncio.sleep(RECONNECT_BACKOFF_S[-1])
        await loop_body()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    # -- websocket ---------------------------------------------------------------------

    def _orders(self, items: list[dict[str, Any]]) -> None:
        for order in items:
            self._owner.on_ws_order(order)

    def _trades(self, items: list[dict[str, Any]]) -> None:
        for trade in items:
            self._owner.on_ws_trade(trade)

    async def _watch(self, method: str, deliver: Callable[[list[dict[str, Any]]], None]) -> None:
        watch: Callable[[], Awaitable[list[dict[str, Any]]]] = getattr(self._exchange, method)
        failures = 0
        fresh = True  # the first connection reconciles too: orders may predate it
        while True:
            pending = asyncio.ensure_future(watch())
            try:
                if fresh and method == "watch_orders":
                    await self._until_connected(pending)
                    await self.reconcile()
                fresh = False
                deliver(await pending)
                failures = 0
            except asyncio.CancelledError:
                pending.cancel()
                raise
            except Exception as exc:
                pending.cancel()
                fresh = True
                self.reconnects += 1
                delay = RECONNECT_BACKOFF_S[min(failures, len(RECONNECT_BACKOFF_S) - 1)]
                failures += 1
                self._log.warning("{}: {} failed ({}); reconnecting in {}s then reconciling",
                                  self._owner.name, method,
                                  self._owner.scrub(f"{type(exc).__name__}: {exc}"), delay)
                await asyncio.sleep(delay)

    async def _until_connected(self, pending: asyncio.Future[Any]) -> None:
        """Wait until every websocket client of the exchange has its connection up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_timeout_s
        while loop.time() < deadline and not pending.done():
            # ccxt keeps bookkeeping entries (binance: "authenticationFlights") among its
            # clients; only the websocket clients have a connection to wait for.
            clients = [c for c in getattr(self._exchange, "clients", {}).values()
                       if str(getattr(c, "url", "")).startswith("ws")]
            if clients and all(client.connected.done() for client in clients):
                return
            await asyncio.sleep(0.005)
        if pending.done():
            pending.result()  # raise the connection error, if that is what ended it

    async def reconcile(self) -> None:
        """Query every order still believed live; the owner pushes what changed."""
        self.reconciliations += 1
        for symbol, client_id in self._owner.live_orders():
            try:
                await self._owner.refresh(symbol, client_id)
            except Exception as exc:
                self._log.warning("{}: reconciling {} failed: {}", self._owner.name, client_id,
                                  self._owner.scrub(str(exc)))

    # -- polling -----------------------------------------------------------------------

    async def _poll(self) -> None:
        while True:
            await self.reconcile()
            await asyncio.sleep(self._poll_interval_s)


def order_client_id(order: dict[str, Any]) -> str | None:
    value = order.get("clientOrderId")
    return str(value) if value else None


def describe_bad(exc: ccxt_parse.BadVenuePayload) -> str:
    return f"unreadable update ignored, the order will be re-queried: {exc}"
