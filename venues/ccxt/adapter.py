"""``CcxtVenue``: the Venue protocol over ccxt for linear perpetuals.

Two ccxt instances per venue, on purpose. ccxt's rate limiter is one FIFO queue per
exchange instance: a hedge sent while twenty book polls wait in that queue waits behind
them, and those milliseconds are naked exposure. So:

- ``trading`` (a ccxt.pro instance) carries only what the engine is waiting on: create,
  cancel, amend, the engine's queries by client id, and the private websocket. Nothing
  periodic ever runs on it, so its queue is empty when a hedge arrives.
- ``background`` (ccxt.pro too, for book watches) carries market data, positions, fees,
  polling and the reconciliation after a websocket reconnect. It may queue; nobody waits on it
  for a hedge. Its ``rateLimit`` is doubled so that the two instances together stay
  within the exchange's own per-account budget.

Markets are loaded once (on ``background``) and shared with ``trading``. Every number
is a ``Decimal`` (``exchange.number = Decimal`` before ``load_markets``); quantities
cross this boundary in base-asset units and are converted to contracts here. Nothing
in this module retries a create; ccxt's own retries are off (``maxRetriesOnFailure`` 0).

This module is the protocol itself; building the instances lives in ``instances``,
conversions in ``convert``, order tracking in ``tracking``; ``decimal_context`` keeps
ccxt's rounding changes out of the caller's Decimal context.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from loguru import logger

from venues.ccxt import convert as ccxt_convert
from venues.ccxt import errors as ccxt_errors
from venues.ccxt import fees as ccxt_fees
from venues.ccxt import instances
from venues.ccxt import parse as ccxt_parse
from venues.ccxt.account import AccountReads
from venues.ccxt.decimal_context import isolated_methods
from venues.ccxt.dialects import Dialect, dialect
from venues.ccxt.stream import BookFeed, OrderStream
from venues.ccxt.tracking import OrderTracker, Tracked
from venues.market import (
    Book,
    MarketRules,
    OrderKind,
    OrderStatus,
    PlaceOrder,
    Purpose,
    TimeInForce,
)
from venues.protocol import (
    AmendAck,
    CancelAck,
    NotSupported,
    OrderNotFound,
    OrderRejected,
    OrderSnapshot,
    OutcomeUnknown,
    PlaceAck,
    UpdateHandler,
    VenueError,
)


@isolated_methods
class CcxtVenue(AccountReads):
    """A real exchange as a ``venues.protocol.Venue``; see the module docstring.

    ``config`` is merged into both ccxt instances' configuration (tests pass an aiohttp
    ``session`` that reaches only the loopback doubles). ``stream`` picks the update
    source: ``"auto"`` (websocket where ccxt.pro has ``watchOrders``), ``"ws"`` or
    ``"poll"``. ``post_only_quotes`` sends quotes post-only (a quote the market moved
    through in flight is refused, not taken) and declares amend unsupported. A book read
    is followed from then on (``BookFeed``, polled every ``book_poll_interval_s`` if not
    watched); a market order needing a price takes one no older than ``max_book_age_s``.
    """

    def __init__(
        self, name: str, exchange_id: str, *,
        credentials: Mapping[str, str] | None = None,
        sandbox: bool = True,
        config: Mapping[str, Any] | None = None,
        stream: str = "auto",
        poll_interval_s: float = 0.5,
        timeout_ms: int = 10_000,
        post_only_quotes: bool = False,
        cancel_confirm_tries: int = 10,
        cancel_confirm_interval_s: float = 0.05,
        book_poll_interval_s: float = 1.0,
        max_book_age_s: float = 2.0,
    ) -> None:
        if stream not in ("auto", "ws", "poll"):
            raise ValueError(f"CcxtVenue {name}: stream {stream!r}: expected auto, ws or poll")
        self.name = name
        self.dialect: Dialect = dialect(exchange_id)
        #: how long one request may travel before ccxt gives up on it
        self.request_timeout_s = timeout_ms / 1000
        credentials = dict(credentials or {})
        self.trading, self.background = instances.build(
            name, exchange_id, self.dialect, credentials, sandbox=sandbox, config=config or {},
            timeout_ms=timeout_ms)
        self._secrets = tuple(v for v in credentials.values() if v)
        watches = bool(self.trading.has.get("watchOrders"))
        websocket = stream == "ws" or (stream == "auto" and watches)
        self.stream = OrderStream(self, self.trading if websocket else self.background,
                                  websocket=websocket, poll_interval_s=poll_interval_s)
        self.post_only_quotes = post_only_quotes
        self._cancel_confirm_tries = cancel_confirm_tries
        self._cancel_confirm_interval_s = cancel_confirm_interval_s
        self._ready_lock, self._ready = asyncio.Lock(), False
        self._rules: dict[str, MarketRules] = {}
        def size(symbol: str) -> Decimal:
            return self._contract_size(self._market(symbol))
        self._tracker = OrderTracker(name, self.dialect, size, refetch=self.refresh)
        self.books = BookFeed(self, self.background, push=self._tracker.push, contract_size=size,
                              poll_interval_s=book_poll_interval_s, max_age_s=max_book_age_s,
                              watch_limit=self.dialect.book_watch_limit, websocket=websocket)
        self._log = logger.bind(venue=name)

    # -- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Load markets once (on the background instance) and share them."""
        async with self._ready_lock:
            if self._ready:
                return
            try:
                await self.background.load_markets()
            except Exception as exc:
                raise self._error(exc, "read", "load_markets") from None
            instances.share_markets(self.trading, self.background, self.dialect)
            self._ready = True

    async def close(self) -> None:
        """Stop the update loops and close both ccxt instances (sessions, websockets)."""
        await self.stream.stop()
        await asyncio.gather(self.books.stop(), self._tracker.stop())
        await asyncio.gather(*(exchange.close() for exchange in (self.trading, self.background)),
                             return_exceptions=True)

    def scrub(self, text: str) -> str:
        return ccxt_errors.scrub(text, self._secrets)

    def _error(self, exc: BaseException, operation: ccxt_errors.Operation,
               what: str) -> VenueError:
        return ccxt_errors.classify(exc, operation, venue=self.name, what=what,
                                    secrets=self._secrets,
                                    rules=self.dialect.error_rules)

    def _market(self, symbol: str) -> dict[str, Any]:
        market = self.background.markets.get(symbol) if self.background.markets else None
        if market is None:
            raise OrderRejected(f"{self.name}: market {symbol} does not exist on "
                                f"{self.dialect.exchange_id}")
        if not (market.get("swap") and market.get("linear")):
            raise OrderRejected(f"{self.name}: {symbol} is not a linear perpetual")
        return dict(market)

    def _contract_size(self, market: dict[str, Any]) -> Decimal:
        size = market.get("contractSize")
        return Decimal(1) if size is None else ccxt_parse.number(size, "contractSize")

    # -- rules, book, position ---------------------------------------------------------

    async def market_rules(self, symbol: str) -> MarketRules:
        await self.start()
        cached = self._rules.get(symbol)
        if cached is not None:
            return cached
        market = self._market(symbol)
        # amend-to-cross would cancel a post-only quote on every supported exchange
        amends = (bool(self.trading.has.get("editOrder")) and self.dialect.amend_by_client_id
                  and not self.post_only_quotes)
        rules = await ccxt_convert.rules(market, self._contract_size(market),
                                       lambda: self._fees(symbol, market), amends,
                                       f"{self.name} market {symbol}")
        self._rules[symbol] = rules
        return rules

    async def _fees(self, symbol: str, market: dict[str, Any]) -> tuple[Decimal, Decimal]:
        """Read once per symbol, cached with the rules (``venues.ccxt.fees``)."""
        return await ccxt_fees.read_rates(
            self.background, self.dialect.exchange_id, symbol, market,
            lambda text: self._log.warning("{}: {}", self.name, self.scrub(text)))

    async def book(self, symbol: str, depth: int = 10) -> Book:
        if depth < 1:
            raise ValueError(f"book depth must be >= 1, got {depth}")
        await self.start()
        self.books.follow(symbol)  # from now on kept fresh and pushed as it changes
        return await self._fetch_book(self.background, symbol, depth)

    async def _fetch_book(self, exchange: Any, symbol: str, depth: int) -> Book:
        market = self._market(symbol)
        size = self._contract_size(market)
        limit = next((n for n in ccxt_convert.BOOK_LIMITS if n >= depth),
                     ccxt_convert.BOOK_LIMITS[-1])
        try:
            raw = await exchange.fetch_order_book(symbol, limit)
        except Exception as exc:
            raise self._error(exc, "read", f"order book {symbol}") from None
        book = ccxt_convert.book(raw, depth, size, f"{self.name} book {symbol}")
        self.books.keep(symbol, book)
        return book

    async def position(self, symbol: str) -> Decimal:
        await self.start()
        market = self._market(symbol)
        size = self._contract_size(market)
        try:
            positions = await self.background.fetch_positions([symbol])
        except Exception as exc:
            raise self._error(exc, "read", f"positions {symbol}") from None
        return ccxt_convert.net_position(positions, symbol, size, self.name)

    # -- orders ------------------------------------------------------------------------

    async def _price_for(self, order: PlaceOrder, rules: MarketRules) -> Decimal | None:
        if order.kind is OrderKind.LIMIT:
            if order.price is None or order.price <= 0:
                raise OrderRejected(f"{self.name}: order {order.client_id} not sent: a limit "
                                    f"order needs a positive price, got {order.price}")
            return ccxt_convert.maker_price(order.price, rules, self.dialect, order.side)
        if not self.dialect.market_needs_price:
            return None
        # hyperliquid prices a market order as a limit with slippage around this price: the
        # latest book if fresh, else one read now on trading (never queued on background).
        if order.price is not None:
            return order.price
        book = self.books.fresh(order.symbol) or await self._fetch_book(
            self.trading, order.symbol, 5)
        return book.far_touch(order.side)

    async def place(self, order: PlaceOrder) -> PlaceAck:
        await self.start()
        cid = order.client_id
        market = self._market(order.symbol)
        rules = await self.market_rules(order.symbol)
        contracts = ccxt_convert.to_contracts(order.qty, self._contract_size(market), rules,
                                              self.name, cid)
        price = await self._price_for(order, rules)
        reference = price if price is not None else self._reference_price(order)
        if (not order.reduce_only and reference is not None
                and order.qty * reference < rules.min_notional):
            raise OrderRejected(
                f"{self.name}: order {cid} not sent: notional {order.qty * reference} "
                f"({order.qty} at {reference}) is below the minimum {rules.min_notional}")
        post_only = (self.post_only_quotes and order.purpose is Purpose.QUOTE
                     and order.kind is OrderKind.LIMIT
                     and order.time_in_force is TimeInForce.GTC)
        params = self.dialect.order_params(order, post_only)
        self._tracker.track(cid, Tracked(order.symbol, order.side, order.qty, order.kind))
        self._log.info("{}: place {} {} {} {} {} at {} {}", self.name, cid, order.purpose.value,
                       order.side.value, order.qty, order.symbol, price, order.kind.value)
        try:
            # Amount and price travel as decimal strings: ccxt's safe_string drops Decimal
            # values (hyperliquid then loses the price) while every exchange file
            # accepts strings, and a string cannot pick up binary rounding on the way.
            answer = await self.trading.create_order(
                order.symbol, order.kind.value, order.side.value, instances.text(contracts),
                None if price is None else instances.text(price), params)
        except Exception as exc:
            error = self._error(exc, "place", f"create {cid}")
            if not isinstance(error, OutcomeUnknown):
                self._tracker.orders[cid].terminal = True
            raise error from None
        # The create answer is partial on several exchanges (bybit and okx: ids only,
        # hyperliquid: no status): it proves acceptance, nothing more.
        order_id = answer.get("id") if isinstance(answer, dict) else None
        if order_id is not None:
            self._tracker.learn_order_id(cid, str(order_id))
        return PlaceAck(client_id=cid, venue_order_id=None if order_id is None else str(order_id))

    def _reference_price(self, order: PlaceOrder) -> Decimal | None:
        book = self.books.books.get(order.symbol)
        if book is None or not book.bids or not book.asks:
            return None
        return book.far_touch(order.side)

    async def cancel(self, symbol: str, client_id: str) -> CancelAck:
        await self.start()
        self._market(symbol)
        try:
            answer = await self.trading.cancel_order(None, symbol, self.dialect.lookup(client_id))
        except Exception as exc:
            raise self._error(exc, "cancel", f"cancel {client_id}") from None
        if self.dialect.cancel_answer_final:
            market = self._market(symbol)
            state, _, filled = ccxt_parse.status(answer, self._contract_size(market),
                                                 f"{self.name} cancel answer {client_id}")
            if state is OrderStatus.OPEN:
                raise ccxt_parse.BadVenuePayload(
                    f"{self.name} cancel answer {client_id}: status open after a cancel")
            return CancelAck(client_id=client_id, filled=filled)
        return await self._confirm_cancel(symbol, client_id)

    async def _confirm_cancel(self, symbol: str, client_id: str) -> CancelAck:
        """bybit, okx and hyperliquid answer a cancel with ids only ("request accepted"):
        the cancel is confirmed once a query shows it terminal ("not found" is lag)."""
        for attempt in range(self._cancel_confirm_tries):
            try:
                snap = await self._query(self.trading, symbol, client_id)
            except OrderNotFound:  # accepted, so it exists: briefly in neither list
                snap = None
            if snap is not None and snap.status is not OrderStatus.OPEN:
                self._tracker.emit_snapshot(symbol, snap)
                return CancelAck(client_id=client_id, filled=snap.filled)
            if attempt + 1 < self._cancel_confirm_tries:
                await asyncio.sleep(self._cancel_confirm_interval_s)
        raise OutcomeUnknown(f"{self.name}: cancel of {client_id} accepted but not seen "
                             f"terminal in {self._cancel_confirm_tries} queries")

    async def query(self, symbol: str, client_id: str) -> OrderSnapshot:
        await self.start()
        snap = await self._query(self.trading, symbol, client_id)
        self._tracker.emit_snapshot(symbol, snap, push_status=False)
        return snap

    async def refresh(self, symbol: str, client_id: str) -> OrderSnapshot | None:
        """Reconciliation and polling: query on the background instance, push changes."""
        try:
            snap = await self._query(self.background, symbol, client_id)
        except OrderNotFound:
            return None
        self._tracker.emit_snapshot(symbol, snap)
        return snap

    async def _query(self, exchange: Any, symbol: str, client_id: str) -> OrderSnapshot:
        market = self._market(symbol)
        try:
            order = await ccxt_convert.fetch_order(exchange, self.dialect, market, client_id,
                                                 self.name)
            order_id = order.get("id")
            if order_id is not None:
                self._tracker.learn_order_id(client_id, str(order_id))
            trades: list[dict[str, Any]] = []
            if order.get("filled") and order_id is not None:
                trades = await ccxt_convert.fetch_trades(exchange, self.dialect, symbol,
                                                     str(order_id))
        except Exception as exc:
            raise self._error(exc, "query", f"query {client_id}") from None
        return ccxt_parse.snapshot(order, trades, venue=self.name, symbol=symbol,
                                   client_id=client_id,
                                   contract_size=self._contract_size(market),
                                   fee_fields=self.dialect.fee_fields)

    async def amend(
        self, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        """The dialect's edit by client id (new price and total size), then the truth.

        Edit answers are as partial as create answers on several venues, so status and
        filled come from a query by client id; if that query fails the amend's outcome
        is reported unknown and the engine cancels the order to learn it.
        """
        await self.start()
        rules = await self.market_rules(symbol)
        tracked = self._tracker.orders.get(client_id)
        if not rules.supports_amend:
            raise NotSupported(f"{self.name}: amend is not supported on {symbol}")
        if tracked is None:
            raise OrderNotFound(f"{self.name}: order {client_id} was not placed by this venue")
        market = self._market(symbol)
        contracts = qty / self._contract_size(market)
        rounded = ccxt_convert.maker_price(price, rules, self.dialect, tracked.side)
        try:
            await self.dialect.edit(self.trading, symbol, tracked.side.value,
                                    instances.text(contracts), instances.text(rounded),
                                    client_id)
        except Exception as exc:
            raise self._error(exc, "amend", f"amend {client_id}") from None
        tracked.qty = qty
        try:
            snapshot = await self.query(symbol, client_id)
        except VenueError as exc:
            raise OutcomeUnknown(f"{self.name}: amended {client_id}, state unknown: {exc}"
                                 ) from None
        return AmendAck(client_id, snapshot.status, snapshot.filled)

    # -- updates -----------------------------------------------------------------------

    def subscribe(self, handler: UpdateHandler) -> Callable[[], None]:
        unsubscribe = self._tracker.add_handler(handler)
        with contextlib.suppress(RuntimeError):  # no running loop: started on first use
            asyncio.get_running_loop()
            self.stream.start()
        return unsubscribe

    def live_orders(self) -> list[tuple[str, str]]:
        return self._tracker.live_orders()

    def on_ws_order(self, order: dict[str, Any]) -> None:
        self._tracker.on_ws_order(order)

    def on_ws_trade(self, trade: dict[str, Any]) -> None:
        self._tracker.on_ws_trade(trade)
