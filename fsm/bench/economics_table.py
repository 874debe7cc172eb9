"""The economics table of ``atomic-entry bench`` (issue 16 item 4): what an entry costs
under each strategy, in each market regime, over the same seeded random markets.

Strategies, each run on the same seeds of the same regime (``fsm.bench.regimes``), so
they meet the same markets (the random market never looks at our orders):

* ``(a) dual taker``: this engine, ``plan = taker_taker``: both legs IOC at once;
* ``(b) seed: wait both``: the executor the seed replaces
  (``baselines.wait_both_then_market``): both legs quote 1 bp behind the touch, it
  waits for both until the quote timeout, polling every 0.5 s, then takes what is
  missing at market;
* ``(c) engine maker``: this engine's default config, both legs quote 1 bp behind the
  touch, the first fill is hedged at market;
* ``(d) engine planner``: ``plan = auto``, told the regime's volatility
  (``Regime.sigma_bps``); every other planner input is the default, the hedge policy
  too (``plan_hedge = market``: the adaptive hedge is the open question the
  ``fsm.bench.open_questions`` table answers).

Every strategy waits ``quote_timeout_s`` = 30 s, the config default and the seed's. The
figures are ``fsm.bench.economics``'s: all-in cost (fees and slippage against the
arrival mids, both legs, in bp of one leg's notional) over entries that hedged
something, fill rate, unhedged notional-seconds as the venues executed them, share
rolled back. The seed's executor has no result, so its cost and exposure are read from
the venues the same way (``_seed_entry``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs

from fsm.bench import baselines, economics, exposure
from fsm.bench.economics import CostSummary, EntryCost
from fsm.bench.regimes import PAIR, Regime, fee_sweep, regimes, scenario
from fsm.core.config import EntryConfig, PlanChoice, PlanHedge
from fsm.sim.scenario import Scenario
from venues import protocol as base
from venues.market import Leg, Side
from venues.sim.virtual_time import run_virtual

__all__ = ["LABELS", "STRATEGIES", "Row", "config_for", "entry", "run", "run_bench"]

_BPS = Decimal(10_000)
# Seeds per regime: the full run's every regime, then the fee sweep's every pair (the
# sweep's binanceusdm + hyperliquid pair is the table's normal/deep row, not run twice).
SEEDS = {False: (1000, 300), True: (20, 5)}
STRATEGIES = ("dual_taker", "seed_wait_both", "engine_maker", "engine_planner")
LABELS = {
    "dual_taker": "(a) dual taker",
    "seed_wait_both": "(b) seed: wait both",
    "engine_maker": "(c) engine maker",
    "engine_planner": "(d) engine planner",
    # the seed's open questions (``fsm.bench.open_questions``): (c) with one change each
    "trigger_30": "(c) hedge at 30% filled",
    "adaptive_hedge": "(c) adaptive hedge",
}


def config_for(strategy: str, regime: Regime) -> EntryConfig:
    """The engine config each strategy runs with (the seed's executor reads its quote
    offset and timeout from the same default config)."""
    config = EntryConfig()
    if strategy == "dual_taker":
        return attrs.evolve(config, plan=PlanChoice.TAKER_TAKER)
    if strategy == "engine_planner":
        return attrs.evolve(config, plan=PlanChoice.AUTO,
                            plan_volatility_bp=regime.sigma_bps)
    if strategy in ("engine_maker", "seed_wait_both"):
        return config
    if strategy == "trigger_30":
        return attrs.evolve(config, hedge_trigger_fill_ratio=Decimal("0.3"))
    if strategy == "adaptive_hedge":
        return attrs.evolve(config, plan_hedge=PlanHedge.ADAPTIVE,
                            plan_volatility_bp=regime.sigma_bps)
    raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(LABELS)}")


async def _seed_run(market: Scenario) -> tuple[Decimal, Decimal, EntryCost]:
    venues = market.build_venues()
    for venue in venues.values():
        venue.start()
    request, by_leg = market.request, {}
    try:
        for leg in (Leg.LONG, Leg.SHORT):
            by_leg[leg] = venues[request.leg(leg).venue]
        books = {leg: await by_leg[leg].book(request.leg(leg).symbol) for leg in by_leg}
        typed: dict[Leg, base.Venue] = dict(by_leg)
        await baselines.wait_both_then_market(typed, request, market.config, "seed")
    finally:
        for venue in venues.values():
            venue.close()
    mids = {leg: book.mid for leg, book in books.items()}
    reference = (mids[Leg.LONG] + mids[Leg.SHORT]) / 2
    slippage = fees = Decimal(0)
    filled = {leg: Decimal(0) for leg in by_leg}
    for leg, venue in by_leg.items():
        for client_id in venue.client_ids():
            for fill in venue.order(client_id).fills:
                # Paid against the arrival mid: a buy above it, a sell below it.
                sign = 1 if leg.side is Side.BUY else -1
                slippage += sign * (fill.price - mids[leg]) * fill.qty
                fees += fill.fee
                filled[leg] += fill.qty
    qty = max(filled.values())
    cost = float((slippage + fees) / (qty * reference) * _BPS) if qty > 0 else None
    executions = [e for venue in venues.values() for e in venue.executions]
    exposed = exposure.net_exposure(executions, reference).notional_seconds if executions \
        else Decimal(0)
    complete = all(filled[leg] >= request.leg(leg).qty for leg in by_leg)
    return reference, qty, EntryCost(0, "complete" if complete else "withdrawn", complete,
                                     cost, float(exposed))


def entry(strategy: str, regime: Regime, market: Scenario, seed: int) -> EntryCost:
    """One entry of ``strategy`` on ``market`` (``regime``'s scenario) at ``seed``."""
    chosen = attrs.evolve(market, config=config_for(strategy, regime))
    if strategy != "seed_wait_both":
        return economics.cost_of(seed, chosen)
    _ref, _qty, cost = run_virtual(_seed_run(economics.with_seed(chosen, seed)))
    return attrs.evolve(cost, seed=seed)


@attrs.frozen
class Row:
    """One strategy in one regime, with the seeds it ran on."""

    regime: str
    fees: str
    strategy: str
    sigma_bps: str
    seeds: tuple[int, int]  # first, count: every strategy of a regime runs the same
    summary: CostSummary
    plans: dict[str, int] = attrs.field(factory=dict)  # (d): plan name -> entries




def run(regimes: Sequence[Regime], seeds: range,
        progress: Callable[[str], None] = lambda _: None,
        strategies: Sequence[str] = STRATEGIES) -> list[Row]:
    rows = []
    for regime in regimes:
        market = scenario(regime)
        for strategy in strategies:
            progress(f"economics {regime.name} {regime.pair} {strategy} ...")
            began = time.process_time()
            costs = [entry(strategy, regime, market, seed) for seed in seeds]
            summary = economics.summarize(LABELS[strategy], costs, time.process_time() - began)
            plans = Counter(c.plan for c in costs if c.plan)
            rows.append(Row(regime.name, regime.pair, strategy, str(regime.sigma_bps),
                            (seeds.start, len(seeds)), summary, dict(sorted(plans.items()))))
    return rows


def run_bench(quick: bool, progress: Callable[[str], None] = lambda _: None) -> list[Row]:
    """Every regime on binanceusdm + hyperliquid, then the fee sweep (normal, deep)."""
    main, sweep = SEEDS[quick]
    rows = run(regimes(), range(main), progress)
    return rows + run([r for r in fee_sweep() if r.fees != PAIR], range(sweep), progress)

