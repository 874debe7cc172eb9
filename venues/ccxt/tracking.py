"""The orders a ``CcxtVenue`` placed, and the routing of exchange pushes to their owners.

Exchanges report by their own ids (an order id, a venue-side client id) and in any
order: a trade can arrive before the order id it names is known, a fill is reported by
the websocket and again by a query. This module keeps the mapping back to our client
ids and delivers each fill once, so the engine sees one coherent stream per order.

An order's last status and its trades travel apart on several venues (bybit's ``order``
and ``execution`` topics, hyperliquid's ``orderUpdates`` and ``userFills``), and the
status often comes first. The engine settles an order on its terminal status, so a
terminal update that claims more filled than the fills delivered is held: it goes out
once the missing trades arrive (within ``fill_grace_s``), else the order is re-queried
over REST (``refetch``), whose answer carries the trades and the status together.
Without this a hedge filled on bybit settled with no fills: no price, no fee.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs
from loguru import logger

from venues.ccxt import parse as ccxt_parse
from venues.ccxt.dialects import Dialect
from venues.ccxt.stream import order_client_id
from venues.market import OrderKind, OrderStatus, Side
from venues.protocol import (
    FillUpdate,
    OrderRejected,
    OrderSnapshot,
    OrderUpdate,
    UpdateHandler,
    VenueUpdate,
)

__all__ = ["OrderTracker", "Tracked", "from_info", "with_liquidity"]


def with_liquidity(trade: dict[str, Any], taker_flag: str | None) -> dict[str, Any]:
    """``trade`` with ``takerOrMaker`` read from the raw ``info`` flag ``taker_flag`` when
    ccxt left it empty (hyperliquid's websocket fills: ``crossed`` true is a taker)."""
    info = trade.get("info")
    if taker_flag is None or trade.get("takerOrMaker") is not None or not isinstance(
            info, dict) or not isinstance(info.get(taker_flag), bool):
        return trade
    return {**trade, "takerOrMaker": "taker" if info[taker_flag] else "maker"}


def from_info(trade: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """``trade`` with each unified field ccxt left empty taken from the raw ``info``.

    Only empty fields are filled, so a ccxt that parses them again wins; the raw text is
    what the exchange sent, so nothing is lost on the way (okx: ``fillPx``, ``fillSz``).
    """
    info = trade.get("info")
    if not fields or not isinstance(info, dict):
        return trade
    repaired = dict(trade)
    for unified, raw in fields:
        if repaired.get(unified) is None and info.get(raw) not in (None, ""):
            repaired[unified] = info[raw]
    return repaired


@attrs.define
class Tracked:
    """What this venue remembers about an order it placed, to route and reconcile it."""

    symbol: str
    side: Side
    qty: Decimal
    kind: OrderKind
    order_id: str | None = None
    terminal: bool = False


class OrderTracker:
    """Our orders on one exchange account and the handlers their updates go to.

    ``contract_size`` gives a symbol's contract size (refusing a market that is not ours
    with ``OrderRejected``): updates arrive in contracts and leave in base units.
    """

    def __init__(
        self, name: str, dialect: Dialect, contract_size: Callable[[str], Decimal],
        refetch: Callable[[str, str], Awaitable[Any]] | None = None,
        fill_grace_s: float = 0.05,
    ) -> None:
        self.name = name
        self._dialect = dialect
        self._contract_size = contract_size
        self._refetch = refetch
        self._fill_grace_s = fill_grace_s
        self._filled: dict[str, Decimal] = {}
        self._waits: set[asyncio.Task[None]] = set()
        self._fill_waiters: set[asyncio.Event] = set()
        self.orders: dict[str, Tracked] = {}
        self._by_venue_cid: dict[str, str] = {}
        self._by_order_id: dict[str, str] = {}
        self._pending_trades: dict[str, list[dict[str, Any]]] = {}
        self._seen_trades: set[tuple[str, str]] = set()
        self._handlers: list[UpdateHandler] = []
        self._log = logger.bind(venue=name)

    def track(self, cid: str, tracked: Tracked) -> None:
        self.orders[cid] = tracked
        self._by_venue_cid[self._dialect.client_id(cid)] = cid

    def add_handler(self, handler: UpdateHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._handlers.remove(handler)

        return unsubscribe

    def live_orders(self) -> list[tuple[str, str]]:
        return [(t.symbol, cid) for cid, t in self.orders.items() if not t.terminal]

    def push(self, update: VenueUpdate) -> None:
        for handler in tuple(self._handlers):
            try:
                handler(update)
            except Exception:
                self._log.exception("{}: update handler failed", self.name)

    def learn_order_id(self, cid: str, order_id: str) -> None:
        tracked = self.orders.get(cid)
        if tracked is not None:
            tracked.order_id = order_id
        self._by_order_id[order_id] = cid
        for trade in self._pending_trades.pop(order_id, []):
            self.on_ws_trade(trade)
        if not self._in_flight():
            self._pending_trades.clear()

    def _in_flight(self) -> bool:
        """Whether an order of ours may still own a trade we cannot route: one whose
        exchange id we have not learnt. Otherwise an unknown trade is not ours (another
        strategy's, or hyperliquid's history sent on subscribe) and kept for ever it
        would only grow: such trades are dropped, and the parked ones once all ids are
        known."""
        return any(t.order_id is None and not t.terminal for t in self.orders.values())

    def _push_fill(self, fill: FillUpdate) -> None:
        key = (fill.client_id, fill.trade_id)
        if key in self._seen_trades:
            return
        self._seen_trades.add(key)
        self._filled[fill.client_id] = self._filled.get(fill.client_id, Decimal(0)) + fill.qty
        for waiter in self._fill_waiters:
            waiter.set()
        self.push(fill)

    def emit_snapshot(self, symbol: str, snap: OrderSnapshot, push_status: bool = True) -> None:
        for fill in snap.fills:
            self._push_fill(fill)
        tracked = self.orders.get(snap.client_id)
        if tracked is not None and snap.status is not OrderStatus.OPEN:
            tracked.terminal = True
        if push_status:
            self.push(OrderUpdate(venue=self.name, symbol=symbol, client_id=snap.client_id,
                                  status=snap.status, filled=snap.filled))

    def on_ws_order(self, order: dict[str, Any]) -> None:
        venue_cid = order_client_id(order)
        cid = self._by_venue_cid.get(venue_cid or "")
        if cid is None:
            return  # not an order of ours (another strategy on the same account)
        tracked = self.orders[cid]
        if order.get("id") is not None:
            self.learn_order_id(cid, str(order["id"]))
        try:
            state, _, filled = ccxt_parse.status(order, self._contract_size(tracked.symbol),
                                                 f"{self.name} order update {cid}")
        except (ccxt_parse.BadVenuePayload, OrderRejected) as exc:
            self._log.error("{}: unreadable order update for {} ignored ({}); it will be "
                            "re-queried", self.name, cid, exc)
            return
        update = OrderUpdate(venue=self.name, symbol=tracked.symbol, client_id=cid,
                             status=state, filled=filled)
        if state is not OrderStatus.OPEN:
            tracked.terminal = True
            if filled > self._filled.get(cid, Decimal(0)) and self._refetch is not None:
                task = asyncio.get_running_loop().create_task(self._settle(update))
                self._waits.add(task)
                task.add_done_callback(self._waits.discard)
                return
        self.push(update)

    async def stop(self) -> None:
        """Drop the terminal updates still waiting for their trades (the venue closes)."""
        waits, self._waits = list(self._waits), set()
        for task in waits:
            task.cancel()
        for task in waits:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _settle(self, update: OrderUpdate) -> None:
        """Push a terminal ``update`` once its fills are in: wait for the trades briefly,
        then ask the exchange (the query pushes the trades and the status itself)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._fill_grace_s
        cid = update.client_id
        waiter = asyncio.Event()  # set by every fill delivered meanwhile
        self._fill_waiters.add(waiter)
        try:
            while self._filled.get(cid, Decimal(0)) < update.filled:
                left = deadline - loop.time()
                if left <= 0:
                    break
                waiter.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), left)
        finally:
            self._fill_waiters.discard(waiter)
        if self._filled.get(cid, Decimal(0)) >= update.filled or self._refetch is None:
            self.push(update)
            return
        try:
            if await self._refetch(update.symbol, cid) is None:  # not found: keep ours
                self.push(update)
        except Exception as exc:
            self._log.warning("{}: {} is terminal but its fills could not be read ({}); "
                              "settling on the pushed status", self.name, cid, exc)
            self.push(update)

    def on_ws_trade(self, trade: dict[str, Any]) -> None:
        order_id = str(trade.get("order"))
        cid = self._by_order_id.get(order_id)
        if cid is None:
            if self._in_flight():
                self._pending_trades.setdefault(order_id, []).append(trade)
            return
        tracked = self.orders[cid]
        trade = with_liquidity(from_info(trade, self._dialect.ws_trade_fields),
                               self._dialect.ws_taker_flag)
        try:
            fill = ccxt_parse.fill(trade, venue=self.name, symbol=tracked.symbol, client_id=cid,
                                   contract_size=self._contract_size(tracked.symbol),
                                   fee_fields=self._dialect.fee_fields)
        except (ccxt_parse.BadVenuePayload, OrderRejected) as exc:
            self._log.error("{}: unreadable trade for {} ignored ({})", self.name, cid, exc)
            return
        self._push_fill(fill)
