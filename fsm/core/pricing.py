"""Rounding and quote pricing: always toward our own side of the book.

Rounding a buy price *up* to the tick can carry a maker quote across the spread;
rounding a size up can overfill. So sizes round down to the lot, buy prices round
down and sell prices round up to the tick.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from fsm.core.members import BUY  # a hedge is priced here: see fsm.core.members
from venues.depth import budget_price
from venues.market import (
    Book,
    Side,
)


def round_down(qty: Decimal, lot: Decimal) -> Decimal:
    return (qty / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


def round_price(price: Decimal, tick: Decimal, side: Side) -> Decimal:
    """Round to the tick, toward the side that pays less (down for buys, up for sells)."""
    rounding = ROUND_FLOOR if side is BUY else ROUND_CEILING
    return (price / tick).to_integral_value(rounding=rounding) * tick


def offset_price(reference: Decimal, side: Side, offset: Decimal) -> Decimal:
    """Move ``offset`` (a fraction) away from a taker's price: positive is more passive."""
    return reference * (1 - offset) if side is BUY else reference * (1 + offset)


def quote_price(book: Book, side: Side, offset: Decimal, tick: Decimal) -> Decimal:
    """A limit price ``offset`` behind the touch a taker on ``side`` would hit.

    Positive offsets rest behind that touch; zero is priced at it, so the order takes
    that liquidity at once (a buy at the ask does not rest); negative offsets cross
    through it (an aggressive limit).
    """
    return round_price(offset_price(book.far_touch(side), side, offset), tick, side)


def aggressive_price(
    book: Book, side: Side, through: Decimal, cap_reference: Decimal, max_slippage: Decimal,
    tick: Decimal,
) -> Decimal:
    """A crossing limit ``through`` past the touch, never worse than the slippage cap."""
    wanted = offset_price(book.far_touch(side), side, -through)
    cap = offset_price(cap_reference, side, -max_slippage)
    bounded = min(wanted, cap) if side is BUY else max(wanted, cap)
    return round_price(bounded, tick, side)


def protective_price(side: Side, reference: Decimal, budget_bps: Decimal, tick: Decimal
                     ) -> Decimal:
    """The limit of a marketable order: the worst price ``budget_bps`` from ``reference``
    allows, rounded to the tick toward ``reference`` (the entry's orders and the dry run
    price it here, so they cannot disagree)."""
    return round_price(budget_price(side, reference, budget_bps), tick, side)
