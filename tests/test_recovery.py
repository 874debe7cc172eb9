"""Crash recovery: stop the engine dead anywhere, recover from the journal, nothing left open.

Every built-in scenario is run once per step and per crash position (``fsm.sim.crash``):
before the step is journaled, journaled but not sent, and sent with no answer back.
The venues carry on through the downtime (in-flight requests land, scripted fills
happen), then a fresh engine recovers the journal. Random worlds do the same at a
random step. After each recovery: the entry is terminal and the journal closed, no
order of it rests at any venue, the venues' positions moved by the entry's own fills
only and within one lot (or the entry is ``stuck`` with an alert naming each venue),
no order was ever sent twice, and the invariants hold against venue truth.
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from fsm.core import invariants, spec
from fsm.core.commands import RaiseAlert
from fsm.shell.engine import EntryEngine, RecoveryOutcome
from fsm.shell.journal import Journal
from fsm.sim import scenario as scenarios
from fsm.sim.crash import CrashingJournal, CrashPoint, Where
from fsm.sim.runner import CrashedRun, recover_on, run_until_crash, simulate, venue_filled
from fsm.sim.scenario import Scenario
from tests.conftest import count_example, examples
from tests.strategies import World, to_toml, worlds
from venues.sim.venue import SimulatedVenue
from venues.sim.virtual_time import run_virtual

TERMINAL = spec.terminal_names(spec.ENTRY_STATES)
DATA = Path(__file__).parent / "data"
SETTLED = spec.terminal_names(spec.ORDER_STATES)
ROWS_CRASHED: set[int] = set()  # table rows whose step a crash interrupted (builtin scenarios)


@attrs.frozen
class Recovery:
    crashed: CrashedRun
    outcomes: tuple[RecoveryOutcome, ...]
    venues: dict[str, SimulatedVenue]
    unfinished_after: tuple[str, ...]
    final_states: tuple[str | None, ...]  # as the journal has them after recovery
    alerts: tuple[str, ...]  # every alert the journal says was raised, before or after


def crash_and_recover(scenario: Scenario, crash: CrashPoint, directory: Path,
                      downtime_s: float = 5.0, kill_at_s: float | None = None) -> Recovery:
    path = directory / f"journal-{crash.step}-{crash.where.value}.sqlite"

    async def run() -> Recovery:
        venues = scenario.build_venues()
        for venue in venues.values():
            venue.start()
        crashed = await run_until_crash(scenario, venues, CrashingJournal(path, crash),
                                        kill_at_s)
        await asyncio.sleep(downtime_s)  # the venues carry on while the process restarts
        journal = Journal(path)
        try:
            outcomes = await recover_on(venues, journal)
            left = tuple(journal.entry_ids(unfinished=True))
            finals = tuple(journal.entry(e).final_state for e in journal.entry_ids())
            alerts = tuple(c.message for e in journal.entry_ids() for s in journal.entry(e).steps
                           for c in s.commands if isinstance(c, RaiseAlert))
        finally:
            journal.close()
            for venue in venues.values():
                venue.close()
        return Recovery(crashed, tuple(outcomes), venues, left, finals, alerts)

    return run_virtual(run())


def check_recovered(scenario: Scenario, recovery: Recovery) -> None:
    """Nothing left open, nothing sent twice, nothing moved but by the entry's own fills."""
    venues = recovery.venues
    assert recovery.unfinished_after == (), "the journal still has unfinished entries"
    # no order ever sent twice, none resting
    for venue in venues.values():
        duplicates = [e for e in venue.journal if "duplicate client order id" in e.detail]
        assert not duplicates, duplicates  # a re-send under an id the venue holds
        placed = [e.client_id for e in venue.journal if e.kind == "placed"]
        assert len(placed) == len(set(placed)), placed
        resting = [cid for cid in venue.client_ids() if venue.order(cid).live]
        named = recovery.alerts
        # only a stuck entry may leave an order resting, and its alert must name it
        assert all(any(cid in alert for alert in named) for cid in resting), (
            f"{venue.name} still holds live orders {resting}")
    if not recovery.crashed.crashed:
        return  # it ended before the crash point: the run itself is checked elsewhere
    if not recovery.outcomes:  # closed before it died: by its last step, or by a kill
        (final,) = recovery.final_states  # before anything was sent (``not_started``)
        nothing_sent = all(not venue.client_ids() for venue in venues.values())
        assert final in TERMINAL or (final == "not_started" and nothing_sent), final
        return
    assert len(recovery.outcomes) == 1, recovery.outcomes
    outcome = recovery.outcomes[0]
    result = outcome.result
    if result is None:
        assert outcome.resumed_in == "new", outcome.note  # nothing had been sent
        assert all(not venue.client_ids() for venue in venues.values())
        return
    assert result.final_state in TERMINAL
    assert invariants.check(result, venue_filled(venues, result)) == []
    tolerance = result.tolerance
    for leg_name, leg in result.legs.items():
        symbol = scenario.request.long.symbol if leg_name == "long" else \
            scenario.request.short.symbol
        start = next(v.market.position for v in scenario.venues if v.name == leg.venue)
        moved = venues[leg.venue].position_now(symbol) - start
        own = leg.filled if leg_name == "long" else -leg.filled
        # A stuck entry may leave orders it could not cancel or resolve (venue down): they
        # may have filled unheard, by at most what they had left, and its alert must name
        # each as possibly live.
        unsettled = [o for o in result.orders if o.venue == leg.venue and o.status not in SETTLED]
        assert not unsettled or all(o.client_id in result.alerts[-1] for o in unsettled), unsettled
        unheard = sum((o.qty - o.filled for o in unsettled), Decimal(0))
        assert abs(moved - own) <= unheard, (
            f"{leg.venue} moved {moved}; the entry's own {leg_name} fills are {leg.filled}"
            + (f" and its unsettled orders there could add {unheard}" if unsettled else ""))
    true_net = sum((venues[v].position_now(scenario.request.long.symbol
                                           if v == scenario.request.long.venue
                                           else scenario.request.short.symbol)
                    - next(s.market.position for s in scenario.venues if s.name == v)
                    for v in venues), Decimal(0))
    if abs(true_net) > tolerance:  # never complete: stuck, or unbalanced (nothing tradable)
        assert result.final_state in ("stuck", "unbalanced"), (result.final_state, true_net)
        assert all(venue in result.alerts[-1] for venue in result.positions)


def rows_by_step(scenario: Scenario, kill_at_s: float | None = None) -> list[list[int]]:
    """The table rows each step of an uncrashed run took, in step order."""

    async def run() -> list[list[int]]:
        venues = scenario.build_venues()
        for venue in venues.values():
            venue.start()
        engine = EntryEngine(venues, scenario.config)
        if kill_at_s is not None:
            entry_id = scenario.request.entry_id
            assert entry_id is not None
            asyncio.get_running_loop().call_later(
                kill_at_s, lambda: engine.kill(entry_id, "kill before the crash"))
        taken: list[int] = []
        per_step: list[list[int]] = []
        engine.on_transition(lambda t: taken.append(t.row))
        engine.on_step(lambda _: (per_step.append(list(taken)), taken.clear()))
        try:
            await engine.enter(scenario.request)
        finally:
            await engine.close()
            for venue in venues.values():
                venue.close()
        return per_step

    return run_virtual(run())


@pytest.mark.parametrize("name", scenarios.entry_names())
def test_a_crash_at_any_step_of_a_builtin_scenario_is_recovered(name: str, tmp_path: Path
                                                                 ) -> None:
    scenario = scenarios.load_builtin(name)
    rows = rows_by_step(scenario)
    for step in range(len(rows)):
        for where in Where:
            recovery = crash_and_recover(scenario, CrashPoint(step, where), tmp_path)
            count_example("recovery: crash points (builtin scenarios)")
            check_recovered(scenario, recovery)
            assert recovery.crashed.crashed
            ROWS_CRASHED.update(rows[step])


# Kills are not part of the scenario format: these runs add one, so that crashes land in
# rollbacks a kill started (quoting, half filled, and hedging).
KILLED = (("nobody_fills_withdrawn", 0.3), ("one_leg_fills_first", 0.2),
          ("one_leg_fills_first", 0.3))
KILL_ROW = next(i for i, row in enumerate(spec.ENTRY_TRANSITIONS)
                if (row.trigger, row.source) == ("kill", "active"))


@pytest.mark.parametrize(("name", "kill_at_s"), KILLED)
def test_a_crash_at_any_step_after_a_kill_is_recovered(name: str, kill_at_s: float,
                                                       tmp_path: Path) -> None:
    scenario = scenarios.load_builtin(name)
    rows = rows_by_step(scenario, kill_at_s)
    assert KILL_ROW in {row for step in rows for row in step}, "the kill came too late"
    for step in range(len(rows)):
        for where in Where:
            recovery = crash_and_recover(scenario, CrashPoint(step, where), tmp_path,
                                         kill_at_s=kill_at_s)
            count_example("recovery: crash points (builtin scenarios)")
            check_recovered(scenario, recovery)
            assert recovery.crashed.crashed
            ROWS_CRASHED.update(rows[step])


def test_the_crash_points_cover_every_row_the_scenarios_take() -> None:
    """Run after the tests above (file order): each row a scenario takes was interrupted
    by a crash at each of the three positions of the step that takes it."""
    taken = {row for name in scenarios.entry_names()
             for rows in rows_by_step(scenarios.load_builtin(name)) for row in rows}
    taken |= {row for name, kill_at_s in KILLED
              for rows in rows_by_step(scenarios.load_builtin(name), kill_at_s) for row in rows}
    if not ROWS_CRASHED:
        pytest.skip("run together with the crash test above")
    assert taken == ROWS_CRASHED


def test_recovery_resends_nothing_the_venue_holds(tmp_path: Path) -> None:
    """Crash right after the quotes were journaled but before they were sent, and once
    after they were sent: recovery queries both, sends a quote again only under its
    own client id when the venue never saw it, and never duplicates one it holds."""
    scenario = scenarios.load_builtin("one_leg_fills_first")
    for where in (Where.UNSENT, Where.IN_FLIGHT):
        recovery = crash_and_recover(scenario, CrashPoint(0, where), tmp_path)
        check_recovered(scenario, recovery)
        result = recovery.outcomes[0].result
        assert result is not None
        quotes = [o for o in result.orders if o.purpose == "quote"]
        if where is Where.UNSENT:  # never sent: the query finds nothing, it is refused
            assert {o.status for o in quotes} == {"rejected"}
            assert result.final_state == "withdrawn"
        else:
            assert all(o.status != "rejected" for o in quotes)


def test_a_crash_while_hedging_finishes_the_hedge_once(tmp_path: Path) -> None:
    scenario = scenarios.load_builtin("one_leg_fills_first")
    uncrashed = simulate(scenario)
    hedge_step = next(i for i, s in enumerate(uncrashed.steps)
                      if any(getattr(c, "purpose", None) is not None
                             and c.purpose.value == "hedge" for c in s.commands))
    recovery = crash_and_recover(scenario, CrashPoint(hedge_step, Where.IN_FLIGHT), tmp_path)
    check_recovered(scenario, recovery)
    result = recovery.outcomes[0].result
    assert result is not None and result.final_state == "complete"
    hedges = [o for o in result.orders if o.purpose == "hedge"]
    assert len(hedges) == 1, hedges  # the hedge in flight landed; no second one was sent


@settings(max_examples=examples(4), deadline=None)
@given(worlds(), st.integers(0, 25), st.sampled_from(list(Where)),
       st.sampled_from([0.0, 0.05, 5.0]))
def test_a_crash_in_a_random_world_is_recovered(world: World, step: int, where: Where,
                                                downtime_s: float) -> None:
    # On failure, the world as a scenario file (to ship as a regression, or to debug).
    note(f"crash at step {step} {where.value}, downtime {downtime_s} s, kill at "
         f"{world.kill_at_s} s; the world:\n"
         + to_toml(world))
    with tempfile.TemporaryDirectory() as directory:
        recovery = crash_and_recover(world.scenario, CrashPoint(step, where), Path(directory),
                                     downtime_s, world.kill_at_s)
    count_example("recovery: random worlds", crashed_mid_entry=int(recovery.crashed.crashed))
    check_recovered(world.scenario, recovery)


def test_recovered_is_the_first_event_a_recovered_entry_hears(tmp_path: Path) -> None:
    """Found by the random crash tests: a report pushed while recovery waited out its grace
    period was handled before ``Recovered``, so a hedge sent by the new process was taken
    for one of the dead process's, queried, found missing, and sent again."""
    scenario = scenarios.load(DATA / "recovery_report_before_recovered.toml")
    recovery = crash_and_recover(scenario, CrashPoint(3, Where.UNWRITTEN), tmp_path, 0.0)
    check_recovered(scenario, recovery)
    (outcome,) = recovery.outcomes
    assert outcome.result is not None
    hedges = [o for o in outcome.result.orders if o.purpose == "hedge"]
    assert len(hedges) == 1 and hedges[0].status != "rejected", hedges
