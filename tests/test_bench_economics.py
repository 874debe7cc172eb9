"""The cost harness over random markets (``fsm.bench.economics``): its cost figure is
fees plus slippage against the arrival mids, its seeds pick the market, and its
command refuses what it cannot run."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from fsm.bench import economics
from fsm.sim import scenario as scenarios


def test_dual_taker_costs_both_fees_and_the_spread() -> None:
    """Both quotes cross at once: each leg pays the 5 bp taker fee and half a one-tick
    spread (0.5 at 60,000: 0.04 bp) plus the arrival basis it gives up."""
    calm = scenarios.load_builtin("random_calm")
    taker = attrs.evolve(calm, config=attrs.evolve(
        calm.config, limit_order_offset_pct=Decimal("-0.0005")))
    costs = economics.run(taker, range(5))
    assert all(c.filled and c.unhedged_notional_seconds == 0 for c in costs)
    for cost in costs:
        assert cost.cost_bps is not None and 10.0 < cost.cost_bps < 10.5


def test_maker_entries_pay_less_in_fees_and_carry_exposure() -> None:
    costs = economics.run(scenarios.load_builtin("random_calm"), range(10))
    summary = economics.summarize("calm", costs, 0.0)
    assert summary.cost_p50_bps is not None and summary.cost_p50_bps < 8.0  # 2 + 5 bp fees
    assert summary.unhedged_p50 is not None and summary.unhedged_p50 > 0
    assert summary.entries == 10 and 0 < summary.fill_rate <= 1


def test_the_seed_is_the_market() -> None:
    calm = scenarios.load_builtin("random_calm")
    assert economics.cost_of(3, calm) == economics.cost_of(3, calm)
    assert {economics.cost_of(seed, calm).cost_bps for seed in range(6)} != {
        economics.cost_of(0, calm).cost_bps}
    with pytest.raises(ValueError, match="no random market"):
        economics.with_seed(scenarios.load_builtin("one_leg_fills_first"), 1)


def test_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert economics.main(["--scenario", "random_volatile", "-n", "3"]) == 0
    assert "random_volatile: 3 entries; all-in cost p50" in capsys.readouterr().out
    assert economics.main(["--scenario", "one_leg_fills_first", "-n", "3"]) == 2
    assert "no random market" in capsys.readouterr().err
