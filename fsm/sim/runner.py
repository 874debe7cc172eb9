"""Run a scenario: fresh simulated venues, the real engine, a virtual clock.

Also the simulated half of crash recovery: run a scenario until an engine dies at a
chosen point (``fsm.sim.crash``), and bring back the simulated venues of a journal left by
a run that died, so ``atomic-entry recover`` can finish its entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from fsm.core import invariants
from fsm.core.config import EntryConfig
from fsm.core.result import EntryResult, with_venue_executions
from fsm.shell.engine import EntryEngine, RecoveryOutcome, Step
from fsm.shell.journal import Journal, JournaledEntry
from fsm.shell.metrics import MetricsSink
from fsm.shell.recovery import RecoveryError
from fsm.sim import DEFAULT_DOWNTIME_S, SIMULATED
from fsm.sim.crash import CrashingJournal, CrashPoint, SimulatedCrash
from fsm.sim.rebuild import check_rebuilt, last_instant, rebuild
from fsm.sim.scenario import Scenario, parse
from venues.sim.venue import SimulatedVenue
from venues.sim.virtual_time import run_virtual


@attrs.frozen
class SimulationRun:
    scenario: Scenario
    result: EntryResult
    steps: tuple[Step, ...]
    venue_filled: dict[str, Decimal]
    violations: tuple[str, ...]


def origin(scenario: Scenario) -> dict[str, Any]:
    """What a journal keeps of a simulated run to bring its venues back."""
    return {"kind": SIMULATED, "run": uuid.uuid4().hex, "scenario": scenario.name,
            "text": scenario.text}


def simulate(scenario: Scenario, journal: Journal | None = None,
             metrics: MetricsSink | None = None) -> SimulationRun:
    """Run ``scenario`` once on a virtual-time loop and check every invariant (``metrics``:
    the engine's sink, ``fsm.shell.metrics``)."""
    return run_virtual(simulate_async(scenario, journal, metrics))


async def simulate_async(scenario: Scenario, journal: Journal | None = None,
                         metrics: MetricsSink | None = None) -> SimulationRun:
    """The same, on the running loop (it must be a virtual-time loop for scripted timing)."""
    venues = scenario.build_venues()
    for venue in venues.values():
        venue.start()
    engine = EntryEngine(venues, scenario.config, journal=journal, metrics=metrics)
    steps: list[Step] = []
    engine.on_step(steps.append)
    try:
        result = await engine.enter(scenario.request)
    finally:
        await engine.close()
        for venue in venues.values():
            venue.close()
    truth = venue_filled(venues, result)
    result = with_venue_executions(result, (e for v in venues.values() for e in v.executions))
    sent = (command for step in steps for command in step.commands)
    trades = ((e.client_id, e.price) for v in venues.values() for e in v.executions)
    return SimulationRun(scenario, result, tuple(steps), truth, tuple(invariants.check(
        result, truth, commands=sent, max_book_age_s=scenario.config.max_book_age_s,
        executions=trades)))


# --------------------------------------------------------------------- crash and recover

@attrs.frozen
class CrashedRun:
    """A run whose engine was stopped dead (or that ended before the chosen point)."""

    crash: CrashPoint
    crashed: bool
    steps: tuple[Step, ...]
    result: EntryResult | None  # when it ended before the crash point


async def run_until_crash(
    scenario: Scenario, venues: dict[str, SimulatedVenue], journal: CrashingJournal,
    kill_at_s: float | None = None,
) -> CrashedRun:
    """Run the scenario's entry on started ``venues`` until ``journal`` kills its engine.

    ``kill_at_s``: the entry is also asked to stop (``EntryEngine.kill``) at that time,
    if it still runs, so crashes can land in a rollback that a kill started.
    """
    engine = EntryEngine(venues, scenario.config, journal=journal)
    journal.stops = engine.stop_dead
    steps: list[Step] = []
    engine.on_step(steps.append)
    loop = asyncio.get_running_loop()
    # The crash cancels the task the engine follows the entry in, not this caller: a
    # cancelled caller would have the engine kill the entry, a death does not.
    task = loop.create_task(engine.enter(scenario.request))
    entry_id = scenario.request.entry_id
    if kill_at_s is not None and entry_id is not None:
        def kill() -> None:
            if not task.done():
                with contextlib.suppress(KeyError):  # not started yet, or already over
                    engine.kill(entry_id, "kill before the crash")

        loop.call_later(kill_at_s, kill)
    result = None
    try:
        result = await task
    except SimulatedCrash:
        pass
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # we were cancelled ourselves, not the engine
    finally:
        await engine.close()  # the dead process hears nothing more
    return CrashedRun(journal.crash, journal.crashed and result is None, tuple(steps), result)


async def recover_on(
    venues: dict[str, SimulatedVenue], journal: Journal, only: Iterable[str] | None = None,
    steps: list[Step] | None = None,
) -> list[RecoveryOutcome]:
    """A new engine, as a restarted process would build it, recovering ``journal``."""
    engine = EntryEngine(venues, EntryConfig(), journal=journal)
    if steps is not None:
        engine.on_step(steps.append)
    try:
        return await engine.recover(only)
    finally:
        await engine.close()


@attrs.frozen
class SimulatedRecovery:
    outcomes: tuple[RecoveryOutcome, ...]
    venues: dict[str, SimulatedVenue]
    steps: tuple[Step, ...]  # what the recovering engine processed, for the timeline


def recover_simulated(
    journal: Journal, entries: list[JournaledEntry], downtime_s: float = DEFAULT_DOWNTIME_S
) -> SimulatedRecovery:
    """Bring back the venues of one simulated run, then recover its unfinished entries.

    The scenario and the requests the journal says were sent rebuild them exactly
    (``fsm.sim.rebuild``); a request that was on its way when the process died lands,
    as it would have. The rebuilt venues run on for ``downtime_s`` after the last
    journaled step (the restart), and a fresh engine recovers the entries.
    """
    texts = {entry.origin.get("text") for entry in entries}
    if len(texts) != 1 or not next(iter(texts)):
        raise RecoveryError("these entries do not share one simulated run with its scenario")
    scenario = parse(str(next(iter(texts))), f"journal {journal.path}")
    return run_virtual(_recover_simulated(scenario, journal, entries, downtime_s))


async def _recover_simulated(
    scenario: Scenario, journal: Journal, entries: list[JournaledEntry], downtime_s: float
) -> SimulatedRecovery:
    rebuilt = await rebuild(scenario, entries, last_instant(entries) + downtime_s)
    venues = rebuilt.venues
    steps: list[Step] = []
    try:
        check_rebuilt(venues, entries)
        outcomes = await recover_on(venues, journal, [e.entry_id for e in entries], steps)
    finally:
        for venue in venues.values():
            venue.close()
    return SimulatedRecovery(tuple(outcomes), venues, tuple(steps))


def venue_filled(venues: dict[str, SimulatedVenue], result: EntryResult) -> dict[str, Decimal]:
    """What each of the result's orders filled, by the venue's own account."""
    truth = {}
    for order in result.orders:
        try:
            truth[order.client_id] = venues[order.venue].order(order.client_id).filled
        except KeyError:  # never reached the venue
            truth[order.client_id] = Decimal(0)
    return truth
