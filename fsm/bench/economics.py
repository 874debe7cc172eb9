"""What entries cost in a random market: many seeded entries of one scenario, summarised
as all-in cost against the arrival mids, fill rate, unhedged exposure and rollbacks.

The harness of the economics table of ``atomic-entry bench`` (``fsm.bench.economics_table``,
issue 16 item 4) and of the open questions (``fsm.bench.open_questions``); run it alone
on any random-market scenario with ``python -m fsm.bench.economics``. Every entry runs
the real engine on the scenario's venues, the random market's seed set to one of the
seeds, so that strategies compared on the same seeds meet the same markets (the market
never looks at our orders): their differences are the strategies', not the draws'.

All-in cost, in bp of one leg's notional, for an entry that hedged something: what both
legs paid against the mids at arrival, ``(arrival mid basis - basis achieved) /
reference``, plus the fees of both legs (the result's economics section,
``fsm.core.economics``). A dual taker entry on a one-tick book at 5 bp taker fees costs
about 10 bp. Entries that hedged nothing (withdrawn, or rolled back) have no cost here;
they count in the fill rate and the rollback share.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from fsm.bench.report import percentile
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from fsm.sim.scenario import Scenario

__all__ = ["CostSummary", "EntryCost", "cost_of", "main", "run", "summarize", "with_seed"]

_BPS = Decimal(10_000)


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """``scenario`` with its random market drawn from ``seed`` (every venue's)."""
    if all(venue.random_market is None for venue in scenario.venues):
        raise ValueError(f"scenario {scenario.name} has no random market to seed")
    venues = tuple(
        venue if venue.random_market is None else attrs.evolve(
            venue, random_market=attrs.evolve(
                venue.random_market,
                path=attrs.evolve(venue.random_market.path, seed=seed)))
        for venue in scenario.venues)
    return attrs.evolve(scenario, venues=venues)


@attrs.frozen
class EntryCost:
    """One seeded entry's figures."""

    seed: int
    final_state: str
    filled: bool  # ended complete with both legs at their size (within one lot)
    cost_bps: float | None  # None: it hedged nothing
    unhedged_notional_seconds: float  # as the venues executed it
    plan: str = ""  # the plan the entry ran (``maker_maker, market``), when it had one


def cost_of(seed: int, scenario: Scenario) -> EntryCost:
    """Run ``scenario`` once at ``seed`` and read its cost."""
    result = simulate(with_seed(scenario, seed)).result
    economics = result.economics
    cost = None
    if (economics.hedged_qty > 0 and economics.basis is not None
            and economics.arrival_mid_basis is not None and economics.fees_bps is not None
            and economics.reference > 0):
        slippage = (economics.arrival_mid_basis - economics.basis) / economics.reference
        cost = float(slippage * _BPS + economics.fees_bps)
    filled = result.final_state == "complete" and all(
        leg.filled >= leg.target - result.tolerance for leg in result.legs.values())
    timings = result.timings
    exposure = timings.venue_unhedged_notional_seconds
    if exposure is None:
        exposure = timings.unhedged_notional_seconds
    plan = "" if result.plan is None else f"{result.plan.name}, {result.plan.hedge.value}"
    return EntryCost(seed, result.final_state, filled, cost, float(exposure), plan)


def run(scenario: Scenario, seeds: Iterable[int]) -> list[EntryCost]:
    return [cost_of(seed, scenario) for seed in seeds]


def _rank(values: Sequence[float], q: float) -> float | None:
    """The benchmarks' nearest-rank percentile; None without samples."""
    return percentile(values, q) if values else None


@attrs.frozen
class CostSummary:
    scenario: str
    entries: int
    cost_p50_bps: float | None
    cost_p95_bps: float | None
    fill_rate: float
    unhedged_p50: float | None  # notional-seconds, quote currency x seconds
    unhedged_p99: float | None
    rolled_back_share: float
    cpu_ms_per_entry: float
    cost_mean_bps: float | None = None  # what the planner's expected cost predicts

    def line(self) -> str:
        def show(value: float | None, spec: str) -> str:
            return "-" if value is None else format(value, spec)

        return (f"{self.scenario}: {self.entries} entries; all-in cost p50 "
                f"{show(self.cost_p50_bps, '.2f')} bp, p95 {show(self.cost_p95_bps, '.2f')} bp, "
                f"mean {show(self.cost_mean_bps, '.2f')} bp; "
                f"fill rate {self.fill_rate:.1%}; unhedged notional-seconds p50 "
                f"{show(self.unhedged_p50, ',.0f')}, p99 {show(self.unhedged_p99, ',.0f')}; "
                f"rolled back {self.rolled_back_share:.1%}; {self.cpu_ms_per_entry:.1f} ms "
                "CPU per entry")


def summarize(name: str, costs: Sequence[EntryCost], cpu_s: float) -> CostSummary:
    if not costs:
        raise ValueError("no entries to summarise")
    priced = [c.cost_bps for c in costs if c.cost_bps is not None]
    exposure = [c.unhedged_notional_seconds for c in costs]
    return CostSummary(
        scenario=name, entries=len(costs),
        cost_p50_bps=_rank(priced, 0.50), cost_p95_bps=_rank(priced, 0.95),
        fill_rate=sum(c.filled for c in costs) / len(costs),
        unhedged_p50=_rank(exposure, 0.50), unhedged_p99=_rank(exposure, 0.99),
        rolled_back_share=sum(c.final_state == "rolled_back" for c in costs) / len(costs),
        cpu_ms_per_entry=cpu_s / len(costs) * 1000,
        cost_mean_bps=statistics.fmean(priced) if priced else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fsm.bench.economics",
        description="Run seeded entries of a random-market scenario and summarise their cost.")
    parser.add_argument("--scenario", action="append", help="a scenario with a random market "
                        "(file or built-in name; repeatable); default random_calm and "
                        "random_volatile")
    parser.add_argument("-n", "--entries", type=int, default=200,
                        help="seeded entries per scenario (seeds 0 to n-1); default 200")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead")
    args = parser.parse_args(argv)
    if args.entries < 1:
        parser.error(f"--entries: expected at least 1, got {args.entries}")
    for name in args.scenario or ["random_calm", "random_volatile"]:
        try:
            chosen = scenarios.load(name)
            with_seed(chosen, 0)
        except (scenarios.ScenarioError, ValueError) as exc:
            print(f"economics: {exc}", file=sys.stderr)
            return 2
        began = time.process_time()
        costs = run(chosen, range(args.entries))
        summary = summarize(chosen.name, costs, time.process_time() - began)
        print(json.dumps(attrs.asdict(summary)) if args.json else summary.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
