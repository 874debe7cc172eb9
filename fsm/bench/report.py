"""``atomic-entry bench``: run the benchmarks, print their tables and the goals, keep the figures.

Every figure printed is measured in this run; nothing is copied from an earlier one.
``--quick`` shrinks the sample sizes (for a smoke run), never the method. ``missed``
names the goals a run did not meet, for ``bench --check``.
"""

from __future__ import annotations

import functools
import os
import platform
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from fsm.bench import exposure, goals, journal_cost, metrics_cost, runtime
from fsm.bench.runtime import PathTiming

if TYPE_CHECKING:  # imported when run: it reads ``percentile`` from here
    from fsm.bench import economics_table

SCALES = (1, 100, 1000, 10_000)


@attrs.frozen
class Percentiles:
    p50: float
    p99: float

    @classmethod
    def of(cls, values_ns: list[int]) -> Percentiles:
        return cls(percentile(values_ns, 0.50) / 1000, percentile(values_ns, 0.99) / 1000)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n q), at least 1
    return float(ordered[int(rank) - 1])


@attrs.frozen
class PathRow:
    path: str
    samples: int
    total: Percentiles
    bookkeeping: Percentiles
    machine: Percentiles
    loop: Percentiles

    @classmethod
    def of(cls, path: str, timings: list[PathTiming]) -> PathRow:
        return cls(
            path, len(timings), Percentiles.of([t.total for t in timings]),
            Percentiles.of([t.bookkeeping for t in timings]),
            Percentiles.of([t.machine for t in timings]),
            Percentiles.of([t.loop for t in timings]),
        )


@attrs.frozen
class ScaleRow:
    n: int
    samples: int
    reaction: Percentiles
    p99_vs_n1: float
    entries_per_s: float
    kib_per_entry: float


@attrs.frozen
class BenchReport:
    machine: dict[str, str]
    exposure: list[exposure.ExposureRow]
    overhead: list[PathRow]
    scale: list[ScaleRow]
    journal: dict[str, Percentiles]  # sync mode -> us per step journaled (2 records)
    floor: Percentiles  # a bare dict dispatch, us
    live: list[goals.LiveCosts]  # at 0 and at the largest N
    goals: list[goals.Goal]
    seconds: dict[str, float]
    # fill -> cancel and confirm -> hedge per metrics sink, same run (empty: no
    # prometheus_client to measure with)
    metrics: list[PathRow] = attrs.field(factory=list)
    # issue 16: each strategy's cost in each market regime, same seeds per regime
    economics: list[economics_table.Row] = attrs.field(factory=list)
    # fixed CPU-only work sized to the fill -> cancel p50, us: the machine's own tail
    jitter: Percentiles | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, value_serializer=lambda _i, _a, v: (
            str(v) if isinstance(v, Decimal) else v))


def machine() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
    }


def run(quick: bool = False, progress: Callable[[str], None] = lambda _: None) -> BenchReport:
    seconds: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        progress(f"{name} ...")
        t0 = time.perf_counter()
        out = work()
        seconds[name] = round(time.perf_counter() - t0, 1)
        return out

    phases = 3 if quick else exposure.FILL_PHASES
    exposure_rows = timed("exposure", lambda: exposure.run(phases=phases))
    entries = 1000 if quick else 10_000
    first, second = timed("overhead", lambda: runtime.overhead(entries))
    overhead_rows = [PathRow.of("fill -> cancel", first), PathRow.of("confirm -> hedge", second)]
    cost = timed("metrics sink", lambda: metrics_cost.measure(entries // 2 if quick else 4000,
                                                              4 if quick else 8))
    metrics_rows = [] if cost is None else [
        PathRow.of(f"{path}, {sink}", timings[sink])
        for path, timings in (("fill -> cancel", cost.fill_cancel),
                              ("confirm -> hedge", cost.confirm_hedge))
        for sink in (metrics_cost.NONE, metrics_cost.PROMETHEUS)]
    scales = SCALES[:3] if quick else SCALES
    scale_rows: list[ScaleRow] = []
    for n in scales:
        reactions = timed(f"scale {n} reaction", functools.partial(runtime.reactions_alive, n))
        rate = timed(f"scale {n} throughput", functools.partial(runtime.throughput, n))
        memory = timed(f"scale {n} memory", functools.partial(runtime.memory_per_entry, n))
        pct = Percentiles.of([t.total for t in reactions])
        base = scale_rows[0].reaction.p99 if scale_rows else pct.p99
        scale_rows.append(ScaleRow(n, len(reactions), pct, round(pct.p99 / base, 2),
                                   round(rate, 1), round(memory / 1024, 1)))
    costs = timed("journal", lambda: journal_cost.record_costs(300 if quick else 3000))
    journal = {mode: Percentiles.of(ns) for mode, ns in costs.items()}
    floor = Percentiles.of(timed("dispatch floor", goals.dispatch_floor_ns))
    jitter = Percentiles.of(timed("machine jitter", functools.partial(
        goals.jitter_ns, overhead_rows[0].total.p50)))
    live = [timed(f"live {n}", functools.partial(goals.live_costs_fresh, n))
            for n in (0, scales[-1])]
    import_cpu = timed("import fsm.cli", goals.import_cpu_s)
    ccxt_modules = timed("simulate imports", goals.simulate_ccxt_modules)
    goal_rows = _goals(overhead_rows, scale_rows[-1], live, import_cpu, ccxt_modules, jitter)
    goal_rows += _metrics_goal(metrics_rows)
    from fsm.bench import economics_table

    economics_rows = timed("economics", lambda: economics_table.run_bench(quick, progress))
    goal_rows += goals.economics_goals(economics_rows)
    return BenchReport(machine(), exposure_rows, overhead_rows, scale_rows, journal, floor,
                       live, goal_rows, seconds, metrics_rows, economics_rows, jitter)


def _metrics_goal(rows: list[PathRow]) -> list[goals.Goal]:
    """Issue 17: a metrics sink adds at most 5% to fill -> cancel p50 (same run)."""
    if not rows:
        return []
    without, with_sink = rows[0].total.p50, rows[1].total.p50
    return [goals.Goal("metrics sink on fill -> cancel p50",
                       round((with_sink / without - 1) * 100, 1), 5, "%",
                       f"{with_sink:.1f} us with, {without:.1f} us without")]


def _goals(
    overhead: list[PathRow], scale: ScaleRow, live: list[goals.LiveCosts],
    import_cpu: float, ccxt_modules: int, jitter: Percentiles,
) -> list[goals.Goal]:
    """The goals of issue 12, each beside the figure this run measured."""
    out = []
    tail = (f"machine: fixed work of p50 {jitter.p50:.0f} us has p99 {jitter.p99:.0f} us "
            "in this run")
    for row in overhead:
        out.append(goals.Goal(f"{row.path} p50", round(row.total.p50, 1), 70, "us"))
        out.append(goals.Goal(f"{row.path} p99", round(row.total.p99, 1), 120, "us", tail))
    idle, busy = live
    out += [
        goals.Goal("memory per live entry", scale.kib_per_entry, 16, "KiB", f"N = {scale.n}"),
        goals.Goal("full gc.collect()", round(busy.gc_pause_ms, 1), 100, "ms",
                   f"N = {busy.n} live; {idle.gc_pause_ms:.1f} ms at 0; start-up frozen "
                   f"{busy.gc_pause_startup_frozen_ms:.1f} ms; per entry "
                   f"{busy.tracked_per_entry:g} objects, {busy.references_per_entry:g} "
                   "references"),
        goals.Goal("entry creation, N live / 0 live", round(busy.create_us / idle.create_us, 2),
                   1.5, "x", f"{busy.create_us:.1f} us at N = {busy.n}, "
                   f"{idle.create_us:.1f} us at 0"),
        goals.Goal("import fsm.cli", round(import_cpu, 3), 0.3, "s CPU", "fresh interpreter"),
        goals.Goal("ccxt modules simulate imports", ccxt_modules, 0, "", "fresh interpreter"),
    ]
    return out


def missed(report: BenchReport) -> list[goals.Goal]:
    return [goal for goal in report.goals if not goal.met]


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                      enumerate(zip(row, widths, strict=True))) for row in rows]
    return "\n".join(out)


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_report(report: BenchReport) -> str:
    m = report.machine
    parts = [f"atomic-entry bench on Python {m['python']}, {m['cpus']} CPUs, {m['platform']}"]
    parts.append(
        "\n1. Exposure after the first fill (virtual time; venue truth; mean over "
        f"{report.exposure[0].samples} fill moments across one 0.5 s poll period)\n"
        + table(
            ["mode", "L ms", "unhedged ms", "max ms", "notional-s", "limit ms",
             "x limit", "x (a)"],
            [[exposure.LABELS[r.mode], str(r.latency_ms), _f(r.mean_ms), _f(r.max_ms),
              str(r.mean_notional_seconds), _f(r.limit_ms, 0), _f(r.ratio_to_limit, 2),
              _f(r.ratio_to_a, 2)] for r in report.exposure],
        )
        + f"\n   (c) waits for the quote timeout, {exposure.QUOTE_TIMEOUT_S:g} s here: its "
        "exposure grows with it. (d) does not wait for the cancel: it can double-fill."
    )
    parts.append(
        "\n2. Engine overhead, us (real clock, zero-latency venues, one entry at a time)\n"
        + table(
            ["path", "entries", "p50", "p99", "bookkeeping p50/p99", "state machine p50/p99",
             "asyncio p50/p99"],
            [[r.path, str(r.samples), _f(r.total.p50), _f(r.total.p99),
              f"{_f(r.bookkeeping.p50)} / {_f(r.bookkeeping.p99)}",
              f"{_f(r.machine.p50)} / {_f(r.machine.p99)}",
              f"{_f(r.loop.p50)} / {_f(r.loop.p99)}"] for r in report.overhead],
        )
    )
    parts.append(
        "\n3. Scale: N entries alive in one process (fill -> cancel reaction, us, on a "
        "loop idle between fills; throughput: all N fills at once)\n"
        + table(
            ["N", "reactions", "p50", "p99", "p99 / N=1", "entries/s", "KiB per live entry"],
            [[str(r.n), str(r.samples), _f(r.reaction.p50), _f(r.reaction.p99),
              _f(r.p99_vs_n1, 2), _f(r.entries_per_s), _f(r.kib_per_entry)]
             for r in report.scale],
        )
    )
    parts.append(
        "\n4. Journal, us per processed event written before its commands are sent (real "
        "clock; SQLite WAL; one event and one command per step)\n"
        + table(["sync", "p50", "p99", "survives"],
                 [[mode, _f(p.p50), _f(p.p99),
                   "a killed process" if mode == "normal" else "power loss as well"]
                  for mode, p in report.journal.items()])
    )
    parts.append(
        f"\n5. Goals (a bare dict dispatch, the floor: p50 {_f(report.floor.p50, 2)} us, "
        f"p99 {_f(report.floor.p99, 2)} us, measured in this run)\n"
        + table(["goal", "measured", "limit", "x floor", "met", "note"],
                 [[g.name, f"{g.value:g} {g.unit}",
                   f"{g.limit:g} {g.unit}",
                   _f(g.value / (report.floor.p50 if g.name.endswith(" p50")
                                 else report.floor.p99), 0) if g.unit == "us" else "",
                   "yes" if g.met else "NO", g.note] for g in report.goals])
    )
    parts.append(
        "\n6. Metrics sink (issue 17), us: the same reactions without and with the "
        "Prometheus sink, alternating rounds in this run\n"
        + (table(["path, sink", "entries", "p50", "p99"],
                  [[r.path, str(r.samples), _f(r.total.p50), _f(r.total.p99)]
                   for r in report.metrics])
           if report.metrics else "   not measured: pip install 'atomic-entry[metrics]'")
    )
    if report.economics:
        parts.append(_economics(report.economics))
    total = sum(report.seconds.values())
    parts.append(f"\nmeasured in {total:.0f} s")
    return "\n".join(parts)


def _economics(rows: list[economics_table.Row]) -> str:
    """Section 7: each strategy's cost per regime, and what the planner chose."""
    from fsm.bench.economics_table import LABELS as labels

    first = rows[0]
    head = (f"\n7. Economics (issue 16): all-in cost in bp of one leg's notional (fees and "
            "slippage against the arrival mids, both legs), fill rate, unhedged "
            "notional-seconds (USDT x s, venue truth), share rolled back; virtual time; "
            f"seeds 0..{first.seeds[1] - 1} in every regime, the same for every strategy "
            "(fewer in the fee sweep, see entries)\n")
    body = table(
        ["regime", "fees (long+short)", "strategy", "entries", "cost p50", "p95", "mean",
         "fill rate", "unhedged p50", "p99", "rolled back"],
        [[r.regime, r.fees, labels[r.strategy], str(r.summary.entries),
          _f(r.summary.cost_p50_bps, 2), _f(r.summary.cost_p95_bps, 2),
          _f(r.summary.cost_mean_bps, 2),
          f"{r.summary.fill_rate:.1%}", _f(r.summary.unhedged_p50, 0),
          _f(r.summary.unhedged_p99, 0), f"{r.summary.rolled_back_share:.1%}"]
         for r in rows])
    plans = [f"   {r.regime} {r.fees} (told {r.sigma_bps} bp/sqrt(s)): "
             + ", ".join(f"{name} {count}" for name, count in r.plans.items())
             for r in rows if r.strategy == "engine_planner"]
    return head + body + "\n   (d) chose:\n" + "\n".join(plans)
