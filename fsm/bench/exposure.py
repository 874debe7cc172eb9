"""Benchmark 1: how long, and how much, an entry stays one-sided after the first fill.

Every case runs in virtual time on two simulated venues with one-way latency L, the
short quote never fills on its own and the long quote fills completely at a scripted
moment. Exposure is read from the venues' own executions (``SimulatedVenue.executions``),
not from what any executor believed: from the first trade until the net position is
back to zero, in milliseconds and in notional-seconds (|net| x mid, integrated).

The fill moment is swept across one 0.5 s polling period, so a poller is measured at
every phase and not at a lucky one; the engine's modes do not depend on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from decimal import Decimal
from statistics import mean

import attrs

from fsm.bench import baselines
from fsm.core.config import EntryConfig, HedgeMode
from fsm.core.values import EntryRequest
from fsm.shell.engine import EntryEngine
from fsm.sim import scenario as scenarios
from fsm.sim.scenario import Scenario
from venues import protocol as base
from venues.market import Leg
from venues.sim.venue import Execution, ScriptedFill
from venues.sim.virtual_time import run_virtual

MODES = ("cancel_then_hedge", "amend_to_cross", "wait_both_then_roll_back", "poll_and_hedge")
LABELS = {
    "cancel_then_hedge": "(a) this engine: cancel, confirm, hedge",
    "amend_to_cross": "(b) this engine: amend the sibling through the touch",
    "wait_both_then_roll_back": "(c) old: wait for both legs, then roll back",
    "poll_and_hedge": "(d) old: poll every 0.5 s, then cancel and hedge",
}
LATENCIES_MS = (10, 25, 50)
FILL_PHASES = 10  # fill moments spread evenly across one 0.5 s polling period
FIRST_FILL_S = 1.0  # late enough for every executor's quotes to rest at 50 ms latency
QUOTE_TIMEOUT_S = 5.0  # the old executor's wait; the engine never reaches it here

Executor = Callable[
    [dict[Leg, base.Venue], EntryRequest, EntryConfig, str], Awaitable[None]
]


@attrs.frozen
class Sample:
    unhedged_ms: float
    notional_seconds: Decimal


@attrs.frozen
class ExposureRow:
    mode: str
    latency_ms: int
    samples: int
    mean_ms: float
    max_ms: float
    mean_notional_seconds: Decimal
    limit_ms: float | None
    ratio_to_limit: float | None
    ratio_to_a: float | None


def physical_limit_ms(mode: str, latency_ms: float) -> float | None:
    """(a) a cancel round trip plus a hedge round trip; (b) one amend round trip."""
    return {"cancel_then_hedge": 4 * latency_ms, "amend_to_cross": 2 * latency_ms}.get(mode)


def _scenario(latency_s: float, fill_at_s: float, mode: str) -> Scenario:
    base_scenario = scenarios.load_builtin("one_leg_fills_first")
    venues = []
    for spec in base_scenario.venues:
        rules = attrs.evolve(spec.market.rules, supports_amend=True)
        script = (ScriptedFill(at_s=fill_at_s),) if spec.name == "alpha" else ()
        venues.append(attrs.evolve(
            spec, latency_s=latency_s, script=script, stream_delay_s=0.0,
            market=attrs.evolve(spec.market, rules=rules),
        ))
    hedge_mode = (HedgeMode.AMEND_TO_CROSS if mode == "amend_to_cross"
                  else HedgeMode.CANCEL_THEN_HEDGE)
    config = attrs.evolve(base_scenario.config, quote_timeout_s=QUOTE_TIMEOUT_S,
                          hedge_mode=hedge_mode)
    return attrs.evolve(base_scenario, venues=tuple(venues), config=config)


def net_exposure(executions: list[Execution], mid: Decimal) -> Sample:
    """Time with a non-zero net position between trades, and |net| x mid integrated over it.

    A run that ends one-sided is an error, not a figure: every executor measured here
    must end flat (hedged or rolled back).
    """
    if not executions:
        raise RuntimeError("nothing traded: the scripted fill found no resting quote")
    ordered = sorted(executions, key=lambda e: e.at)
    net, seconds, notional = Decimal(0), 0.0, Decimal(0)
    for before, after in itertools.pairwise(ordered):
        net += before.qty
        span = after.at - before.at
        if net != 0 and span > 0:
            notional += abs(net) * mid * Decimal(repr(round(span, 9)))
            seconds += span
    net += ordered[-1].qty
    if net != 0:
        raise RuntimeError(f"the run ended one-sided: net {net}")
    return Sample(round(seconds * 1000, 3), notional.quantize(Decimal("0.01")))


async def _run(scenario: Scenario, executor: Executor | None) -> list[Execution]:
    venues = scenario.build_venues()
    for venue in venues.values():
        venue.start()
    try:
        if executor is None:
            engine = EntryEngine(venues, scenario.config)
            result = await engine.enter(scenario.request)
            await engine.close()
            if not result.succeeded:
                raise RuntimeError(f"benchmark entry ended {result.final_state}")
        else:
            by_leg: dict[Leg, base.Venue] = {
                leg: venues[scenario.request.leg(leg).venue] for leg in (Leg.LONG, Leg.SHORT)
            }
            await executor(by_leg, scenario.request, scenario.config, "bench")
    finally:
        for venue in venues.values():
            venue.close()
    return [e for venue in venues.values() for e in venue.executions]


def _executor(mode: str) -> Executor | None:
    return {
        "wait_both_then_roll_back": baselines.wait_both_then_roll_back,
        "poll_and_hedge": baselines.poll_and_hedge,
    }.get(mode)


def measure(mode: str, latency_ms: int, phases: int = FILL_PHASES) -> list[Sample]:
    samples = []
    for k in range(phases):
        fill_at = FIRST_FILL_S + k * baselines.POLL_S / phases
        scenario = _scenario(latency_ms / 1000, fill_at, mode)
        mid = scenario.venues[0].market.book.mid
        executions = run_virtual(_run(scenario, _executor(mode)))
        samples.append(net_exposure(executions, mid))
    return samples


def run(latencies_ms: tuple[int, ...] = LATENCIES_MS, phases: int = FILL_PHASES
        ) -> list[ExposureRow]:
    rows: list[ExposureRow] = []
    for latency in latencies_ms:
        measured = {mode: measure(mode, latency, phases) for mode in MODES}
        a_mean = mean(s.unhedged_ms for s in measured["cancel_then_hedge"])
        for mode, samples in measured.items():
            mean_ms = mean(s.unhedged_ms for s in samples)
            limit = physical_limit_ms(mode, latency)
            rows.append(ExposureRow(
                mode=mode, latency_ms=latency, samples=len(samples),
                mean_ms=round(mean_ms, 3), max_ms=max(s.unhedged_ms for s in samples),
                mean_notional_seconds=(
                    sum((s.notional_seconds for s in samples), Decimal(0)) / len(samples)
                ).quantize(Decimal("0.01")),
                limit_ms=limit,
                ratio_to_limit=None if limit is None else round(mean_ms / limit, 3),
                ratio_to_a=round(mean_ms / a_mean, 2),
            ))
    return rows
