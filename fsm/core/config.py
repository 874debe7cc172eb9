"""Entry configuration, validated at construction.

A wrong value must fail before anything is sent, with a message that names the field,
the value and the allowed range: config usually comes from a file an operator typed.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import attrs

from venues.market import to_decimal

OFFSET_MIN = Decimal("-0.01")
OFFSET_MAX = Decimal("0.05")


class HedgeOrder(enum.Enum):
    MARKET = "market"
    AGGRESSIVE_LIMIT = "aggressive_limit"


class HedgeMode(enum.Enum):
    """How the first imbalance is hedged while the lagging leg's quote still rests.

    ``cancel_then_hedge`` cancels that quote, waits for the venue to confirm it, then
    sends a hedge order: two round trips, and it works everywhere. ``amend_to_cross``
    amends the resting quote itself through the touch, sized to the imbalance: one
    round trip, used only where the venue supports an atomic amend (the market rules
    say so); elsewhere the entry falls back to cancel-then-hedge.
    """

    CANCEL_THEN_HEDGE = "cancel_then_hedge"
    AMEND_TO_CROSS = "amend_to_cross"


class ConfigError(ValueError):
    """An invalid configuration value; the message names field, value and allowed range."""


def _decimal_in(lo: Decimal, hi: Decimal, *, lo_open: bool = False) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, float):
            raise ConfigError(
                f"EntryConfig.{attribute.name}: got {value!r}, expected a decimal number "
                f'written as a string (for example "{value}")'
            )
        if not isinstance(value, Decimal) or not value.is_finite():
            shown = value if isinstance(value, Decimal) else repr(value)
            raise ConfigError(
                f"EntryConfig.{attribute.name}: got {shown}, expected a finite decimal number"
            )
        below = value <= lo if lo_open else value < lo
        if below or value > hi:
            bracket = "(" if lo_open else "["
            raise ConfigError(
                f"EntryConfig.{attribute.name}: got {value}, expected a value in "
                f"{bracket}{lo}, {hi}]"
            )

    return check


def _int_in(lo: int, hi: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(
                f"EntryConfig.{attribute.name}: got {value!r}, expected a whole number "
                f"in [{lo}, {hi}]"
            )

    return check


def _seconds_in(lo: float, hi: float) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo < value <= hi:
            raise ConfigError(
                f"EntryConfig.{attribute.name}: got {value!r}, expected seconds in ({lo}, {hi}]"
            )

    return check


def _to_decimal_or_keep(value: Any) -> Any:
    """Convert what can be converted; leave the rest for the validator to name."""
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return value


def _member(kind: type[enum.Enum], field: str, value: Any) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise ConfigError(
            f"EntryConfig.{field}: got {value!r}, expected one of {allowed}"
        ) from None


def _to_hedge_order(value: Any) -> Any:
    return _member(HedgeOrder, "hedge_order", value)


def _to_hedge_mode(value: Any) -> Any:
    return _member(HedgeMode, "hedge_mode", value)


@attrs.frozen(kw_only=True)
class EntryConfig:
    """How an entry quotes, when it hedges, and how hard it tries before rolling back.

    Faults: a request the venue definitely did not receive (``VenueUnavailable``) is
    sent again, same client order id, after a capped exponential backoff
    (``retry_backoff_s`` doubling up to ``retry_backoff_max_s``), at most
    ``send_retry_budget`` times per request. Queries of an order of unknown outcome
    back off the same way; ``query_retry_budget`` counts them per period of
    uncertainty (it starts again once the order's state is known).

    Offsets are fractions (``0.0001`` = 1 bp) measured from the touch a taker on the
    quote's side would hit (the ask for a buy): positive rests behind it, zero sits at
    it and negative crosses through it, still as a limit order.
    """

    limit_order_offset_pct: Decimal = attrs.field(
        default=Decimal("0.0001"),
        converter=_to_decimal_or_keep,
        validator=_decimal_in(OFFSET_MIN, OFFSET_MAX),
    )
    quote_timeout_s: float = attrs.field(default=30.0, validator=_seconds_in(0.0, 86400.0))
    hedge_trigger_fill_ratio: Decimal = attrs.field(
        default=Decimal(0),
        converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(0), Decimal(1)),
    )
    hedge_order: HedgeOrder = attrs.field(
        default=HedgeOrder.MARKET, converter=_to_hedge_order
    )
    hedge_mode: HedgeMode = attrs.field(
        default=HedgeMode.CANCEL_THEN_HEDGE, converter=_to_hedge_mode
    )
    hedge_limit_offset_pct: Decimal = attrs.field(
        default=Decimal("0.0005"),
        converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(0), Decimal("0.05")),
    )
    hedge_max_slippage_pct: Decimal = attrs.field(
        default=Decimal("0.005"),
        converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(0), Decimal("0.1"), lo_open=True),
    )
    hedge_retry_budget: int = attrs.field(default=3, validator=_int_in(0, 50))
    cancel_retry_budget: int = attrs.field(default=3, validator=_int_in(0, 50))
    rollback_retry_budget: int = attrs.field(default=3, validator=_int_in(0, 50))
    query_retry_budget: int = attrs.field(default=5, validator=_int_in(1, 100))
    send_retry_budget: int = attrs.field(default=5, validator=_int_in(0, 50))
    retry_backoff_s: float = attrs.field(default=0.05, validator=_seconds_in(0.0, 60.0))
    retry_backoff_max_s: float = attrs.field(default=1.0, validator=_seconds_in(0.0, 600.0))

    def __attrs_post_init__(self) -> None:
        if self.retry_backoff_max_s < self.retry_backoff_s:
            raise ConfigError(
                f"EntryConfig.retry_backoff_max_s: got {self.retry_backoff_max_s!r}, expected "
                f"at least retry_backoff_s ({self.retry_backoff_s!r})"
            )

    def backoff_s(self, retry: int) -> float:
        """The delay before the ``retry``-th retry of one request (see ``backoff_delay``)."""
        return backoff_delay(retry, self.retry_backoff_s, self.retry_backoff_max_s)

    def retry_policy(self) -> RetryPolicy:
        """The one value every order of an entry retries by (its cancel budget counts the
        first cancel too)."""
        return RetryPolicy(
            query_budget=self.query_retry_budget, cancel_budget=1 + self.cancel_retry_budget,
            send_budget=self.send_retry_budget, backoff_s=self.retry_backoff_s,
            backoff_max_s=self.retry_backoff_max_s,
        )

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> EntryConfig:
        """Build from a plain mapping (a scenario file), naming any unknown key."""
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"EntryConfig: unknown field(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(sorted(known))}"
            )
        return cls(**values)


def backoff_delay(retry: int, base_s: float, cap_s: float) -> float:
    """Capped exponential backoff without jitter: ``base * 2**(retry - 1)``, at most ``cap``.

    Deterministic on purpose: the same events give the same commands and delays, so
    a run replays exactly. Jitter spreads many clients hammering one server; here one
    entry retries one request, and its retries are counted and bounded.
    """
    if retry <= 1:
        return base_s
    return min(cap_s, base_s * 2.0 ** min(retry - 1, 60))


@attrs.frozen
class RetryPolicy:
    """How often and how patiently one order's requests are retried, as one value.

    Built once per entry from ``EntryConfig.retry_policy`` and shared by its orders, so
    the five figures travel together instead of as five arguments of every order.
    """

    query_budget: int  # queries per period of uncertainty
    cancel_budget: int  # cancel attempts, the first included
    send_budget: int = 5  # re-sends of one request the venue definitely did not receive
    backoff_s: float = 0.05
    backoff_max_s: float = 1.0

    def delay(self, retry: int) -> float:
        """The delay before the ``retry``-th retry (see ``backoff_delay``)."""
        return backoff_delay(retry, self.backoff_s, self.backoff_max_s)


def validate_offset(name: str, value: Decimal | None) -> None:
    """Per-leg offset overrides obey the same range as the default offset."""
    if value is not None and not OFFSET_MIN <= value <= OFFSET_MAX:
        raise ConfigError(f"{name}: got {value}, expected a value in [{OFFSET_MIN}, {OFFSET_MAX}]")
