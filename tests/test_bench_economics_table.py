"""The economics table of ``atomic-entry bench`` (issue 16 item 4): its regimes, its four
strategies on the same seeds, sane figures, and the planner's goals failing on a missing
figure. Virtual time only: no figure here depends on the machine's speed."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from fsm.bench import economics_table, goals, regimes, report
from fsm.bench.economics import CostSummary
from fsm.bench.economics_table import Row
from fsm.core.config import PlanChoice

NORMAL = regimes.Regime("normal", "deep")


@pytest.fixture(scope="module")
def table() -> list[Row]:
    return economics_table.run([NORMAL, regimes.Regime("volatile", "thin")], range(4))


def test_every_strategy_runs_every_regime_on_the_same_seeds(table: list[Row]) -> None:
    assert [(r.regime, r.strategy) for r in table] == [
        (regime, strategy) for regime in ("normal/deep", "volatile/thin")
        for strategy in economics_table.STRATEGIES]
    assert {r.seeds for r in table} == {(0, 4)}
    assert all(r.summary.entries == 4 and r.fees == "binanceusdm+hyperliquid" for r in table)


def test_the_figures_are_sane(table: list[Row]) -> None:
    by = {(r.regime, r.strategy): r.summary for r in table}
    taker = by["normal/deep", "dual_taker"]
    # both taker fees (5 + 4.5 bp) and half a one-tick spread on each leg (0.04 bp each),
    # plus what the mid moved during the 25 ms the orders travelled
    assert taker.cost_p50_bps is not None and 9.5 < taker.cost_p50_bps < 9.9
    assert taker.unhedged_p99 == 0 and taker.fill_rate == 1
    assert taker.cost_mean_bps is not None and abs(taker.cost_mean_bps - taker.cost_p50_bps) < 0.2
    thin = by["volatile/thin", "dual_taker"]
    assert thin.cost_p50_bps is not None and thin.cost_p50_bps > taker.cost_p50_bps  # depth
    maker = by["normal/deep", "engine_maker"]
    # a maker fill (2 or 1.5 bp) and the other leg's taker hedge (4.5 or 5 bp)
    assert maker.cost_p50_bps is not None and 6.4 < maker.cost_p50_bps < 7.5
    assert maker.unhedged_p50 is not None and maker.unhedged_p50 > 0
    seed = by["normal/deep", "seed_wait_both"]
    # waiting for both legs leaves one of them naked for seconds, not a round trip
    assert seed.unhedged_p50 is not None and seed.unhedged_p50 > 10 * maker.unhedged_p50
    assert seed.fill_rate == 1  # what is missing at the timeout is taken at market
    for summary in by.values():
        assert 0 <= summary.fill_rate <= 1 and 0 <= summary.rolled_back_share <= 1


def test_the_planner_is_told_the_regimes_volatility_and_records_its_plans(
    table: list[Row],
) -> None:
    config = economics_table.config_for("engine_planner", NORMAL)
    assert config.plan is PlanChoice.AUTO and config.plan_volatility_bp == NORMAL.sigma_bps
    assert regimes.Regime("volatile", "deep").sigma_bps > NORMAL.sigma_bps
    planner = [r for r in table if r.strategy == "engine_planner"]
    assert all(sum(r.plans.values()) == 4 for r in planner)
    assert economics_table.config_for("dual_taker", NORMAL).plan is PlanChoice.TAKER_TAKER


def test_an_entry_is_its_seed() -> None:
    market = regimes.scenario(NORMAL)
    for strategy in ("seed_wait_both", "engine_maker"):
        first = economics_table.entry(strategy, NORMAL, market, 5)
        assert economics_table.entry(strategy, NORMAL, market, 5) == first
        assert first.seed == 5


def test_regimes_set_fees_and_depth_per_venue() -> None:
    market = regimes.scenario(regimes.Regime("calm", "thin", ("bybit", "okx")))
    long, short = market.venues
    assert (long.market.rules.maker_fee, long.market.rules.taker_fee) == (
        Decimal("0.0002"), Decimal("0.00055"))
    assert short.market.rules.taker_fee == Decimal("0.0005")
    assert long.random_market is not None and long.random_market.flow.level_qty == Decimal("0.1")
    assert len(regimes.fee_sweep()) == 6 and len(regimes.regimes()) == 6


def _summary(cost: float | None, unhedged: float = 3000.0, fill: float = 1.0) -> CostSummary:
    return CostSummary("x", 10, cost, cost, fill, unhedged, unhedged, 0.0, 1.0, cost)


def _rows(d: CostSummary, regime: str = "normal/deep") -> list[Row]:
    pair = "binanceusdm+hyperliquid"
    summaries = {"dual_taker": _summary(10.0, 0.0), "seed_wait_both": _summary(2.0, 9e5),
                 "engine_maker": _summary(6.9), "engine_planner": d}
    return [Row(regime, pair, s, "1", (0, 10), summary) for s, summary in summaries.items()]


def _missed(rows: list[Row]) -> set[str]:
    return {g.name for g in goals.economics_goals(rows) if not g.met}


def test_the_goals_are_met_by_a_planner_that_meets_them() -> None:
    assert _missed(_rows(_summary(6.5))) == set()


def test_each_goal_fails_on_a_figure_that_misses_it() -> None:
    ratio = "(d) / (a) median cost, normal/deep"
    assert _missed(_rows(_summary(7.2))) == {ratio}
    assert _missed(_rows(_summary(10.5))) == {ratio, "(d) - (a) median cost, every regime"}
    assert _missed(_rows(_summary(6.5, unhedged=3001.0))) == {
        "(d) - (c) p99 unhedged, every regime"}
    assert _missed(_rows(_summary(6.5, fill=0.9))) == {"(c) - (d) fill rate, every regime"}
    # nothing hedged: no figure is not a met goal
    assert ratio in _missed(_rows(_summary(None)))


def test_every_regime_goal_names_the_worst_regime() -> None:
    rows = _rows(_summary(6.5)) + _rows(_summary(10.5), regime="volatile/thin")
    [worst] = [g for g in goals.economics_goals(rows) if not g.met]
    assert worst.value == 0.5 and "volatile/thin" in worst.note
    assert goals.economics_goals([]) == []


def test_the_section_prints_every_row_and_column(table: list[Row]) -> None:
    text = report._economics(table)
    for header in ("cost p50", "p95", "fill rate", "unhedged p50", "p99", "rolled back"):
        assert header in text
    assert "mean" in text
    for strategy in economics_table.STRATEGIES:
        assert text.count(economics_table.LABELS[strategy]) == 2
    assert "(d) chose:" in text and "volatile/thin" in text


def test_the_bench_report_keeps_the_rows_in_its_json(table: list[Row]) -> None:
    empty = report.Percentiles(0.0, 0.0)
    bench = report.BenchReport({}, [], [], [], {}, empty, [], [], {}, [], table)
    figures = bench.to_dict()["economics"]
    assert len(figures) == 8 and figures[0]["summary"]["cost_p50_bps"] is not None
    assert attrs.asdict(table[0])["seeds"] == (0, 4)


def test_the_open_questions_change_one_setting_each(capsys: pytest.CaptureFixture[str]) -> None:
    from fsm.bench import open_questions

    base = economics_table.config_for("engine_maker", NORMAL)
    trigger = economics_table.config_for("trigger_30", NORMAL)
    adaptive = economics_table.config_for("adaptive_hedge", NORMAL)
    assert attrs.evolve(trigger, hedge_trigger_fill_ratio=base.hedge_trigger_fill_ratio) == base
    assert adaptive.plan_hedge.value == "adaptive" and adaptive.plan is base.plan
    assert open_questions.main(["-n", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("30% filled, market hedge") == 6
    assert out.count("any fill, adaptive hedge") == 6
    with pytest.raises(SystemExit):
        open_questions.main(["-n", "0"])


def test_the_quick_bench_table_has_every_regime_pair_and_strategy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``bench --quick``'s table, on fewer seeds: every volatility x depth on the main
    pair, then the five other pairs of the fee sweep; every row with every figure."""
    monkeypatch.setitem(economics_table.SEEDS, True, (3, 2))
    rows = economics_table.run_bench(quick=True)
    cells = {(r.regime, r.fees) for r in rows}
    assert len(rows) == 4 * len(cells) and len(cells) == 6 + 5
    assert {r.fees for r in rows if r.regime != "normal/deep"} == {"binanceusdm+hyperliquid"}
    for row in rows:
        summary = row.summary
        assert summary.entries == (3 if row.fees == "binanceusdm+hyperliquid" else 2)
        assert None not in (summary.cost_p50_bps, summary.cost_p95_bps, summary.cost_mean_bps,
                            summary.unhedged_p50, summary.unhedged_p99)
        assert 0 < (summary.cost_p50_bps or 0) < 20
