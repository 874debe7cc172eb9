"""Order-book arithmetic of the simulated venue, kept apart from its timing and reactions.

Matching is the part of a simulated exchange that must be exactly right: a wrong fill
price is a wrong P&L in every benchmark built on it. Keeping it in small functions over
plain state lets it be read (and reasoned about) without an event loop in the way.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Self

import attrs

from venues.market import (
    Book,
    BookLevel,
    MarketRules,
    OrderKind,
    OrderStatus,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)
from venues.protocol import (
    FillUpdate,
    OrderSnapshot,
)

ZERO = Decimal(0)


@attrs.define
class SimOrder:
    """One order as the simulated venue holds it; mutable because a venue's order is."""

    client_id: str
    venue_order_id: str
    symbol: str
    side: Side
    kind: OrderKind
    purpose: Purpose
    qty: Decimal
    price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    status: OrderStatus = OrderStatus.OPEN
    filled: Decimal = ZERO
    fills: list[FillUpdate] = attrs.Factory(list)

    @classmethod
    def placed(cls, order: PlaceOrder, venue_order_id: str, **extra: Any) -> Self:
        """The venue's record of an order it accepted (a market order has no limit);
        ``extra``: the fields a subclass adds."""
        return cls(
            client_id=order.client_id,
            venue_order_id=venue_order_id,
            symbol=order.symbol,
            side=order.side,
            kind=order.kind,
            purpose=order.purpose,
            qty=order.qty,
            price=order.price if order.kind is OrderKind.LIMIT else None,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            **extra,
        )

    def add_fill(self, fill: FillUpdate) -> bool:
        """Record one execution; True when it completed the order, now filled."""
        self.fills.append(fill)
        self.filled += fill.qty
        if self.remaining == 0:
            self.status = OrderStatus.FILLED
            return True
        return False

    def cancel(self) -> None:
        self.status = OrderStatus.CANCELED

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled

    @property
    def live(self) -> bool:
        return self.status is OrderStatus.OPEN

    @property
    def limit_price(self) -> Decimal:
        """The price a resting order fills at; only limit orders ever rest."""
        if self.price is None:
            raise ValueError(f"order {self.client_id} has no limit price")
        return self.price

    def snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            client_id=self.client_id,
            status=self.status,
            qty=self.qty,
            filled=self.filled,
            fills=tuple(self.fills),
        )


@attrs.define
class MarketState:
    """One symbol on the venue: its rules, the outside liquidity and our position.

    The book is the *other* traders' liquidity: our resting orders are not in it, and our
    taker fills consume it so that a second sweep sees what the first one left.
    """

    symbol: str
    rules: MarketRules
    bids: list[BookLevel]
    asks: list[BookLevel]
    position: Decimal

    @classmethod
    def create(cls, symbol: str, rules: MarketRules, book: Book, position: Decimal) -> MarketState:
        return cls(symbol, rules, list(book.bids), list(book.asks), position)

    def book(self, depth: int | None = None) -> Book:
        return Book(bids=tuple(self.bids[:depth]), asks=tuple(self.asks[:depth]))

    def replace_book(self, book: Book) -> None:
        self.bids = list(book.bids)
        self.asks = list(book.asks)

    def opposite(self, side: Side) -> list[BookLevel]:
        """The levels a taker on ``side`` consumes (the asks for a buy), best first."""
        return self.asks if side is Side.BUY else self.bids

    def far_touch(self, side: Side) -> Decimal | None:
        levels = self.opposite(side)
        return levels[0].price if levels else None

    def reducible(self, side: Side) -> Decimal:
        return reducible(self.position, side)

    def touch_text(self) -> str:
        bid = self.bids[0].price if self.bids else "-"
        ask = self.asks[0].price if self.asks else "-"
        return f"{self.symbol} bid {bid} ask {ask}"


def reducible(position: Decimal, side: Side) -> Decimal:
    """How much an order on ``side`` can trade without growing ``|position|``."""
    if position * side.sign < 0:
        return abs(position)
    return ZERO


def is_multiple(value: Decimal, step: Decimal) -> bool:
    try:
        return value % step == 0
    except InvalidOperation:  # quotient beyond the context precision: not a clean multiple
        return False


def rule_violation(rules: MarketRules, order: PlaceOrder, far_touch: Decimal | None) -> str | None:
    """Why the venue refuses ``order``, naming the rule and the numbers, or None.

    A market order's notional is judged at the far touch, the price it would trade at
    first; with an empty opposite side there is nothing to judge (it will expire unfilled).
    """
    qty = order.qty
    if qty <= 0:
        return f"qty: {qty} must be positive"
    if not is_multiple(qty, rules.lot):
        return f"lot: qty {qty} is not a multiple of lot {rules.lot}"
    price: Decimal | None
    if order.kind is OrderKind.LIMIT:
        if order.price is None:
            return "price: a limit order needs a price"
        if order.price <= 0:
            return f"price: {order.price} must be positive"
        if not is_multiple(order.price, rules.tick):
            return f"tick: price {order.price} is not a multiple of tick {rules.tick}"
        price = order.price
    else:
        price = far_touch
    if qty < rules.min_qty:
        return f"min_qty: qty {qty} is below min_qty {rules.min_qty}"
    if price is not None and qty * price < rules.min_notional:
        return (
            f"min_notional: notional {qty * price} (qty {qty} x price {price}) "
            f"is below min_notional {rules.min_notional}"
        )
    return None


def within_limit(side: Side, level_price: Decimal, limit: Decimal | None) -> bool:
    """Whether a taker on ``side`` with ``limit`` (None: market) may trade at ``level_price``."""
    if limit is None:
        return True
    return level_price <= limit if side is Side.BUY else level_price >= limit


def is_marketable(
    side: Side, kind: OrderKind, price: Decimal | None, opposite: list[BookLevel]
) -> bool:
    """Whether an order would trade on arrival, or a resting one has been crossed."""
    if not opposite:
        return False
    if kind is OrderKind.MARKET:
        return True
    return price is not None and within_limit(side, opposite[0].price, price)


def take(
    opposite: list[BookLevel], side: Side, limit: Decimal | None, qty: Decimal
) -> list[tuple[Decimal, Decimal]]:
    """Consume up to ``qty`` from ``opposite`` best level first; returns (price, qty) pairs.

    The levels are consumed in place: liquidity we took is gone for the next order.
    """
    executions: list[tuple[Decimal, Decimal]] = []
    left = qty
    while left > 0 and opposite and within_limit(side, opposite[0].price, limit):
        level = opposite[0]
        if level.qty <= 0:
            opposite.pop(0)
            continue
        traded = min(left, level.qty)
        executions.append((level.price, traded))
        left -= traded
        if traded == level.qty:
            opposite.pop(0)
        else:
            opposite[0] = BookLevel(price=level.price, qty=level.qty - traded)
    return executions
