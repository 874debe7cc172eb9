"""Order, fill and book updates for ``CcxtVenue``: websocket where ccxt.pro has it, else polling.

Websockets lose what happens while they are down, and ``watch_orders`` does not replay
the gap. So every (re)connection is followed, once the new socket is up, by a REST
reconciliation of every order this venue still believes live: a fill missed during the
gap comes back through the query answer. Reconciling *after* the socket is up narrows
the window in which a fill could land between the REST answer and the subscription; it
does not close it where the private topics are subscribed after the connection (bybit's
``auth`` then ``subscribe``, okx's ``login``, hyperliquid's ``subscribe``): a fill
between that reconciliation and the subscription taking effect is pushed to nobody. So
a second reconciliation follows ``settle_s`` later, when the subscription has long
been answered (the exchange doubles found this window under load).

Trades pushed by ``watch_my_trades`` name the exchange order id, not ours; a trade can
overtake the create answer and the order update that would teach us the mapping, so
unmatched trades wait in a small buffer until the mapping is known.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol

from loguru import logger

from venues.ccxt import convert as ccxt_convert
from venues.ccxt import parse as ccxt_parse
from venues.ccxt.decimal_context import own_context
from venues.market import Book
from venues.protocol import BookChanged, OrderSnapshot, UpdateHandler

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
                 poll_interval_s: float, connect_timeout_s: float = 5.0,
                 settle_s: float = 0.5) -> None:
        self._owner = owner
        self._exchange = exchange
        self._websocket = websocket
        self._poll_interval_s = poll_interval_s
        self._connect_timeout_s = connect_timeout_s
        self._settle_s = settle_s
        self._settling: asyncio.Task[None] | None = None
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
                own_context(self._run(lambda: self._watch("watch_orders", self._orders)))))
            self._tasks.append(loop.create_task(
                own_context(self._run(lambda: self._watch("watch_my_trades", self._trades)))))
        else:
            self._tasks.append(loop.create_task(own_context(self._run(self._poll))))

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
        if self._settling is not None:
            self._tasks.append(self._settling)
            self._settling = None
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
                    self._reconcile_later()
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

    def _reconcile_later(self) -> None:
        """Reconcile once more ``settle_s`` from now (one pending at a time)."""
        if self._settling is not None and not self._settling.done():
            return

        async def later() -> None:
            await asyncio.sleep(self._settle_s)
            await self.reconcile()

        self._settling = asyncio.get_running_loop().create_task(later())

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


class BookOwner(Protocol):
    """What the book feed needs from the venue."""

    name: str

    def scrub(self, text: str) -> str: ...

    async def start(self) -> None: ...


class BookFeed:
    """The venue's latest book per symbol, kept fresh on the ``background`` instance.

    Each book is kept with the loop time it arrived, so an order can be priced from a book
    no older than ``max_age_s`` (``fresh``) or read afresh. Symbols whose book was read
    once are followed: ``watch_order_book`` where the instance has it (ccxt.pro), REST
    polling every ``poll_interval_s`` where not; a watch that fails is bridged by one
    REST read before it reconnects. New books are pushed (``BookChanged``, with the
    venue's timestamp) at most once per ``min_push_interval_s`` per symbol: a websocket
    sends dozens a second and each push is a journaled event of every entry on it (a book
    held back only ages, and an aged book is read again before anything is priced from
    it). On ``background``, no create or cancel queues behind a book call.
    """

    def __init__(self, owner: BookOwner, exchange: Any, *, push: UpdateHandler,
                 contract_size: Callable[[str], Decimal], poll_interval_s: float,
                 max_age_s: float, min_push_interval_s: float = 0.2, limit: int = 20,
                 depth: int = 10, watch_limit: int | None = None,
                 websocket: bool = True) -> None:
        self._owner = owner
        self._exchange = exchange
        self._push = push
        self._contract_size = contract_size
        self._poll_interval_s = poll_interval_s
        self.max_age_s = max_age_s
        self._min_push_interval_s = min_push_interval_s
        self._limit = limit
        self._watch_limit = limit if watch_limit is None else watch_limit
        self._websocket = websocket  # False: the venue was told to poll (no websocket)
        self._depth = depth
        self.books: dict[str, Book] = {}
        self._at: dict[str, float] = {}
        self._pushed_at: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failures = 0
        self._log = logger.bind(venue=owner.name)

    def keep(self, symbol: str, book: Book) -> None:
        self.books[symbol] = book
        self._at[symbol] = asyncio.get_running_loop().time()

    def fresh(self, symbol: str) -> Book | None:
        """The latest book of ``symbol`` if it arrived within ``max_age_s``."""
        at = self._at.get(symbol)
        if at is None or asyncio.get_running_loop().time() - at > self.max_age_s:
            return None
        return self.books[symbol]

    def on_book(self, symbol: str, raw: dict[str, Any]) -> None:
        where = f"{self._owner.name} book {symbol}"
        book = ccxt_convert.book(raw, self._depth, self._contract_size(symbol), where)
        if not (book.bids and book.asks):
            raise ccxt_parse.BadVenuePayload(f"{where}: a side is empty")
        self.keep(symbol, book)
        now = self._at[symbol]
        if now - self._pushed_at.get(symbol, -self._min_push_interval_s) < \
                self._min_push_interval_s:
            return
        self._pushed_at[symbol] = now
        stamp = raw.get("timestamp")
        self._push(BookChanged(self._owner.name, symbol, book,
                               None if stamp is None else float(stamp) / 1000))

    @property
    def watching(self) -> bool:
        return self._websocket and bool(self._exchange.has.get("watchOrderBook")) and hasattr(
            self._exchange, "watch_order_book")

    def follow(self, symbol: str) -> None:
        """Keep ``symbol``'s book fresh from now on (needs a running loop)."""
        if symbol not in self._tasks:
            self._tasks[symbol] = asyncio.get_running_loop().create_task(
                own_context(self._follow(symbol)))

    async def stop(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _follow(self, symbol: str) -> None:
        failures = 0
        while True:
            try:
                await self._owner.start()
                watching = self.watching
                if watching:
                    raw = await self._exchange.watch_order_book(symbol, self._watch_limit)
                else:
                    raw = await self._exchange.fetch_order_book(symbol, self._limit)
                self.on_book(symbol, raw)
                failures = 0
                if not watching:
                    await asyncio.sleep(self._poll_interval_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                delay = RECONNECT_BACKOFF_S[min(failures, len(RECONNECT_BACKOFF_S) - 1)]
                failures += 1
                self._log.warning("{}: book of {} failed ({}); again in {}s", self._owner.name,
                                  symbol, self._owner.scrub(f"{type(exc).__name__}: {exc}"),
                                  delay)
                if self.watching:  # one REST read while the websocket is down
                    with contextlib.suppress(Exception):
                        self.on_book(symbol, await self._exchange.fetch_order_book(
                            symbol, self._limit))
                await asyncio.sleep(delay)


def order_client_id(order: dict[str, Any]) -> str | None:
    value = order.get("clientOrderId")
    return str(value) if value else None


def describe_bad(exc: ccxt_parse.BadVenuePayload) -> str:
    return f"unreadable update ignored, the order will be re-queried: {exc}"
