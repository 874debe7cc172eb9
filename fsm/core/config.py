"""Entry configuration, validated at construction.

A wrong value must fail before anything is sent, with a message that names the field,
the value and the allowed range: config usually comes from a file an operator typed.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from fsm.core.choices import HedgeMode as HedgeMode
from fsm.core.choices import HedgeOrder as HedgeOrder
from fsm.core.choices import PlanChoice as PlanChoice
from fsm.core.choices import PlanHedge as PlanHedge
from fsm.core.choices import RequiredMarginMode as RequiredMarginMode
from fsm.core.choices import RequiredPositionMode as RequiredPositionMode
from fsm.core.fees import FeeOverrideError, Overrides, parse_overrides
from venues import checks
from venues.account import PositionMode
from venues.market import Purpose

OFFSET_MIN = Decimal("-0.01")
OFFSET_MAX = Decimal("0.05")
DEFAULT_MAX_NOTIONAL = Decimal("1000000")
FILL_PROBABILITY_MAX = Decimal("0.999")  # 1 would mean a fill for certain: no model


class ConfigError(ValueError):
    """An invalid configuration value; the message names field, value and allowed range."""


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


def _fail_shown(instance: Any, attribute: attrs.Attribute[Any], value: Any,
                expected: str) -> NoReturn:
    """A decimal field names a Decimal as written (``0.2``), anything else by its repr."""
    raise ConfigError(f"EntryConfig.{attribute.name}: got {_shown(value)}, expected {expected}")


def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> NoReturn:
    raise ConfigError(f"EntryConfig.{attribute.name}: got {value!r}, expected {expected}")


def _decimal_in(lo: Decimal, hi: Decimal, *, lo_open: bool = False) -> Any:
    return checks.validator(_fail_shown, checks.decimal_written, checks.finite_decimal,
                            checks.in_range(lo, hi, lo_open=lo_open))


def _budget() -> Any:
    return checks.validator(_fail_shown, checks.decimal_written, checks.budget_bps)


def _int_in(lo: int, hi: int) -> Any:
    return checks.validator(_fail, checks.whole_in(lo, hi))


def _seconds_in(lo: float, hi: float) -> Any:
    return checks.validator(_fail, checks.seconds_in(lo, hi))


def _to_decimal_or_keep(value: Any) -> Any:
    """Convert what can be converted; leave the rest for the validator to name."""
    return checks.decimal_or_keep(value)


def _member(kind: type[enum.Enum], field: str, value: Any) -> Any:
    """Refused here, in the converter, so a bad choice is named before any later field."""
    converted = checks.member_or_keep(kind)(value)
    if not isinstance(converted, kind):
        raise ConfigError(f"EntryConfig.{field}: got {value!r}, expected {checks.one_of(kind)}")
    return converted


def _to_hedge_order(value: Any) -> Any:
    return _member(HedgeOrder, "hedge_order", value)


def _to_hedge_mode(value: Any) -> Any:
    return _member(HedgeMode, "hedge_mode", value)


def _to_plan(value: Any) -> Any:
    return _member(PlanChoice, "plan", value)


def _to_plan_hedge(value: Any) -> Any:
    return _member(PlanHedge, "plan_hedge", value)


def _to_margin_mode(value: Any) -> Any:
    return _member(RequiredMarginMode, "margin_mode", value)


def _to_position_mode(value: Any) -> Any:
    if value in (PositionMode.HEDGE, PositionMode.HEDGE.value):
        raise ConfigError("EntryConfig.position_mode: got 'hedge', expected one_way (hedge-mode "
                          "accounts are refused before anything is sent; README \"check\")")
    return _member(RequiredPositionMode, "position_mode", value)


def _to_fill_probabilities(value: Any) -> tuple[tuple[str, Decimal], ...]:
    """``{venue: probability}`` (a config file's shape, or ``venue=p,venue=p`` from a flag)
    as sorted pairs, each checked."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, str):  # a command-line flag: "okx=0.3,bybit=0.5"
        value = {venue.strip(): given.strip() for venue, _, given in
                 (item.partition("=") for item in value.split(",") if item.strip())}
    if not isinstance(value, dict):
        raise ConfigError(f"EntryConfig.plan_fill_probability_by_venue: got {value!r}, "
                          "expected a table of venue = probability")
    pairs = []
    for venue, given in sorted(value.items()):
        probability = checks.decimal_or_keep(given)
        if not (isinstance(probability, Decimal) and probability.is_finite()
                and 0 < probability <= FILL_PROBABILITY_MAX):
            raise ConfigError(f"EntryConfig.plan_fill_probability_by_venue: {venue}: got "
                              f"{given!r}, expected a value in (0, {FILL_PROBABILITY_MAX}]")
        pairs.append((str(venue), probability))
    return tuple(pairs)


def _to_fee_overrides(value: Any) -> Overrides:
    try:
        return parse_overrides(value)
    except FeeOverrideError as exc:
        raise ConfigError(f"EntryConfig.fees: {exc}") from None


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
    quote's side would hit (the ask for a buy): positive rests behind it, zero is priced
    at it and so takes that liquidity at once (a buy at the ask does not rest), and
    negative crosses through it, still as a limit order.
    """

    limit_order_offset_pct: Decimal = attrs.field(
        default=Decimal("0.0001"),
        converter=_to_decimal_or_keep,
        validator=_decimal_in(OFFSET_MIN, OFFSET_MAX),
    )
    quote_timeout_s: float = attrs.field(default=30.0,
                                       validator=_seconds_in(0.0, checks.MAX_SECONDS))
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
    # A book received longer ago than this is stale: nothing is priced from it, the entry
    # reads the venue's book again first (a hedge after a quiet minute must not go out at
    # the minute-old touch). Live books arrive by push every fraction of a second; REST
    # polling venues and the simulator's scripted books are read again when stale.
    max_book_age_s: float = attrs.field(default=2.0, validator=_seconds_in(0.01, 600.0))
    # How long, in all, an imbalance may wait for the hedge venue's book to refill when the
    # book holds no tradable size within the hedge budget (a thin book our own IOC drained):
    # then the entry rolls back, under the wider rollback budget (safety before cost). Short:
    # a naked leg waiting costs more than a rollback's slippage in a thin market.
    refill_timeout_s: float = attrs.field(default=1.0, validator=_seconds_in(0.0, 600.0))
    # Slippage budgets, in bps against the mid of the freshest book the entry holds for the
    # leg (at the start: the arrival mid). Every marketable order (hedge, trim, rollback)
    # is an IOC limit at the worst price its budget allows (``venues.depth.budget_price``):
    # what the book does not hold within it is not taken. The rollback budget is the widest
    # (safety before cost: an unhedged leg costs more than slippage). A leg's own
    # ``LegSpec`` budget wins over these.
    hedge_budget_bps: Decimal = attrs.field(
        default=Decimal(50), converter=_to_decimal_or_keep, validator=_budget())
    trim_budget_bps: Decimal = attrs.field(
        default=Decimal(50), converter=_to_decimal_or_keep, validator=_budget())
    rollback_budget_bps: Decimal = attrs.field(
        default=Decimal(200), converter=_to_decimal_or_keep, validator=_budget())
    # The most one leg of a request may be worth at its quote price, in quote units
    # (USDT for a BTC/USDT:USDT perpetual): a typo in a quantity is refused before any
    # order leaves. Raise it in the config for larger entries.
    max_notional: Decimal = attrs.field(
        default=DEFAULT_MAX_NOTIONAL,
        converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(0), checks.MAX_NOTIONAL, lo_open=True),
    )

    # The account pre-flight (``fsm.core.preflight``; ``atomic-entry check``, and ``enter``
    # first): the highest leverage a leg's account may be set to (5: an isolated leg is
    # liquidated after a move of roughly 1/leverage less maintenance margin, about 19% at
    # 5x, beyond BTC's worst days; 20x, binance's default, is about 4%), the margin mode
    # and the position mode it must be in (see RequiredMarginMode, RequiredPositionMode).
    max_leverage: Decimal = attrs.field(
        default=Decimal(5), converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(1), Decimal(125)))
    margin_mode: RequiredMarginMode = attrs.field(
        default=RequiredMarginMode.ISOLATED, converter=_to_margin_mode)
    position_mode: RequiredPositionMode = attrs.field(
        default=RequiredPositionMode.ONE_WAY, converter=_to_position_mode)

    # Fee rates that win over the venue's own, per venue and per venue+symbol (see
    # fsm.core.fees): ``{"okx": {"maker": "0.0001", "taker": "0.0004", "symbols":
    # {"BTC/USDT:USDT": {...}}}}``.
    fees: Overrides = attrs.field(default=(), converter=_to_fee_overrides)

    # The execution planner (``fsm.core.planner``; README "How it decides", Planner).
    # ``plan`` forces how the legs start or lets the planner choose; ``plan_hedge`` the
    # same for the hedge of the leg left behind. Defaults: today's behaviour.
    plan: PlanChoice = attrs.field(default=PlanChoice.MAKER_MAKER, converter=_to_plan)
    plan_hedge: PlanHedge = attrs.field(default=PlanHedge.MARKET, converter=_to_plan_hedge)
    # Volatility of the mid in bp per sqrt(second): the caller's estimate (it has the
    # price history; an entry sees a few seconds of books). 0.89 is BTC at 50% a year.
    plan_volatility_bp: Decimal = attrs.field(
        default=Decimal("0.89"), converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(0), Decimal(1000), lo_open=True))
    # The chance that a quote at the offset fills as maker within ``quote_timeout_s``,
    # every venue (0.8: a 1 bp quote on a liquid perpetual within 30 s, a prior for the
    # cost benchmark to calibrate); ``plan_fill_probability_by_venue`` wins per venue.
    plan_fill_probability: Decimal = attrs.field(
        default=Decimal("0.8"), converter=_to_decimal_or_keep,
        validator=_decimal_in(Decimal(0), FILL_PROBABILITY_MAX, lo_open=True))
    plan_fill_probability_by_venue: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(), converter=_to_fill_probabilities)

    def fill_probability(self, venue: str) -> Decimal:
        """The planner's maker fill probability for ``venue`` within the quote timeout."""
        for name, probability in self.plan_fill_probability_by_venue:
            if name == venue:
                return probability
        return self.plan_fill_probability

    def __attrs_post_init__(self) -> None:
        if self.retry_backoff_max_s < self.retry_backoff_s:
            raise ConfigError(
                f"EntryConfig.retry_backoff_max_s: got {self.retry_backoff_max_s!r}, expected "
                f"at least retry_backoff_s ({self.retry_backoff_s!r})"
            )
        widest = max(self.hedge_budget_bps, self.trim_budget_bps)
        if self.rollback_budget_bps < widest:
            raise ConfigError(
                f"EntryConfig.rollback_budget_bps: got {self.rollback_budget_bps}, expected "
                f"at least the hedge and trim budgets ({widest}): a rollback is the last "
                "safety, it must not be the first order a budget refuses"
            )

    def budget_bps(self, purpose: Purpose, override: Decimal | None = None) -> Decimal:
        """The slippage budget of a marketable order for ``purpose``; a leg's own wins."""
        if override is not None:
            return override
        if purpose is Purpose.ROLLBACK:
            return self.rollback_budget_bps
        return self.trim_budget_bps if purpose is Purpose.TRIM else self.hedge_budget_bps

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


def validate_budget(name: str, value: Decimal | None) -> None:
    """Per-leg budget overrides obey the same bounds as the config's budgets."""
    found = None if value is None else checks.budget_bps.problem(value)
    if found is not None:
        raise ConfigError(f"{name}: got {value}, expected {found}")


def validate_offset(name: str, value: Decimal | None) -> None:
    """Per-leg offset overrides obey the same range as the default offset."""
    found = None if value is None else checks.in_range(OFFSET_MIN, OFFSET_MAX).problem(value)
    if found is not None:
        raise ConfigError(f"{name}: got {value}, expected {found}")
