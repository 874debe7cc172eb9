"""EntryConfig as a value: its defaults, building it from a mapping, immutability, the
per-leg offset check and the retry backoff. (Which values each field accepts and refuses
is test_config_values.py.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from fsm.core.config import (
    OFFSET_MAX,
    OFFSET_MIN,
    ConfigError,
    EntryConfig,
    HedgeMode,
    HedgeOrder,
    PlanChoice,
    PlanHedge,
    RequiredMarginMode,
    RequiredPositionMode,
    RetryPolicy,
    validate_offset,
)

D = Decimal


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("limit_order_offset_pct", D("0.0001")),
        ("quote_timeout_s", 30.0),
        ("hedge_trigger_fill_ratio", D(0)),
        ("hedge_order", HedgeOrder.MARKET),
        ("hedge_mode", HedgeMode.CANCEL_THEN_HEDGE),
        ("hedge_limit_offset_pct", D("0.0005")),
        ("hedge_max_slippage_pct", D("0.005")),
        ("hedge_retry_budget", 3),
        ("cancel_retry_budget", 3),
        ("rollback_retry_budget", 3),
        ("query_retry_budget", 5),
        ("send_retry_budget", 5),
        ("retry_backoff_s", 0.05),
        ("retry_backoff_max_s", 1.0),
        ("max_book_age_s", 2.0),
        ("refill_timeout_s", 1.0),
        ("hedge_budget_bps", D(50)),
        ("trim_budget_bps", D(50)),
        ("rollback_budget_bps", D(200)),
        ("max_notional", D(1_000_000)),
        ("max_leverage", D(5)),
        ("margin_mode", RequiredMarginMode.ISOLATED),
        ("position_mode", RequiredPositionMode.ONE_WAY),
        ("fees", ()),
        ("plan", PlanChoice.MAKER_MAKER),
        ("plan_hedge", PlanHedge.MARKET),
        ("plan_volatility_bp", D("0.89")),
        ("plan_fill_probability", D("0.8")),
        ("plan_fill_probability_by_venue", ()),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_default_value(field: str, expected: Any) -> None:
    value = getattr(EntryConfig(), field)
    assert value == expected
    assert type(value) is type(expected)


def test_defaults_cover_every_field() -> None:
    """A new field without a default test above would slip through: keep the list complete."""
    assert [f.name for f in attrs.fields(EntryConfig)] == [
        "limit_order_offset_pct",
        "quote_timeout_s",
        "hedge_trigger_fill_ratio",
        "hedge_order",
        "hedge_mode",
        "hedge_limit_offset_pct",
        "hedge_max_slippage_pct",
        "hedge_retry_budget",
        "cancel_retry_budget",
        "rollback_retry_budget",
        "query_retry_budget",
        "send_retry_budget",
        "retry_backoff_s",
        "retry_backoff_max_s",
        "max_book_age_s",
        "refill_timeout_s",
        "hedge_budget_bps",
        "trim_budget_bps",
        "rollback_budget_bps",
        "max_notional",
        "max_leverage",
        "margin_mode",
        "position_mode",
        "fees",
        "plan",
        "plan_hedge",
        "plan_volatility_bp",
        "plan_fill_probability",
        "plan_fill_probability_by_venue",
    ]


def test_hedge_order_default_is_the_market_member() -> None:
    assert EntryConfig().hedge_order is HedgeOrder.MARKET


def test_offset_bounds() -> None:
    assert str(OFFSET_MIN) == "-0.01"
    assert str(OFFSET_MAX) == "0.05"


# --------------------------------------------------------------------------- from_mapping


def test_from_mapping_builds_a_config() -> None:
    config = EntryConfig.from_mapping(
        {"quote_timeout_s": 5, "hedge_order": "aggressive_limit", "hedge_trigger_fill_ratio": "1"}
    )
    assert config == EntryConfig(
        quote_timeout_s=5,
        hedge_order=HedgeOrder.AGGRESSIVE_LIMIT,
        hedge_trigger_fill_ratio=D(1),
    )


def test_from_mapping_empty_gives_defaults() -> None:
    assert EntryConfig.from_mapping({}) == EntryConfig()


def test_from_mapping_names_the_unknown_key() -> None:
    with pytest.raises(ConfigError) as caught:
        EntryConfig.from_mapping({"quote_timout_s": 5})
    assert str(caught.value) == (
        "EntryConfig: unknown field(s) quote_timout_s; expected some of cancel_retry_budget, fees, "
        "hedge_budget_bps, hedge_limit_offset_pct, hedge_max_slippage_pct, hedge_mode, "
        "hedge_order, "
        "hedge_retry_budget, hedge_trigger_fill_ratio, limit_order_offset_pct, margin_mode, "
        "max_book_age_s, max_leverage, max_notional, plan, plan_fill_probability, "
        "plan_fill_probability_by_venue, plan_hedge, "
        "plan_volatility_bp, position_mode, query_retry_budget, "
        "quote_timeout_s, refill_timeout_s, retry_backoff_max_s, retry_backoff_s, "
        "rollback_budget_bps, "
        "rollback_retry_budget, send_retry_budget, trim_budget_bps"
    )


def test_from_mapping_names_every_unknown_key_sorted() -> None:
    with pytest.raises(ConfigError, match=r"^EntryConfig: unknown field\(s\) alpha, zeta; "):
        EntryConfig.from_mapping({"zeta": 1, "alpha": 2, "quote_timeout_s": 5})


def test_from_mapping_still_validates_values() -> None:
    with pytest.raises(ConfigError) as caught:
        EntryConfig.from_mapping({"hedge_trigger_fill_ratio": "2"})
    assert str(caught.value) == (
        "EntryConfig.hedge_trigger_fill_ratio: got 2, expected a value in [0, 1]"
    )


# --------------------------------------------------------------------------- immutability


def test_config_is_frozen() -> None:
    config = EntryConfig()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.quote_timeout_s = 1.0  # type: ignore[misc]
    assert config.quote_timeout_s == 30.0


def test_config_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        EntryConfig(D("0.0001"))  # type: ignore[misc]


def test_evolve_revalidates() -> None:
    config = EntryConfig()
    assert attrs.evolve(config, hedge_retry_budget=7).hedge_retry_budget == 7
    with pytest.raises(ConfigError, match=r"^EntryConfig\.hedge_retry_budget: got 51, "):
        attrs.evolve(config, hedge_retry_budget=51)


def test_configs_compare_and_hash_by_value() -> None:
    assert EntryConfig(quote_timeout_s=5) == EntryConfig(quote_timeout_s=5)
    assert hash(EntryConfig(quote_timeout_s=5)) == hash(EntryConfig(quote_timeout_s=5))
    assert EntryConfig(quote_timeout_s=5) != EntryConfig()


# --------------------------------------------------------------------------- validate_offset


@pytest.mark.parametrize(
    "value", [None, D("-0.01"), D("0"), D("0.05")], ids=["none", "min", "zero", "max"]
)
def test_validate_offset_accepts_the_range(value: Decimal | None) -> None:
    validate_offset("long leg: limit_price_offset_pct", value)


@pytest.mark.parametrize("value", [D("-0.0101"), D("0.0501")], ids=["below", "above"])
def test_validate_offset_refuses_outside_the_range(value: Decimal) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_offset("long leg: limit_price_offset_pct", value)
    assert str(caught.value) == (
        f"long leg: limit_price_offset_pct: got {value}, expected a value in [-0.01, 0.05]"
    )


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    config = EntryConfig(retry_backoff_s=0.05, retry_backoff_max_s=1.0)
    assert [config.backoff_s(n) for n in range(1, 8)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert config.backoff_s(10_000) == 1.0  # no overflow for absurd retry counts


def test_the_retry_policy_carries_the_five_retry_figures() -> None:
    config = EntryConfig(query_retry_budget=7, cancel_retry_budget=2, send_retry_budget=4,
                         retry_backoff_s=0.1, retry_backoff_max_s=2.0)
    policy = config.retry_policy()
    # The cancel budget counts the first cancel too: two retries are three attempts.
    assert policy == RetryPolicy(query_budget=7, cancel_budget=3, send_budget=4,
                                 backoff_s=0.1, backoff_max_s=2.0)
    assert [policy.delay(n) for n in range(1, 7)] == [config.backoff_s(n) for n in range(1, 7)]
