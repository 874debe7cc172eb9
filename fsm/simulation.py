"""Run a scenario: fresh simulated venues, the real engine, a virtual clock."""

from __future__ import annotations

from decimal import Decimal

import attrs

from fsm import invariants
from fsm.engine import EntryEngine, Step
from fsm.result import EntryResult
from fsm.scenario import Scenario
from venues.simulated import SimulatedVenue
from venues.virtual_time import run_virtual


@attrs.frozen
class SimulationRun:
    scenario: Scenario
    result: EntryResult
    steps: tuple[Step, ...]
    venue_filled: dict[str, Decimal]
    violations: tuple[str, ...]


def simulate(scenario: Scenario) -> SimulationRun:
    """Run ``scenario`` once on a virtual-time loop and check every invariant."""
    return run_virtual(simulate_async(scenario))


async def simulate_async(scenario: Scenario) -> SimulationRun:
    """The same, on the running loop (it must be a virtual-time loop for scripted timing)."""
    venues = scenario.build_venues()
    for venue in venues.values():
        venue.start()
    engine = EntryEngine(venues, scenario.config)
    steps: list[Step] = []
    engine.on_step(steps.append)
    try:
        result = await engine.enter(scenario.request)
    finally:
        await engine.close()
        for venue in venues.values():
            venue.close()
    truth = _venue_filled(venues, result)
    return SimulationRun(scenario, result, tuple(steps), truth,
                         tuple(invariants.check(result, truth)))


def _venue_filled(venues: dict[str, SimulatedVenue], result: EntryResult) -> dict[str, Decimal]:
    truth = {}
    for order in result.orders:
        try:
            truth[order.client_id] = venues[order.venue].order(order.client_id).filled
        except KeyError:  # never reached the venue
            truth[order.client_id] = Decimal(0)
    return truth
