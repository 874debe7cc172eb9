"""Value types of an entry: what the strategy asks for and the fills it gets.

The market vocabulary (sides, books, rules, orders) lives in ``venues.market``.

Every quantity and price is a ``Decimal``; construction refuses floats so that a
binary rounding error can never sneak into an order size. Time is a float number of
seconds on the engine's clock (a virtual clock in simulation): time is not money.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from venues.market import Leg, Purpose, to_decimal
from venues.protocol import Liquidity


def _dec(value: object) -> Decimal:
    return to_decimal(value)


# ``Leg.LONG`` bound once: an enum class attribute read takes ``EnumType.__getattr__``
# (see ``fsm.core.members``), and ``EntryRequest.leg`` is asked several times per order.
_LONG = Leg.LONG

# The ``LegSpec`` field of each purpose's budget (quotes have none): a hedge asks per order.
_BUDGET_FIELD = {purpose: f"{purpose.value}_budget_bps" for purpose in Purpose}


@attrs.frozen
class LegSpec:
    """One leg of the request: where, what, how much, and an optional price offset."""

    venue: str
    symbol: str
    qty: Decimal = attrs.field(converter=_dec)
    limit_price_offset_pct: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_dec)
    )
    # Slippage budgets of this leg's marketable orders, in bps (None: the config's).
    hedge_budget_bps: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_dec))
    trim_budget_bps: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_dec))
    rollback_budget_bps: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_dec))

    def budget_override(self, purpose: Purpose) -> Decimal | None:
        """This leg's own budget for ``purpose`` (None: the config's applies)."""
        value: Decimal | None = getattr(self, _BUDGET_FIELD[purpose], None)
        return value


@attrs.frozen
class EntryRequest:
    """What the strategy asks for: buy ``long`` and sell ``short``, hedged."""

    long: LegSpec
    short: LegSpec
    entry_id: str | None = None
    # The size asked for, when the pre-trade check downsized both legs to what the arrival
    # books hold within the hedge budget (``fsm.core.pretrade.fit_to_budget``); None: as asked.
    downsized_from: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_dec))
    # Set by the engine when a circuit breaker of its venues is conservative
    # (``fsm.shell.breakers``): the size is already reduced; the planner takes no maker risk.
    conservative: bool = False

    def leg(self, leg: Leg) -> LegSpec:
        return self.long if leg is _LONG else self.short


@attrs.frozen
class Fill:
    """One execution, identified by the venue's trade id (duplicates are dropped by id)."""

    venue: str
    client_id: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    at: float
    hedge: bool = False
    liquidity: Liquidity | None = None  # None: the venue did not say
    fee_currency: str | None = None  # None: the venue did not say


def average_price(fills: Iterable[Fill]) -> Decimal | None:
    """Quantity-weighted price of some fills, or None when they add up to nothing."""
    fills = list(fills)
    qty = sum((f.qty for f in fills), Decimal(0))
    if qty == 0:
        return None
    return sum((f.qty * f.price for f in fills), Decimal(0)) / qty
