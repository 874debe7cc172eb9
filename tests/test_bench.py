"""The benchmarks' methods, and deterministic guards of the engine's cost per event.

No test here compares a wall-clock figure with a limit or with another figure: on a
machine shared with other work such a test fails by scheduler noise. The runtime goals
(reaction percentiles, memory, gc pause, creation cost) are `atomic-entry bench
--check`'s business; this file guards what does not vary with load, counted: how
many guard evaluations and executed triggers one event costs.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from fsm.bench import exposure, goals, report, runtime
from fsm.core import spec
from fsm.core.runtime import EntryRuntime
from venues.market import PlaceOrder, Purpose
from venues.sim.venue import Execution


class _Counting(runtime.TimedModel):
    """Counts every guard method called and every trigger that executed a row."""

    guards: Counter[str] = Counter()
    fired: list[str] = []

    def _step(self, trigger: str) -> bool:
        acted = super()._step(trigger)
        if acted:
            _Counting.fired.append(trigger)
        return acted


def _counted(name: str) -> Any:
    real = getattr(runtime.TimedModel, name)

    def guard(self: _Counting, *args: Any) -> bool:
        _Counting.guards[name] += 1
        return bool(real(self, *args))

    return guard


for _name in {g for row in spec.ENTRY_TRANSITIONS for g in (*row.guards, *row.unless)}:
    setattr(_Counting, _name, _counted(_name))


# One cancel-then-hedge entry of the overhead benchmark, counted. A change that makes an
# entry evaluate more guards or hand transitions more triggers fails here; when the table
# changes on purpose, count again and update these.
GUARD_EVALUATIONS = 35  # guard methods called, including one guard asking another (31 before
# the refill wait and the planner: the hedge row asks hedge_book_thin too; the planner's
# start row asks plan_takes_at_start, the first fill asks sibling_taking and
# hedge_may_wait, each answering False at once with no plan; 30 before
# issue 14: the hedge row asks hedge_book_stale before it prices the hedge; 29 before
# a trigger that did nothing stopped re-running an evaluate that had just found nothing;
# 27 before issue 13's endings: hedging asks hedge_blocked at each of its two evaluates,
# reconciling asks imbalance_beyond_lot before it completes)
FIRED = ["start", "fill", "evaluate", "evaluate", "evaluate"]  # quote, cancel, hedge, settle, done
# and executes each by table dispatch: none of them goes through ``transitions`` (the
# oracle of tests/test_runtime_matches_spec.py; fsm.core.runtime says why)


def test_one_entry_costs_a_counted_number_of_guards_and_triggers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_Counting, "guards", Counter())
    monkeypatch.setattr(_Counting, "fired", [])
    monkeypatch.setattr(runtime._TimedEngine, "model_class", _Counting)
    through_transitions: list[str] = []
    real_fire = EntryRuntime.fire

    def fire(self: EntryRuntime, model: Any, trigger: str) -> bool:
        through_transitions.append(trigger)
        return real_fire(self, model, trigger)

    monkeypatch.setattr(EntryRuntime, "fire", fire)
    first, _ = runtime.overhead(1)
    assert len(first) == 1
    assert _Counting.fired == FIRED
    assert through_transitions == []
    assert _Counting.guards["trigger_fill_reached"] == 1  # four times per fill before issue 12
    assert sum(_Counting.guards.values()) == GUARD_EVALUATIONS, _Counting.guards


def test_overhead_splits_add_up_and_cover_every_entry() -> None:
    first, second = runtime.overhead(20)
    assert len(first) == len(second) == 20
    for timing in (*first, *second):
        assert timing.total > 0 and timing.bookkeeping > 0 and timing.machine > 0
        assert timing.bookkeeping + timing.machine + timing.loop == timing.total


def test_memory_is_measured_per_live_entry() -> None:
    per_entry = runtime.memory_per_entry(50)
    # A live entry holds a model, its ledger, two orders, an actor: kilobytes, not bytes
    # and not megabytes. The README's figure comes from `atomic-entry bench`.
    assert 4 * 1024 < per_entry < 200 * 1024


def test_engine_modes_sit_on_their_physical_limits_and_beat_the_old_ones() -> None:
    rows = {(r.mode, r.latency_ms): r for r in exposure.run(latencies_ms=(25,), phases=2)}
    assert rows[("cancel_then_hedge", 25)].mean_ms == 100.0  # 4 L
    assert rows[("amend_to_cross", 25)].mean_ms == 50.0  # 2 L
    assert rows[("cancel_then_hedge", 25)].ratio_to_limit == 1.0
    assert rows[("wait_both_then_roll_back", 25)].mean_ms > 4000  # waits for the 5 s timeout
    assert rows[("poll_and_hedge", 25)].ratio_to_a is not None
    assert rows[("poll_and_hedge", 25)].ratio_to_a > 1


def _exec(at: float, qty: str) -> Execution:
    return Execution(at, "X", "c", Decimal(qty), Decimal(100))


def test_net_exposure_integrates_the_venue_truth() -> None:
    sample = exposure.net_exposure(
        [_exec(1.0, "0.5"), _exec(1.1, "-0.2"), _exec(1.3, "-0.3")], Decimal(100)
    )
    assert sample.unhedged_ms == 300.0
    assert sample.notional_seconds == Decimal("0.5") * 100 * Decimal("0.1") + Decimal(
        "0.3") * 100 * Decimal("0.2")
    with pytest.raises(RuntimeError, match="one-sided"):
        exposure.net_exposure([_exec(1.0, "0.5")], Decimal(100))
    with pytest.raises(RuntimeError, match="nothing traded"):
        exposure.net_exposure([], Decimal(100))


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert report.percentile(values, 0.5) == 50
    assert report.percentile(values, 0.99) == 99
    assert report.percentile([7], 0.99) == 7


def test_goals_name_each_figure_beyond_its_limit() -> None:
    """`bench --check` fails on exactly the goals whose figure exceeds the limit."""
    fast = report.Percentiles(50.0, 100.0)
    slow = report.Percentiles(80.0, 100.0)
    overhead = [report.PathRow("fill -> cancel", 1, fast, fast, fast, fast),
                report.PathRow("confirm -> hedge", 1, slow, fast, fast, fast)]
    scale = report.ScaleRow(10_000, 1, fast, 1.0, 1.0, 17.0)
    live = [goals.LiveCosts(0, 5.0, 10.0), goals.LiveCosts(10_000, 50.0, 14.0)]
    rows = report._goals(overhead, scale, live, import_cpu=0.2, ccxt_modules=3,
                         jitter=report.Percentiles(50.0, 90.0))
    missed = [g.name for g in rows if not g.met]
    assert missed == ["confirm -> hedge p50", "memory per live entry",
                      "ccxt modules simulate imports"]
    tails = [g.note for g in rows if g.name.endswith(" p99")]
    assert tails == ["machine: fixed work of p50 50 us has p99 90 us in this run"] * 2


def test_jitter_is_fixed_work_timed_as_often_as_asked() -> None:
    """The machine's tail is read from work that is the same every call: sized once
    (from the least of a few timings), then timed ``samples`` times. Sizes only, no
    figure: a wall-clock bound here would fail on a busy machine."""
    values = goals.jitter_ns(5.0, samples=50)
    assert len(values) == 50 and all(v > 0 for v in values)


def test_live_costs_time_creation_without_leaving_entries_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Creation is timed on entries retired again, so N stays N while it is measured."""
    live: list[int] = []
    real = goals._creation_us

    def counting(world: runtime.World, samples: int) -> float:
        out = real(world, samples)
        live.append(len(world.engine._actors))
        return out

    monkeypatch.setattr(goals, "_creation_us", counting)
    costs = goals.live_costs(3, samples=5)
    assert live == [3]
    assert costs.n == 3 and costs.create_us > 0 and costs.gc_pause_ms > 0
    assert len(goals.dispatch_floor_ns(10)) == 10


def test_metrics_goal_is_the_sinks_share_of_fill_to_cancel_p50() -> None:
    """Issue 17: the sink's cost is the p50 with it over the p50 without, less one."""
    def row(p50: float) -> report.PathRow:
        p = report.Percentiles(p50, p50 * 2)
        return report.PathRow("fill -> cancel", 1, p, p, p, p)

    [met] = report._metrics_goal([row(50.0), row(52.0)])
    [missed] = report._metrics_goal([row(50.0), row(53.0)])
    assert (met.value, met.met, missed.value, missed.met) == (4.0, True, 6.0, False)
    assert report._metrics_goal([]) == []


def test_gc_parts_reports_each_part_and_the_references_per_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``python -m fsm.bench.gc_parts`` runs end to end (small N: the figures are the
    bench's business, not the suite's) and names the per-entry counts it found."""
    from fsm.bench import gc_parts

    gc_parts.main(20)
    out = capsys.readouterr().out
    assert "quoting entry models" in out and "the bench's world, 20 quoting entries" in out
    assert "per quoting entry:" in out and "OrderRecord" in out


def test_core_handle_times_both_reaction_events_and_counts_their_calls() -> None:
    """``python -m fsm.bench.core_handle``: each reaction event answered as the path says
    (a fill -> the sibling's cancel, its confirmation -> the hedge), timed, with its
    Python calls counted. The counts are guarded loosely: a budget, not a figure (the
    core made 187 / 244 calls before its cut, 138 / 163 after)."""
    from fsm.bench import core_handle
    from fsm.core.commands import CancelOrder

    model, long, short = core_handle.quoting("t")
    assert [type(c) for c in model.handle(core_handle._fill(model, long))] == [CancelOrder]
    (hedge,) = model.handle(core_handle._confirm(model, long, short))
    assert isinstance(hedge, PlaceOrder) and hedge.purpose is Purpose.HEDGE
    figures = core_handle.measure(5)
    assert set(figures) == {"fill -> cancel", "confirm -> hedge"}
    assert all(p50 > 0 and 0 < calls <= 200 for p50, _, calls in figures.values())
