"""Commands: everything the decision core can ask the shell to do."""

from __future__ import annotations

from decimal import Decimal

import attrs

from fsm.values import Leg, OrderKind, Purpose, Side, TimeInForce


@attrs.frozen
class PlaceOrder:
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


@attrs.frozen
class CancelOrder:
    client_id: str
    venue: str
    symbol: str


@attrs.frozen
class AmendOrder:
    """Re-price (and re-size) a resting order in one atomic request; ``qty`` is its new total."""

    client_id: str
    venue: str
    symbol: str
    price: Decimal
    qty: Decimal


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


Command = PlaceOrder | CancelOrder | AmendOrder | QueryOrder | StartTimer | CancelTimer | RaiseAlert
