"""Commands: everything the decision core can ask the shell to do.

``PlaceOrder`` is defined with the market vocabulary in ``venues.market``: the command
the core emits is the order a venue receives.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from venues.market import Leg, PlaceOrder


@attrs.frozen
class CancelOrder:
    client_id: str
    venue: str
    symbol: str


@attrs.frozen
class AmendOrder:
    """Re-price (and re-size) a resting order in one atomic request; ``qty`` is its new total.

    An amend to cross is marketable: like a hedge it records its budget (bps) and the mid
    it is measured from, so invariant 9 bounds its price and its fills."""

    client_id: str
    venue: str
    symbol: str
    price: Decimal
    qty: Decimal
    book_age_s: float | None = None  # the age of the book the price came from
    budget_bps: Decimal | None = None
    budget_reference: Decimal | None = None


@attrs.frozen
class QueryOrder:
    """Ask the venue for the truth about an order, by client order id."""

    client_id: str
    venue: str
    symbol: str


@attrs.frozen
class StartTimer:
    name: str
    delay_s: float


@attrs.frozen
class CancelTimer:
    name: str


@attrs.frozen
class RaiseAlert:
    """Something a human must look at: residual exposure, an order that stays unknown."""

    message: str
    residuals: dict[str, Decimal] = attrs.field(factory=dict)


@attrs.frozen
class ReadAccount:
    """Ask for the engine's account view of ``legs`` (answered by ``AccountRead``); the
    venue positions of ``fresh`` are read first: a reduce-only refusal said the view is wrong."""

    legs: tuple[Leg, ...]
    fresh: tuple[Leg, ...] = ()


@attrs.frozen
class ReadBook:
    """Read ``leg``'s book from its venue now (answered by ``BookRead``): the book the entry
    holds is older than ``max_book_age_s`` and an order is about to be priced from it, or
    (``refill``) it holds nothing within the hedge budget and the entry waits for a refill."""

    leg: Leg
    venue: str
    symbol: str
    refill: bool = False


Command = (PlaceOrder | CancelOrder | AmendOrder | QueryOrder | StartTimer | CancelTimer
           | RaiseAlert | ReadAccount | ReadBook)
