"""EntryConfig's field checks: each field's accepted edges and refused values.

Every refusal names the field, the value and the bounds, because an operator meets these
messages in a scenario file or a strategy's settings and must fix them without the code.
Split from test_config.py (the config as a value) so each file has one job.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from fsm.core.config import ConfigError, EntryConfig, HedgeMode, HedgeOrder

D = Decimal

DECIMAL_FIELDS = (
    "limit_order_offset_pct",
    "hedge_trigger_fill_ratio",
    "hedge_limit_offset_pct",
    "hedge_max_slippage_pct",
)
BUDGET_FIELDS = ("hedge_retry_budget", "cancel_retry_budget", "rollback_retry_budget",
                 "send_retry_budget")


# --------------------------------------------------------------------------- invalid values

_RANGE = "expected a value in"
_OFFSET = "[-0.01, 0.05]"
_RATIO = "[0, 1]"
_HEDGE_OFFSET = "[0, 0.05]"
_SLIPPAGE = "(0, 0.1]"
_SECONDS = "expected seconds in (0.0, 86400.0]"


def _case(field: str, value: Any, message: str, id_: str) -> Any:
    return pytest.param(field, value, f"EntryConfig.{field}: {message}", id=id_)


_BUDGET = "a budget in bps greater than 0 and at most 2000, with at most 12 decimal places"

INVALID = [
    # limit_order_offset_pct: [-0.01, 0.05], decimal
    _case("limit_order_offset_pct", "-0.0101", f"got -0.0101, {_RANGE} {_OFFSET}", "offset-below"),
    _case("limit_order_offset_pct", D("-1"), f"got -1, {_RANGE} {_OFFSET}", "offset-far-below"),
    _case("limit_order_offset_pct", "0.0501", f"got 0.0501, {_RANGE} {_OFFSET}", "offset-above"),
    _case("limit_order_offset_pct", 1, f"got 1, {_RANGE} {_OFFSET}", "offset-int-above"),
    _case(
        "limit_order_offset_pct",
        0.0001,
        'got 0.0001, expected a decimal number written as a string (for example "0.0001")',
        "offset-float",
    ),
    _case(
        "limit_order_offset_pct", True, "got True, expected a finite decimal number", "offset-bool"
    ),
    _case(
        "limit_order_offset_pct",
        "abc",
        "got 'abc', expected a finite decimal number",
        "offset-text",
    ),
    _case(
        "limit_order_offset_pct", "NaN", "got 'NaN', expected a finite decimal number", "offset-nan"
    ),
    _case(
        "limit_order_offset_pct", None, "got None, expected a finite decimal number", "offset-none"
    ),
    _case(
        "limit_order_offset_pct",
        D("Infinity"),
        "got Infinity, expected a finite decimal number",
        "offset-infinity",
    ),
    # quote_timeout_s: (0, 86400], int or float seconds
    _case("quote_timeout_s", 0, f"got 0, {_SECONDS}", "timeout-zero-is-open"),
    _case("quote_timeout_s", 0.0, f"got 0.0, {_SECONDS}", "timeout-zero-float"),
    _case("quote_timeout_s", -1, f"got -1, {_SECONDS}", "timeout-negative"),
    _case("quote_timeout_s", 86400.5, f"got 86400.5, {_SECONDS}", "timeout-above"),
    _case("quote_timeout_s", "30", f"got '30', {_SECONDS}", "timeout-string"),
    _case("quote_timeout_s", True, f"got True, {_SECONDS}", "timeout-bool"),
    _case("quote_timeout_s", D("30"), f"got Decimal('30'), {_SECONDS}", "timeout-decimal"),
    _case("quote_timeout_s", float("nan"), f"got nan, {_SECONDS}", "timeout-nan"),
    _case("quote_timeout_s", float("inf"), f"got inf, {_SECONDS}", "timeout-inf"),
    # hedge_trigger_fill_ratio: [0, 1], decimal
    _case("hedge_trigger_fill_ratio", "-0.0001", f"got -0.0001, {_RANGE} {_RATIO}", "ratio-below"),
    _case("hedge_trigger_fill_ratio", "1.0001", f"got 1.0001, {_RANGE} {_RATIO}", "ratio-above"),
    _case("hedge_trigger_fill_ratio", "2", f"got 2, {_RANGE} {_RATIO}", "ratio-two"),
    _case(
        "hedge_trigger_fill_ratio",
        0.5,
        'got 0.5, expected a decimal number written as a string (for example "0.5")',
        "ratio-float",
    ),
    _case(
        "hedge_trigger_fill_ratio",
        False,
        "got False, expected a finite decimal number",
        "ratio-bool",
    ),
    # hedge_order: one of the enum values
    _case(
        "hedge_order",
        "limit",
        "got 'limit', expected one of 'market', 'aggressive_limit'",
        "hedge-order-unknown",
    ),
    _case(
        "hedge_order",
        "MARKET",
        "got 'MARKET', expected one of 'market', 'aggressive_limit'",
        "hedge-order-wrong-case",
    ),
    _case("hedge_order", 1, "got 1, expected one of 'market', 'aggressive_limit'", "hedge-order-1"),
    _case(
        "hedge_order",
        None,
        "got None, expected one of 'market', 'aggressive_limit'",
        "hedge-order-none",
    ),
    _case(
        "hedge_mode",
        "amend",
        "got 'amend', expected one of 'cancel_then_hedge', 'amend_to_cross'",
        "hedge-mode-unknown",
    ),
    # hedge_limit_offset_pct: [0, 0.05], decimal
    _case(
        "hedge_limit_offset_pct",
        "-0.0001",
        f"got -0.0001, {_RANGE} {_HEDGE_OFFSET}",
        "hedge-offset-below",
    ),
    _case(
        "hedge_limit_offset_pct",
        "0.0501",
        f"got 0.0501, {_RANGE} {_HEDGE_OFFSET}",
        "hedge-offset-above",
    ),
    _case(
        "hedge_limit_offset_pct",
        0.001,
        'got 0.001, expected a decimal number written as a string (for example "0.001")',
        "hedge-offset-float",
    ),
    # hedge_max_slippage_pct: (0, 0.1], decimal
    _case("hedge_max_slippage_pct", "0", f"got 0, {_RANGE} {_SLIPPAGE}", "slippage-zero-is-open"),
    _case("hedge_max_slippage_pct", "-0.1", f"got -0.1, {_RANGE} {_SLIPPAGE}", "slippage-neg"),
    _case(
        "hedge_max_slippage_pct", "0.1001", f"got 0.1001, {_RANGE} {_SLIPPAGE}", "slippage-above"
    ),
    _case(
        "hedge_max_slippage_pct",
        0.005,
        'got 0.005, expected a decimal number written as a string (for example "0.005")',
        "slippage-float",
    ),
    # query_retry_budget: whole number in [1, 100]
    _case("query_retry_budget", 0, "got 0, expected a whole number in [1, 100]", "query-zero"),
    _case("query_retry_budget", 101, "got 101, expected a whole number in [1, 100]", "query-101"),
    _case(
        "query_retry_budget", True, "got True, expected a whole number in [1, 100]", "query-bool"
    ),
    _case("query_retry_budget", 5.0, "got 5.0, expected a whole number in [1, 100]", "query-float"),
    # max_notional: (0, 10**15], decimal
    _case("max_notional", "0", f"got 0, {_RANGE} (0, 1000000000000000]", "notional-zero"),
    _case("max_notional", "1e16", f"got 1E+16, {_RANGE} (0, 1000000000000000]",
          "notional-above"),
    _case("max_notional", "NaN", "got 'NaN', expected a finite decimal number", "notional-nan"),
    _case("max_notional", 1000.0, 'got 1000.0, expected a decimal number written as a string '
          '(for example "1000.0")', "notional-float"),
    # the account pre-flight: leverage in [1, 125]; margin and position modes by name
    _case("max_leverage", "0", f"got 0, {_RANGE} [1, 125]", "leverage-zero"),
    _case("max_leverage", "126", f"got 126, {_RANGE} [1, 125]", "leverage-above"),
    _case("margin_mode", "crossed", "got 'crossed', expected one of 'isolated', 'cross', 'any'",
          "margin-mode-unknown"),
    _case("position_mode", "hedge", "got 'hedge', expected one_way (hedge-mode accounts are "
          "refused before anything is sent; README \"check\")", "position-mode-hedge"),
    # fees: overrides per venue and per venue+symbol, rates in [-1, 1]
    _case("fees", {"okx": {"maker": "0.0001", "tak": "0.0004"}},
          "okx: unknown key(s) tak; expected some of maker, symbols, taker", "fees-unknown-key"),
    _case("fees", {"okx": {"maker": "2", "taker": "0.0004"}},
          "okx: maker: got 2, expected a fee rate between -1 and 1, with at most 12 decimal "
          "places", "fees-above"),
    _case("fees", {"okx": {"maker": "0.0001"}},
          "okx: give both maker and taker, got only maker", "fees-half"),
    _case("fees", {"okx": {"symbols": {"BTC/USDT:USDT": {"maker": "0"}}}},
          "okx.symbols.BTC/USDT:USDT: give both maker and taker, got only maker",
          "fees-symbol-half"),
    _case("fees", "cheap", "expected a table of venues, got 'cheap'", "fees-not-a-table"),
    # retry backoff: seconds, the cap at least the base
    _case("retry_backoff_s", 0, "got 0, expected seconds in (0.0, 60.0]", "backoff-zero"),
    _case("retry_backoff_s", 61, "got 61, expected seconds in (0.0, 60.0]", "backoff-above"),
    _case("retry_backoff_s", "1", "got '1', expected seconds in (0.0, 60.0]", "backoff-string"),
    _case("retry_backoff_max_s", 0, "got 0, expected seconds in (0.0, 600.0]", "backoff-max-zero"),
    _case("retry_backoff_max_s", 0.01,
          "got 0.01, expected at least retry_backoff_s (0.05)", "backoff-max-below-base"),
    _case("max_book_age_s", 0, "got 0, expected seconds in (0.01, 600.0]", "book-age-zero"),
    _case("max_book_age_s", 601, "got 601, expected seconds in (0.01, 600.0]", "book-age-above"),
    _case("max_book_age_s", "2", "got '2', expected seconds in (0.01, 600.0]", "book-age-string"),
    _case("refill_timeout_s", 0, "got 0, expected seconds in (0.0, 600.0]", "refill-zero"),
    _case("refill_timeout_s", 601, "got 601, expected seconds in (0.0, 600.0]", "refill-above"),
    _case("hedge_budget_bps", "0", f"got 0, expected {_BUDGET}", "hedge-budget-zero"),
    _case("trim_budget_bps", "2000.5", f"got 2000.5, expected {_BUDGET}", "trim-budget-above"),
    _case("rollback_budget_bps", 0.5, 'got 0.5, expected a decimal number written as a string '
          '(for example "0.5")', "rollback-budget-float"),
    _case("rollback_budget_bps", "20", "got 20, expected at least the hedge and trim budgets "
          "(50): a rollback is the last safety, it must not be the first order a budget "
          "refuses", "rollback-budget-narrower"),
    # the planner (issue 16)
    _case("plan", "maker", "got 'maker', expected one of 'auto', 'maker_maker', "
          "'maker_taker', 'taker_maker', 'taker_taker'", "plan-unknown"),
    _case("plan_hedge", "later", "got 'later', expected one of 'market', 'adaptive', 'auto'",
          "plan-hedge-unknown"),
    _case("plan_volatility_bp", "0", f"got 0, {_RANGE} (0, 1000]", "plan-volatility-zero"),
    _case("plan_fill_probability", "1", f"got 1, {_RANGE} (0, 0.999]", "plan-fill-one"),
    _case("plan_fill_probability_by_venue", {"okx": "0"}, f"okx: got '0', {_RANGE} (0, 0.999]",
          "plan-fill-venue-zero"),
]
for _field in BUDGET_FIELDS:
    _short = _field.removesuffix("_retry_budget")
    _bounds = "expected a whole number in [0, 50]"
    INVALID += [
        _case(_field, -1, f"got -1, {_bounds}", f"{_short}-budget-negative"),
        _case(_field, 51, f"got 51, {_bounds}", f"{_short}-budget-above"),
        _case(_field, True, f"got True, {_bounds}", f"{_short}-budget-bool-true"),
        _case(_field, False, f"got False, {_bounds}", f"{_short}-budget-bool-false"),
        _case(_field, 3.0, f"got 3.0, {_bounds}", f"{_short}-budget-float"),
        _case(_field, "3", f"got '3', {_bounds}", f"{_short}-budget-string"),
    ]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_invalid_value_is_refused_naming_field_value_and_bounds(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        EntryConfig(**{field: value})
    assert str(caught.value) == message
    assert f"EntryConfig.{field}" in str(caught.value)


def test_every_field_has_an_invalid_case() -> None:
    covered = {p.values[0] for p in INVALID}
    assert covered == {f.name for f in attrs.fields(EntryConfig)}


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^EntryConfig\.hedge_retry_budget: got 99"):
        EntryConfig(hedge_retry_budget=99)


@pytest.mark.parametrize("field", DECIMAL_FIELDS)
def test_decimal_nan_is_refused_with_config_error(field: str) -> None:
    with pytest.raises(ConfigError, match=rf"^EntryConfig\.{field}: got NaN"):
        EntryConfig(**{field: D("NaN")})


# --------------------------------------------------------------------------- valid edges


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        pytest.param("limit_order_offset_pct", "-0.01", D("-0.01"), id="offset-min-inclusive"),
        pytest.param("limit_order_offset_pct", "0.05", D("0.05"), id="offset-max-inclusive"),
        pytest.param("limit_order_offset_pct", "0", D(0), id="offset-zero-at-touch"),
        pytest.param("limit_order_offset_pct", 0, D(0), id="offset-int-zero"),
        pytest.param("limit_order_offset_pct", "-0.0002", D("-0.0002"), id="offset-crossing"),
        pytest.param("limit_order_offset_pct", D("0.001"), D("0.001"), id="offset-decimal"),
        pytest.param("limit_order_offset_pct", "1E-4", D("0.0001"), id="offset-exponent"),
        pytest.param("quote_timeout_s", 86400, 86400, id="timeout-max-inclusive-int"),
        pytest.param("quote_timeout_s", 86400.0, 86400.0, id="timeout-max-inclusive-float"),
        pytest.param("quote_timeout_s", 0.001, 0.001, id="timeout-just-above-zero"),
        pytest.param("quote_timeout_s", 5, 5, id="timeout-int"),
        pytest.param("hedge_trigger_fill_ratio", "0", D(0), id="ratio-zero-inclusive"),
        pytest.param("hedge_trigger_fill_ratio", "1", D(1), id="ratio-one-inclusive"),
        pytest.param("hedge_trigger_fill_ratio", 1, D(1), id="ratio-int-one"),
        pytest.param("hedge_trigger_fill_ratio", "0.5", D("0.5"), id="ratio-half"),
        pytest.param("hedge_order", "market", HedgeOrder.MARKET, id="hedge-order-market"),
        pytest.param(
            "hedge_order", "aggressive_limit", HedgeOrder.AGGRESSIVE_LIMIT, id="hedge-order-aggr"
        ),
        pytest.param(
            "hedge_order", HedgeOrder.AGGRESSIVE_LIMIT, HedgeOrder.AGGRESSIVE_LIMIT, id="enum"
        ),
        pytest.param("hedge_mode", "amend_to_cross", HedgeMode.AMEND_TO_CROSS, id="amend-mode"),
        pytest.param("hedge_limit_offset_pct", "0", D(0), id="hedge-offset-zero-inclusive"),
        pytest.param("hedge_limit_offset_pct", "0.05", D("0.05"), id="hedge-offset-max"),
        pytest.param(
            "hedge_max_slippage_pct", "0.00000001", D("0.00000001"), id="slippage-just-above-0"
        ),
        pytest.param("hedge_max_slippage_pct", "0.1", D("0.1"), id="slippage-max-inclusive"),
        pytest.param("hedge_retry_budget", 0, 0, id="hedge-budget-zero"),
        pytest.param("hedge_retry_budget", 50, 50, id="hedge-budget-max"),
        pytest.param("cancel_retry_budget", 0, 0, id="cancel-budget-zero"),
        pytest.param("cancel_retry_budget", 50, 50, id="cancel-budget-max"),
        pytest.param("rollback_retry_budget", 0, 0, id="rollback-budget-zero"),
        pytest.param("rollback_retry_budget", 50, 50, id="rollback-budget-max"),
        pytest.param("query_retry_budget", 1, 1, id="query-budget-min"),
        pytest.param("query_retry_budget", 100, 100, id="query-budget-max"),
        pytest.param("send_retry_budget", 0, 0, id="send-budget-zero"),
        pytest.param("retry_backoff_max_s", 0.05, 0.05, id="backoff-max-equal-to-base"),
    ],
)
def test_valid_edge_value_is_accepted(field: str, value: Any, stored: Any) -> None:
    config = EntryConfig(**{field: value})
    assert getattr(config, field) == stored
    assert type(getattr(config, field)) is type(stored)


def test_string_offset_converts_to_decimal() -> None:
    config = EntryConfig(limit_order_offset_pct="-0.0002")
    assert config.limit_order_offset_pct == D("-0.0002")
    assert isinstance(config.limit_order_offset_pct, Decimal)
    assert str(config.limit_order_offset_pct) == "-0.0002"


@pytest.mark.parametrize("field", DECIMAL_FIELDS)
def test_every_decimal_field_converts_strings(field: str) -> None:
    config = EntryConfig(**{field: "0.01"})
    assert getattr(config, field) == D("0.01")
    assert isinstance(getattr(config, field), Decimal)

