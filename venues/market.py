"""The language spoken with a venue: sides, order kinds, statuses, books, rules, orders.

These types sit at the bottom of the project: ``venues`` (the protocol and every
adapter) and ``fsm`` (the decision core and everything above it) both use them, and
this module imports nothing of either. That is what keeps the dependency one-way:
``fsm`` builds on ``venues``; nothing in ``venues`` imports ``fsm``.

Every quantity and price is a ``Decimal``; construction refuses floats so that a
binary rounding error can never sneak into an order size.
"""

from __future__ import annotations

import enum
import itertools
from decimal import Decimal
from typing import Any

import attrs


class FastEnum(enum.Enum):
    """An ``Enum`` hashed by identity, in C.

    ``Enum.__hash__`` is a Python function (the hash of the member's name), run on every
    dict lookup and set test keyed by a member: positions and books per leg, rules by
    request, statuses. Members are singletons that compare by identity, so the identity
    hash is as correct and costs no Python call.
    """

    __hash__ = object.__hash__


class Side(FastEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the direction a fill moves a position."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Leg(FastEnum):
    """The two legs of a hedged entry: long on one venue, short on the other."""

    LONG = "long"
    SHORT = "short"

    @property
    def side(self) -> Side:
        return Side.BUY if self is Leg.LONG else Side.SELL

    @property
    def other(self) -> Leg:
        return Leg.SHORT if self is Leg.LONG else Leg.LONG


class Purpose(FastEnum):
    """Why an order exists; rollback and trims are sized from these, never from positions."""

    QUOTE = "quote"
    HEDGE = "hedge"
    TRIM = "trim"
    ROLLBACK = "rollback"


class OrderStatus(FastEnum):
    """An order's status as a venue reports it (query answers and pushed updates).

    ``FILLED`` means the venue says it is done; the filled quantity decides whether it
    filled completely (ccxt's ``closed`` can mean partially filled then cancelled).
    """

    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"


class OrderKind(FastEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(FastEnum):
    GTC = "gtc"
    IOC = "ioc"


def to_decimal(value: Any, what: str = "value") -> Decimal:
    """Convert to Decimal, refusing floats (use strings) and non-finite values."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (bool, float)):
        raise TypeError(f"{what}: expected a decimal string or Decimal, got {value!r}")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            raise ValueError(f"{what}: {value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{what}: expected a decimal string or Decimal, got {value!r}")
    if not result.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return result


def _dec(value: Any) -> Decimal:
    return to_decimal(value)


@attrs.frozen
class MarketRules:
    """A venue's trading rules for one symbol, in base-asset units."""

    lot: Decimal = attrs.field(converter=_dec)
    tick: Decimal = attrs.field(converter=_dec)
    min_qty: Decimal = attrs.field(converter=_dec)
    min_notional: Decimal = attrs.field(converter=_dec, default=Decimal(0))
    maker_fee: Decimal = attrs.field(converter=_dec, default=Decimal(0))
    taker_fee: Decimal = attrs.field(converter=_dec, default=Decimal(0))
    supports_amend: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("lot", "tick"):
            if getattr(self, name) <= 0:
                raise ValueError(f"MarketRules.{name} must be > 0, got {getattr(self, name)}")
        if self.min_qty < 0 or self.min_notional < 0:
            raise ValueError("MarketRules.min_qty and min_notional must be >= 0")

    def tradable(self, qty: Decimal, price: Decimal) -> bool:
        """Whether a venue would accept an order of this size at this price."""
        return qty > 0 and qty >= self.min_qty and qty * price >= self.min_notional


@attrs.frozen
class BookLevel:
    price: Decimal = attrs.field(converter=_dec)
    qty: Decimal = attrs.field(converter=_dec)


class BookError(ValueError):
    """Levels that make no usable book: a side empty, crossed, out of order.

    Venue adapters build their ``Book`` where they read it and turn this into
    ``venues.protocol.UnusableBook`` naming the venue and symbol, so a caller learns it
    from the venue layer and may read again; a ``Book`` that exists is usable, and
    nothing that decides from one has to check it again.
    """


@attrs.frozen
class Book:
    """Depth snapshot: bids best-first (descending), asks best-first (ascending).

    Construction refuses an unusable snapshot (``BookError``): both sides present,
    each strictly ordered with positive prices and sizes, the best bid below the best
    ask. Every price taken from a book (touch, mid, far touch) is then defined.
    """

    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]

    def __attrs_post_init__(self) -> None:
        problem = _book_problem(self.bids, self.asks)
        if problem is not None:
            raise BookError(problem)

    @property
    def best_bid(self) -> Decimal:
        return self.bids[0].price

    @property
    def best_ask(self) -> Decimal:
        return self.asks[0].price

    @property
    def mid(self) -> Decimal:
        return (self.best_bid + self.best_ask) / 2

    def far_touch(self, side: Side) -> Decimal:
        """The price a taker on ``side`` would hit first: the ask for a buy."""
        return self.best_ask if side is Side.BUY else self.best_bid


def _book_problem(bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...]) -> str | None:
    """What makes these levels no usable book, or None."""
    for name, levels, better in (("bids", bids, Decimal.__gt__), ("asks", asks, Decimal.__lt__)):
        if not levels:
            return f"the book has no {name}"
        for level in levels:
            if level.price <= 0 or level.qty <= 0:
                return (f"{name} level {level.price} x {level.qty}: expected a positive "
                        "price and size")
        for first, second in itertools.pairwise(levels):
            if not better(first.price, second.price):
                order = "descending" if name == "bids" else "ascending"
                return (f"{name} not strictly {order} (best first): {first.price} then "
                        f"{second.price}")
    if bids[0].price >= asks[0].price:
        return f"the book is crossed or locked: bid {bids[0].price}, ask {asks[0].price}"
    return None


@attrs.frozen
class PlaceOrder:
    """One order to send: the core's command and, as it stands, what a venue receives."""

    client_id: str
    venue: str
    symbol: str
    leg: Leg
    purpose: Purpose
    side: Side
    kind: OrderKind
    qty: Decimal
    price: Decimal | None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    # How old the book this order was priced from was when it was sent (seconds; None:
    # not priced from a book). Venues ignore it; the freshness invariant reads it.
    book_age_s: float | None = None
    # A marketable order's slippage budget (bps) and the mid it is measured from: its
    # price is the protective limit they allow. Venues ignore them; the budget invariant
    # checks the limit and every fill against them.
    budget_bps: Decimal | None = None
    budget_reference: Decimal | None = None
