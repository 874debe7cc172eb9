"""The venue-neutral heart of an exchange double: orders, fills, positions, scripted races.

Matching (is an order marketable, what a sweep takes level by level, how far a
reduce-only order may go) is the simulated venue's own (``venues.sim.matching``), so
the two exchanges cannot disagree on it. What stays here is what the wire doubles need
and the simulator has no use for: exchange-style string statuses and numeric ids,
post-only expiry, an outside book that taking does not deplete, and refusals named by
kind for each dialect to render in its exchange's JSON.

Dialect modules (``binance.py``, ``bybit.py``) translate HTTP and websocket traffic in
each exchange's real format to these calls and back. Scripted behaviour is keyed by the
purpose letter in our deterministic client ids (``ae<entry><L|S><q|h|t|r><n>``), the
way the simulated venue's reactions are keyed by purpose.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from venues.market import BookLevel, OrderKind, Side
from venues.sim.matching import is_marketable, reducible, take

_PURPOSE = re.compile(r"^ae[A-Za-z0-9]*?[LS]([qhtr])\d+$")


def purpose_of(client_id: str) -> str | None:
    """``q``, ``h``, ``t`` or ``r`` for one of our ids; None for anything else."""
    match = _PURPOSE.match(client_id)
    return match.group(1) if match else None


class Refused(Exception):
    """The exchange answers with an error (dialects render ``kind`` in their format)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass
class Trade:
    trade_id: int
    order_id: int
    client_id: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    maker: bool
    time_ms: int


@dataclass
class Order:
    order_id: int
    client_id: str
    symbol: str
    side: str  # "buy" | "sell"
    kind: str  # "limit" | "market"
    qty: Decimal
    price: Decimal | None
    tif: str  # "gtc" | "ioc" | "post_only"
    reduce_only: bool
    created_ms: int
    status: str = "new"  # new, partially_filled, filled, canceled, expired, rejected
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    updated_ms: int = 0
    trades: list[Trade] = field(default_factory=list)
    reject_reason: str = ""

    @property
    def live(self) -> bool:
        return self.status in ("new", "partially_filled")

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled

    @property
    def avg_price(self) -> Decimal:
        return self.notional / self.filled if self.filled else Decimal(0)


@dataclass
class Rules:
    lot: Decimal = Decimal("0.001")
    tick: Decimal = Decimal("0.1")
    min_qty: Decimal = Decimal("0.001")
    min_notional: Decimal = Decimal("5")
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.0005")


@dataclass
class Script:
    """Deviations from the happy path, consumed as they fire."""

    # on cancel of an order of this purpose: fill qty (None: the rest) then cancel;
    # when the fill completes the order the cancel answers "unknown order".
    fill_on_cancel: dict[str, Decimal | None] = field(default_factory=dict)
    # on create of this purpose: process the order, then hang the answer this long
    hang_create: dict[str, float] = field(default_factory=dict)
    # on create of this purpose: answer 429 without processing
    rate_limit_create: dict[str, int] = field(default_factory=dict)
    # after an order of this purpose is accepted: a maker fill of the rest this much later
    fill_after_create: dict[str, float] = field(default_factory=dict)
    # delay (s) before websocket pushes are sent
    push_delay_s: float = 0.0
    # delay (s) before a websocket subscription takes effect (pushes meanwhile: dropped)
    subscribe_delay_s: float = 0.0
    # answer a public book subscription with a snapshot of the book (bybit, okx and
    # hyperliquid doubles); off, a book socket stays quiet and books are read over REST
    serve_books: bool = False
    # on create of this purpose: refuse it this many times (insufficient margin), nothing
    # recorded, as every venue does with an order it will not accept
    reject_create: dict[str, int] = field(default_factory=dict)

    def rate_limited(self, client_id: str) -> bool:
        """Whether this create is one ``rate_limit_create`` answers 429 (spending it)."""
        return _spend(self.rate_limit_create, purpose_of(client_id) or "")


def _spend(counts: dict[str, int], key: str) -> bool:
    """Take one of ``counts[key]`` if any is left: a scripted deviation fires that often."""
    if counts.get(key, 0) <= 0:
        return False
    counts[key] -= 1
    return True


Listener = Callable[[str, Order, Trade | None], None]


class FakeExchange:
    """One account on one exchange, one or more symbols, one outside book per symbol."""

    def __init__(self, name: str, books: dict[str, tuple[list[tuple[str, str]],
                                                         list[tuple[str, str]]]],
                 rules: Rules | None = None) -> None:
        self.name = name
        self.rules = rules or Rules()
        self.books = {s: ([(Decimal(p), Decimal(q)) for p, q in b],
                          [(Decimal(p), Decimal(q)) for p, q in a])
                      for s, (b, a) in books.items()}
        self.positions: dict[str, Decimal] = {s: Decimal(0) for s in books}
        self.orders: dict[str, Order] = {}
        self.by_id: dict[int, Order] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.unknown_routes: list[str] = []
        self.script = Script()
        self.listeners: list[Listener] = []
        self._order_ids = itertools.count(8_886_774_000)
        self._trade_ids = itertools.count(698_759_000)
        self._clock_ms = 1_700_000_000_000

    # -- time and notification ---------------------------------------------------------

    def now_ms(self) -> int:
        self._clock_ms += 1
        return self._clock_ms

    def _notify(self, what: str, order: Order, trade: Trade | None = None) -> None:
        for listener in list(self.listeners):
            listener(what, order, trade)

    def record(self, method: str, path: str, params: dict[str, Any]) -> None:
        self.requests.append((method, path, dict(params)))

    def trading_requests(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Requests that could change something on the account (POST/DELETE/PUT)."""
        return [r for r in self.requests if r[0] in ("POST", "DELETE", "PUT")
                and "listenKey" not in r[1]]

    # -- orders --------------------------------------------------------------------------

    def create(self, *, client_id: str, symbol: str, side: str, kind: str, qty: Decimal,
               price: Decimal | None, tif: str, reduce_only: bool) -> Order:
        if symbol not in self.books:
            raise Refused("bad_symbol", symbol)
        if client_id in self.orders:
            raise Refused("duplicate", client_id)
        purpose = purpose_of(client_id) or ""
        if _spend(self.script.reject_create, purpose):
            raise Refused("margin", client_id)
        r = self.rules
        if qty <= 0 or qty % r.lot != 0 or qty < r.min_qty:
            raise Refused("lot", f"quantity {qty}")
        if price is not None and price % r.tick != 0:
            raise Refused("tick", f"price {price}")
        reference = price if price is not None else self._touch(symbol, side)
        if not reduce_only and qty * reference < r.min_notional:
            raise Refused("notional", f"{qty * reference}")
        if reduce_only and self._reducible(symbol, side) == 0:
            raise Refused("reduce_only", f"position {self.positions[symbol]}")
        now = self.now_ms()
        order = Order(next(self._order_ids), client_id, symbol, side, kind, qty, price, tif,
                      reduce_only, now, updated_ms=now)
        marketable = self._marketable(order)
        if tif == "post_only" and marketable:
            order.status = "expired"
            order.reject_reason = "post_only"
            self._store(order)
            self._notify("new", order)
            self._notify("expired", order)
            return order
        self._store(order)
        self._notify("new", order)
        delay = self.script.fill_after_create.pop(purpose_of(client_id) or "", None)
        if delay is not None:
            asyncio.get_running_loop().call_later(
                delay, lambda: order.live and self.fill(order, order.remaining))
        if marketable:
            self._take(order)
        if order.live and (kind == "market" or tif == "ioc"):
            order.status = "expired" if order.filled == 0 or kind == "market" else "canceled"
            order.updated_ms = self.now_ms()
            self._notify("expired", order)
        return order

    def _store(self, order: Order) -> None:
        self.orders[order.client_id] = order
        self.by_id[order.order_id] = order

    def lookup(self, client_id: str | None = None, order_id: int | None = None) -> Order:
        order = (self.orders.get(client_id) if client_id is not None
                 else self.by_id.get(order_id) if order_id is not None else None)
        if order is None:
            raise Refused("not_found", str(client_id or order_id))
        return order

    def cancel(self, client_id: str | None = None, order_id: int | None = None) -> Order:
        order = self.lookup(client_id, order_id)
        purpose = purpose_of(order.client_id)
        if order.live and purpose in self.script.fill_on_cancel:
            want = self.script.fill_on_cancel.pop(purpose)
            self.fill(order, order.remaining if want is None else min(want, order.remaining))
        if not order.live:
            raise Refused("not_found", f"{order.client_id} is {order.status}")
        order.status = "canceled"
        order.updated_ms = self.now_ms()
        self._notify("canceled", order)
        return order

    def amend(self, order: Order, price: Decimal) -> Order:
        if not order.live:
            raise Refused("not_found", order.client_id)
        order.price = price
        order.updated_ms = self.now_ms()
        if order.tif == "post_only" and self._marketable(order):
            # binance, bybit, okx (51511) and hyperliquid cancel a post-only order that an
            # amend would make take
            order.status = "canceled"
            self._notify("canceled", order)
            return order
        self._notify("amended", order)
        if self._marketable(order):
            self._take(order)
        return order

    # -- matching ------------------------------------------------------------------------

    def _touch(self, symbol: str, side: str) -> Decimal:
        bids, asks = self.books[symbol]
        return asks[0][0] if side == "buy" else bids[0][0]

    def _opposite(self, symbol: str, side: str) -> list[BookLevel]:
        """The levels a taker on ``side`` meets, as the simulator's matching reads them: a
        copy, because this double's outside book stays as configured whatever we take."""
        bids, asks = self.books[symbol]
        return [BookLevel(p, q) for p, q in (asks if side == "buy" else bids)]

    def would_take(self, symbol: str, side: str, price: Decimal | None) -> bool:
        kind = OrderKind.MARKET if price is None else OrderKind.LIMIT
        return is_marketable(Side(side), kind, price, self._opposite(symbol, side))

    def _marketable(self, order: Order) -> bool:
        return is_marketable(Side(order.side), OrderKind(order.kind), order.price,
                             self._opposite(order.symbol, order.side))

    def _reducible(self, symbol: str, side: str) -> Decimal:
        return reducible(self.positions[symbol], Side(side))

    def _take(self, order: Order) -> None:
        """Sweep the book as the simulated venue does (reduce-only clipped to the position)."""
        want = order.remaining
        if order.reduce_only:
            want = min(want, self._reducible(order.symbol, order.side))
        limit = order.price if order.kind == "limit" else None
        for price, qty in take(self._opposite(order.symbol, order.side), Side(order.side),
                               limit, want):
            self.fill(order, qty, price, maker=False)

    def fill(self, order: Order, qty: Decimal, price: Decimal | None = None,
             maker: bool = True) -> Trade:
        """Execute ``qty`` of ``order`` (a maker fill at its limit price by default)."""
        assert order.live and 0 < qty <= order.remaining, (order.status, qty, order.remaining)
        price = price if price is not None else order.price
        assert price is not None
        rate = self.rules.maker_fee if maker else self.rules.taker_fee
        trade = Trade(next(self._trade_ids), order.order_id, order.client_id, order.side,
                      price, qty, (qty * price * rate).quantize(Decimal("0.00000001")), maker,
                      self.now_ms())
        order.trades.append(trade)
        order.filled += qty
        order.notional += qty * price
        order.status = "filled" if order.remaining == 0 else "partially_filled"
        order.updated_ms = trade.time_ms
        sign = 1 if order.side == "buy" else -1
        self.positions[order.symbol] += sign * qty
        self._notify("trade", order, trade)
        return trade

    def fill_first_live(self, purpose: str, qty: Decimal | None = None) -> Trade | None:
        for order in self.orders.values():
            if order.live and purpose_of(order.client_id) == purpose:
                return self.fill(order, order.remaining if qty is None else qty)
        return None

    def fill_later(self, delay_s: float, purpose: str, qty: Decimal | None = None,
                   tries: int = 50) -> None:
        """``delay_s`` from now, fill the oldest live order of ``purpose``; if none is live
        yet, look again every 20 ms (at most ``tries`` times)."""
        loop = asyncio.get_running_loop()

        def attempt(left: int) -> None:
            if self.fill_first_live(purpose, qty) is None and left > 0:
                loop.call_later(0.02, attempt, left - 1)

        loop.call_later(delay_s, attempt, tries)
