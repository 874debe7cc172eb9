"""One set of checks for every value read from outside: config, scenario files, payloads.

An operator's config, a scenario file and a venue's JSON all fail the same few ways
(a float where an exact decimal belongs, a number out of range, a string where a
status belongs), and each failure must say what was expected. A ``Check`` is a test
and that phrase; where the value came from (a config field, a scenario key, a payload
field) and how the failure is worded around it are the caller's, so every message
stays in the form its readers know. attrs classes get validators from ``validator``;
the scenario reader, which reads TOML key by key, calls ``Check.problem`` directly.

The bounds below are the one place that says how large a number read from outside
may be (a quantity, a price, a notional, a duration); config, scenario files, the
pre-trade checks and the command-line flags all check against them, so a value one
door refuses is refused by every door.

Lives in ``venues`` (beside the market vocabulary) so that both packages can use it
without ``venues`` importing ``fsm``.
"""

from __future__ import annotations

import contextlib
import enum
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from venues.market import to_decimal

__all__ = [
    "MAX_NOTIONAL",
    "MAX_PLACES",
    "MAX_PRICE",
    "MAX_QTY",
    "MAX_SECONDS",
    "Check",
    "Fail",
    "at_least",
    "budget_bps",
    "decimal_or_keep",
    "decimal_written",
    "duration",
    "fee_rate",
    "finite_decimal",
    "greater_than",
    "in_range",
    "member",
    "member_or_keep",
    "non_empty_text",
    "notional",
    "one_of",
    "position",
    "price",
    "problem",
    "quantity",
    "quantity_or_zero",
    "seconds_in",
    "validator",
    "whole_in",
]

# -- bounds: the largest numbers accepted from outside -------------------------------------
#
# Quantities and prices are added and compared in the default Decimal context, which
# keeps 28 significant digits. A quantity below 10**12 with at most 12 decimal places
# has at most 24 digits, so a sum of up to 10,000 of them (a position and its fills) is
# exact; 1e30 plus a 0.5 fill is not, and an entry would report a false imbalance.
# A duration of more than a day is a typo (a latency of 1e18 ms would also stall the
# virtual clock, which advances at most a day per loop turn).
MAX_QTY = Decimal(10**12)  # base-asset units, a quantity or a position
MAX_PRICE = Decimal(10**9)  # quote units per base unit
MAX_NOTIONAL = Decimal(10**15)  # quote units: a notional bound, a minimum notional
MAX_PLACES = 12  # decimal places of a quantity or a price
MAX_SECONDS = 86_400.0  # a latency, a delay, a time within a run: one day
MAX_BUDGET_BPS = Decimal(2_000)  # a slippage budget: 20% past the mid is a typo, not a plan


@attrs.frozen
class Check:
    """A test a value must pass, and what was expected of it (a phrase, or one built from
    the value) when it does not."""

    ok: Callable[[Any], bool]
    expected: str | Callable[[Any], str]

    def problem(self, value: Any) -> str | None:
        """None when ``value`` passes; else what was expected instead."""
        if self.ok(value):
            return None
        return self.wording(value)

    def wording(self, value: Any) -> str:
        """What was expected, worded for ``value`` (which failed the test)."""
        return self.expected if isinstance(self.expected, str) else self.expected(value)

    def saying(self, expected: str | Callable[[Any], str]) -> Check:
        """The same test, worded as a caller's readers already know it."""
        return attrs.evolve(self, expected=expected)


def problem(value: Any, *checks: Check) -> str | None:
    """What the first failing check expected, or None when all pass (in order: a type
    check first spares the range checks after it a value they cannot compare)."""
    for check in checks:
        found = check.problem(value)
        if found is not None:
            return found
    return None


# How a caller reports a failed check on an attrs field: instance, field, value, phrase.
Fail = Callable[[Any, "attrs.Attribute[Any]", Any, str], NoReturn]


def validator(fail: Fail, *checks: Check, optional: bool = False) -> Any:
    """An attrs validator running ``checks`` in order (``optional``: None passes).

    Venue payloads are built with these on the way from a fill to the engine, so a value
    that passes costs one call of each test and nothing else: the phrase is worded only
    for a value that fails, and one or two checks (every payload field) are not looped
    over. What is refused, and how it is worded, is exactly ``problem``'s.
    """
    if len(checks) == 1:
        (check,) = checks
        test = check.ok

        def validate_one(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if (optional and value is None) or test(value):
                return
            fail(instance, attribute, value, check.wording(value))

        return validate_one

    if len(checks) == 2:  # a type, then a bound: every bounded payload number
        first, second = checks
        test_first, test_second = first.ok, second.ok

        def validate_two(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
            if optional and value is None:
                return
            if not test_first(value):
                fail(instance, attribute, value, first.wording(value))
            elif not test_second(value):
                fail(instance, attribute, value, second.wording(value))

        return validate_two

    tests = tuple((check.ok, check) for check in checks)

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        for test, check in tests:
            if not test(value):
                fail(instance, attribute, value, check.wording(value))
                return

    return validate


# -- converters: convert what can be converted, leave the rest for a check to name -------

def decimal_or_keep(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return value  # what to_decimal returns for it, without the call (the payload case)
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return value


def member_or_keep(kind: type[enum.Enum]) -> Callable[[Any], Any]:
    """A converter to a member of ``kind``; build it once where it runs often (a payload
    field), not per value. A value found among the members' values is the member
    ``kind(value)`` would give (that call looks in the same table first); anything else
    goes through ``kind(value)`` itself."""
    by_value: dict[Any, enum.Enum] = {}
    for each in kind:
        with contextlib.suppress(TypeError):  # an unhashable value: left to kind(value)
            by_value.setdefault(each.value, each)

    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        try:
            return by_value[value]
        except (KeyError, TypeError):
            pass
        try:
            return kind(value)
        except ValueError:
            return value

    return convert


def one_of(kind: type[enum.Enum]) -> str:
    return "one of " + ", ".join(repr(member.value) for member in kind)


# -- the checks ----------------------------------------------------------------------------

def _is_decimal(value: Any) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


# Tuples built once: ``int | float`` in a test builds a union on every call.
_NUMBER = (int, float, Decimal)  # a number (never a bool, tested apart)
_REAL = (int, float)


# A decimal must be written exactly: a float has already lost digits.
decimal_written = Check(
    lambda value: not isinstance(value, float),
    lambda value: f'a decimal number written as a string (for example "{value}")',
)
finite_decimal = Check(_is_decimal, "a finite decimal number")
non_empty_text = Check(lambda value: isinstance(value, str) and bool(value), "a non-empty string")


# A number (never a bool) tested inline: payload fields run these, one call each.
def greater_than(bound: Decimal) -> Check:
    return Check(lambda value: (not isinstance(value, bool) and isinstance(value, _NUMBER)
                                and value > bound),
                 f"a number greater than {bound}")


def at_least(bound: Decimal | int) -> Check:
    return Check(lambda value: (not isinstance(value, bool) and isinstance(value, _NUMBER)
                                and value >= bound),
                 f"a number of at least {bound}")


def in_range(lo: Decimal, hi: Decimal, *, lo_open: bool = False) -> Check:
    """``[lo, hi]`` (``(lo, hi]`` when ``lo_open``), for values already known to be numbers."""
    def ok(value: Any) -> bool:
        return bool((value > lo if lo_open else value >= lo) and value <= hi)

    return Check(ok, f"a value in {'(' if lo_open else '['}{lo}, {hi}]")


def whole_in(lo: int, hi: int | None = None) -> Check:
    """A whole number (never a bool) in ``[lo, hi]`` (``hi`` None: at least ``lo``)."""
    def ok(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return bool(lo <= value and (hi is None or value <= hi))

    expected = f"a whole number of at least {lo}" if hi is None else (
        f"a whole number in [{lo}, {hi}]")
    return Check(ok, expected)


def _places(value: Decimal) -> bool:
    """At most ``MAX_PLACES`` decimal places (for values already known to be bounded)."""
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MAX_PLACES


def _decimal_within(lo: Decimal, hi: Decimal, *, lo_open: bool, places: bool) -> Callable[
        [Any], bool]:
    def ok(value: Any) -> bool:
        if not _is_decimal(value):
            return False
        inside = (value > lo if lo_open else value >= lo) and value <= hi
        return bool(inside and (not places or _places(value)))

    return ok


# Bounded decimals (the range first, so the places test never meets a huge exponent).
quantity = Check(_decimal_within(Decimal(0), MAX_QTY, lo_open=True, places=True),
                 f"a quantity greater than 0 and at most {MAX_QTY:,f}, with at most "
                 f"{MAX_PLACES} decimal places")
position = Check(_decimal_within(-MAX_QTY, MAX_QTY, lo_open=False, places=True),
                 f"a position between -{MAX_QTY:,f} and {MAX_QTY:,f}, with at most "
                 f"{MAX_PLACES} decimal places")
price = Check(_decimal_within(Decimal(0), MAX_PRICE, lo_open=True, places=True),
              f"a price greater than 0 and at most {MAX_PRICE:,f}, with at most "
              f"{MAX_PLACES} decimal places")
notional = Check(_decimal_within(Decimal(0), MAX_NOTIONAL, lo_open=False, places=True),
                 f"an amount of at least 0 and at most {MAX_NOTIONAL:,f}, with at most "
                 f"{MAX_PLACES} decimal places")
fee_rate = Check(_decimal_within(Decimal(-1), Decimal(1), lo_open=False, places=True),
                 f"a fee rate between -1 and 1, with at most {MAX_PLACES} decimal places")

budget_bps = Check(_decimal_within(Decimal(0), MAX_BUDGET_BPS, lo_open=True, places=True),
                   f"a budget in bps greater than 0 and at most {MAX_BUDGET_BPS}, with at "
                   f"most {MAX_PLACES} decimal places")


# A quantity that may also be 0 (a minimum that does not apply).
quantity_or_zero = Check(_decimal_within(Decimal(0), MAX_QTY, lo_open=False, places=True),
                         f"a quantity of at least 0 and at most {MAX_QTY:,f}, with at most "
                         f"{MAX_PLACES} decimal places")


def duration(unit: str = "seconds", scale: float = 1.0) -> Check:
    """A finite, non-negative duration of at most ``MAX_SECONDS`` (``scale`` units per
    second: 1000 for milliseconds)."""
    hi = MAX_SECONDS * scale

    def ok(value: Any) -> bool:
        return (not isinstance(value, bool) and isinstance(value, _REAL)
                and math.isfinite(value) and 0 <= value <= hi)

    return Check(ok, f"a non-negative number of {unit} of at most {hi:,.0f} (one day)")


def seconds_in(lo: float, hi: float) -> Check:
    def ok(value: Any) -> bool:
        return (not isinstance(value, bool) and isinstance(value, _REAL)
                and lo < value <= hi)

    return Check(ok, f"seconds in ({lo}, {hi}]")


def member(kind: type[enum.Enum]) -> Check:
    return Check(lambda value: isinstance(value, kind), one_of(kind))
