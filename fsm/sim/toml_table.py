"""A scenario file's TOML table, read key by key and checked with ``venues.checks``.

Loading a scenario is strict: every value meets a check that names the file, the key
and what was expected, and whatever key is left unread at ``done`` is a typo. The
reader is kept apart from what the keys mean (``scenario``), so the two read alone.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, TypeVar

from venues import checks
from venues.market import BookLevel

__all__ = ["ScenarioError", "Table"]

E = TypeVar("E", bound=enum.Enum)
_MISSING: Any = object()


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the file, the key and what was expected."""


# The checks a scenario file's values meet, worded for the person who typed the file.
_DECIMAL_WRITTEN = checks.decimal_written.saying(
    lambda value: f'a decimal written as a string (for example "{value}")')
_DECIMAL_AS_STRING = checks.finite_decimal.saying("a decimal number written as a string")
_POSITIVE = checks.greater_than(Decimal(0))
_MILLIS = checks.duration("milliseconds", 1000.0)
_BOOLEAN = checks.Check(lambda value: isinstance(value, bool), "true or false")
_STRING = checks.Check(lambda value: isinstance(value, str), "a string")


class Table:
    """A TOML table read key by key; whatever is left unread at ``done`` is a typo."""

    def __init__(self, data: Any, key: str, source: str) -> None:
        self.source = source
        self.key = key
        if not isinstance(data, dict):
            self.fail(key, "a table", data)
        self.data: dict[str, Any] = data
        self.read: set[str] = set()

    def path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, key: str, expected: str, got: Any = _MISSING) -> Any:
        found = "it is missing" if got is _MISSING else f"got {got!r}"
        raise ScenarioError(f"{self.source}: {key}: expected {expected}; {found}")

    def check(self, key: str, value: Any, *tests: checks.Check, got: Any = _MISSING) -> None:
        """Refuse ``value`` at ``key`` with what the first failing check expected, showing
        ``got`` (the value as written, when ``value`` is its conversion)."""
        found = checks.problem(value, *tests)
        if found is not None:
            self.fail(key, found, value if got is _MISSING else got)

    def get(self, name: str, default: Any = _MISSING) -> Any:
        self.read.add(name)
        if name not in self.data:
            if default is _MISSING:
                return self.fail(self.path(name), "a value")
            return default
        return self.data[name]

    def decimal(self, name: str, default: Any = _MISSING, *, minimum: Decimal | None = None,
                positive: bool = False, bound: checks.Check | None = None) -> Any:
        value = self.get(name, default)
        if value is default and default is not _MISSING:
            return value
        return self.as_decimal(self.path(name), value, minimum=minimum, positive=positive,
                               bound=bound)

    def as_decimal(self, key: str, value: Any, *, minimum: Decimal | None = None,
                   positive: bool = False, bound: checks.Check | None = None) -> Decimal:
        """``bound``: one of the bounded kinds of ``venues.checks`` (a quantity, a price),
        checked last so that a plainer complaint (a float, a negative) comes first."""
        self.check(key, value, _DECIMAL_WRITTEN)
        number = checks.decimal_or_keep(value)
        self.check(key, number, _DECIMAL_AS_STRING, got=value)
        if positive:
            self.check(key, number, _POSITIVE, got=value)
        if minimum is not None:
            self.check(key, number, checks.at_least(minimum), got=value)
        if bound is not None:
            self.check(key, number, bound, got=value)
        assert isinstance(number, Decimal)
        return number

    def millis(self, name: str, default: float) -> float:
        value = self.get(name, default)
        self.check(self.path(name), value, _MILLIS)
        return float(value) / 1000.0

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name, default)
        self.check(self.path(name), value, _BOOLEAN)
        return bool(value)

    def string(self, name: str, default: Any = _MISSING, *, non_empty: bool = False) -> Any:
        value = self.get(name, default)
        if value is not default:
            self.check(self.path(name), value, checks.non_empty_text if non_empty else _STRING)
        return value

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        value = self.get(name, default)
        self.check(self.path(name), value, checks.whole_in(minimum))
        return int(value)

    def choice(self, name: str, kind: type[E], default: Any = _MISSING) -> Any:
        value = self.get(name, default)
        if value is default and default is not _MISSING:
            return value
        converted = checks.member_or_keep(kind)(value)
        self.check(self.path(name), converted, checks.member(kind), got=value)
        return converted

    def table(self, name: str, default: Any = _MISSING) -> Table:
        if name not in self.data and default is _MISSING:
            self.read.add(name)
            self.fail(self.path(name), "a table")
        return Table(self.get(name, default), self.path(name), self.source)

    def tables(self, name: str) -> list[Table]:
        value = self.get(name, [])
        if not isinstance(value, list):
            self.fail(self.path(name), "an array of tables ([[...]])", value)
        return [Table(item, f"{self.path(name)}[{i}]", self.source)
                for i, item in enumerate(value)]

    def levels(self, name: str) -> tuple[BookLevel, ...]:
        value = self.get(name)
        key = self.path(name)
        if not isinstance(value, list) or not value:
            self.fail(key, 'a non-empty list of ["price", "qty"] pairs', value)
        levels = []
        for i, pair in enumerate(value):
            if not isinstance(pair, list) or len(pair) != 2:
                self.fail(f"{key}[{i}]", 'a ["price", "qty"] pair', pair)
            levels.append(BookLevel(
                self.as_decimal(f"{key}[{i}] price", pair[0], positive=True, bound=checks.price),
                self.as_decimal(f"{key}[{i}] qty", pair[1], positive=True,
                                bound=checks.quantity)))
        return tuple(levels)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            where = self.key or "the top level"
            raise ScenarioError(
                f"{self.source}: {where}: unknown key(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(sorted(self.read))}"
            )


