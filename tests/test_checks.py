"""The shared checks: the first failing one names what was expected; None passes when optional."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

import attrs
import pytest

from venues import checks


def test_the_first_failing_check_names_the_expectation() -> None:
    tests = (checks.decimal_written, checks.finite_decimal, checks.greater_than(Decimal(0)))
    assert checks.problem(Decimal("0.5"), *tests) is None
    assert checks.problem(0.5, *tests) == 'a decimal number written as a string (for example "0.5")'
    assert checks.problem("x", *tests) == "a finite decimal number"
    assert checks.problem(Decimal(0), *tests) == "a number greater than 0"
    assert checks.whole_in(1, 3).problem(True) == "a whole number in [1, 3]"
    assert checks.greater_than(Decimal(0)).problem(True) == "a number greater than 0"
    assert checks.at_least(0).problem(False) == "a number of at least 0"
    assert checks.in_range(Decimal(0), Decimal(1), lo_open=True).problem(Decimal(0)) == (
        "a value in (0, 1]")


def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> NoReturn:
    raise ValueError(f"{attribute.name}: got {value!r}, expected {expected}")


@attrs.frozen
class _Thing:
    size: Decimal | None = attrs.field(validator=checks.validator(
        _fail, checks.finite_decimal, checks.at_least(Decimal(1)), optional=True))


def test_validator_wires_checks_into_attrs() -> None:
    assert _Thing(None).size is None
    assert _Thing(Decimal(2)).size == Decimal(2)
    expected = r"^size: got Decimal\('0'\), expected a number of at least 1$"
    with pytest.raises(ValueError, match=expected):
        _Thing(Decimal(0))


def test_without_optional_none_is_refused() -> None:
    validate = checks.validator(_fail, checks.finite_decimal)
    with pytest.raises(ValueError, match="got None, expected a finite decimal number"):
        validate(None, attrs.fields(_Thing).size, None)
