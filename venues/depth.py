"""What a book can take: prices for a quantity, quantity up to a price, and impact.

Pure functions over a ``venues.market.Book``, in Decimal. They live beside the book in
``venues`` rather than in the core because both layers price from depth: the core's
slippage budgets and economics, and the adapters' protective prices for a "market"
order (an IOC limit at a budget's worst price), which must not import ``fsm``.

A book that cannot fill the quantity is not an error and not a silent partial: the
answer is a ``Shortfall``, a type of its own that says how much was there, so a caller
has to decide (mypy makes it) what a thin book means for it.

Conventions (as NautilusTrader's ``get_avg_px_for_quantity`` and Hummingbot's
``get_vwap_for_volume``): a buy walks the asks, a sell walks the bids, best level first;
levels with no quantity are skipped. Impact is signed as a cost: positive when the
average (or worst) price is worse for the taker than the reference.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from venues.market import Book, BookLevel, Side

ZERO = Decimal(0)
BPS = Decimal(10_000)


@attrs.frozen
class Sweep:
    """The whole ``qty`` can be taken: at ``average`` (VWAP), the last level at ``worst``."""

    side: Side
    qty: Decimal
    notional: Decimal
    worst: Decimal

    @property
    def average(self) -> Decimal:
        return self.notional / self.qty

    def impact_bps(self, reference: Decimal) -> Decimal:
        """The average price's cost against ``reference``, in bps (positive: worse)."""
        return cost_bps(self.side, self.average, reference)

    def worst_impact_bps(self, reference: Decimal) -> Decimal:
        """The worst level's cost against ``reference``: what a protective limit must allow."""
        return cost_bps(self.side, self.worst, reference)


@attrs.frozen
class Shortfall:
    """The book holds only ``available`` of the ``qty`` asked (possibly nothing)."""

    side: Side
    qty: Decimal
    available: Decimal
    notional: Decimal
    worst: Decimal | None  # None: nothing on that side at all

    @property
    def missing(self) -> Decimal:
        return self.qty - self.available

    @property
    def average(self) -> Decimal | None:
        """The VWAP of what is there, None when nothing is."""
        return None if self.available == 0 else self.notional / self.available


def levels_for(book: Book, side: Side) -> tuple[BookLevel, ...]:
    """The levels a taker on ``side`` consumes, best first (the asks for a buy)."""
    return book.asks if side is Side.BUY else book.bids


def sweep(book: Book, side: Side, qty: Decimal) -> Sweep | Shortfall:
    """Take ``qty`` (> 0) from the book as a taker on ``side`` would, level by level."""
    if qty <= 0:
        raise ValueError(f"sweep: qty must be > 0, got {qty}")
    left, notional, worst = qty, ZERO, None
    for level in levels_for(book, side):
        if left == 0:
            break
        if level.qty <= 0:
            continue
        taken = min(left, level.qty)
        notional += taken * level.price
        worst = level.price
        left -= taken
    if left == 0:
        assert worst is not None
        return Sweep(side=side, qty=qty, notional=notional, worst=worst)
    return Shortfall(side=side, qty=qty, available=qty - left, notional=notional, worst=worst)


def average_price(book: Book, side: Side, qty: Decimal) -> Decimal | Shortfall:
    """The VWAP of taking ``qty``, or the shortfall when the book is too thin."""
    taken = sweep(book, side, qty)
    return taken.average if isinstance(taken, Sweep) else taken


def worst_price(book: Book, side: Side, qty: Decimal) -> Decimal | Shortfall:
    """The price of the last level ``qty`` reaches, or the shortfall."""
    taken = sweep(book, side, qty)
    return taken.worst if isinstance(taken, Sweep) else taken


def within(side: Side, price: Decimal, limit: Decimal) -> bool:
    """Whether a taker on ``side`` limited at ``limit`` may trade at ``price``."""
    return price <= limit if side is Side.BUY else price >= limit


def quantity_up_to(book: Book, side: Side, limit: Decimal) -> Decimal:
    """How much a taker on ``side`` can take without trading beyond ``limit``."""
    total = ZERO
    for level in levels_for(book, side):
        if not within(side, level.price, limit):
            break
        total += max(level.qty, ZERO)
    return total


def micro_price(book: Book) -> Decimal:
    """The touch weighted by the opposite sizes (Stoikov's micro-price, first order).

    A heavy bid pushes the fair price toward the ask: ``(bid * ask_qty + ask * bid_qty) /
    (bid_qty + ask_qty)``. Raises ValueError on a one-sided book, as ``Book.mid`` does.
    """
    bid, ask = book.bids[0] if book.bids else None, book.asks[0] if book.asks else None
    if bid is None or ask is None:
        raise ValueError("micro_price: the book needs both a bid and an ask")
    weight = bid.qty + ask.qty
    if weight <= 0:
        return book.mid
    return (bid.price * ask.qty + ask.price * bid.qty) / weight


def cost_bps(side: Side, price: Decimal, reference: Decimal) -> Decimal:
    """``price`` against ``reference`` in bps, signed as a cost to a taker on ``side``."""
    if reference <= 0:
        raise ValueError(f"cost_bps: reference must be > 0, got {reference}")
    return (price - reference) * side.sign / reference * BPS


def budget_price(side: Side, reference: Decimal, budget_bps: Decimal) -> Decimal:
    """The worst price a taker on ``side`` may pay within ``budget_bps`` of ``reference``:
    the protective limit of a "market" order (round it to the tick toward ``reference``).
    With ``quantity_up_to`` it tells how much of a hedge a budget allows right now."""
    if budget_bps < 0:
        raise ValueError(f"budget_price: budget must be >= 0 bps, got {budget_bps}")
    return reference * (1 + side.sign * budget_bps / BPS)


def impact_vs_mid(book: Book, side: Side, qty: Decimal) -> Decimal | Shortfall:
    """The average price's cost in bps against the mid, or the shortfall."""
    taken = sweep(book, side, qty)
    return taken.impact_bps(book.mid) if isinstance(taken, Sweep) else taken


def impact_vs_micro(book: Book, side: Side, qty: Decimal) -> Decimal | Shortfall:
    """The average price's cost in bps against the micro-price, or the shortfall."""
    taken = sweep(book, side, qty)
    return taken.impact_bps(micro_price(book)) if isinstance(taken, Sweep) else taken
