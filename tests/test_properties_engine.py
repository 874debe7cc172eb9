"""Property tests: the real engine on simulated venues, in random worlds, in virtual time.

Every generated world (``tests.strategies.worlds``) is run through ``EntryEngine``
exactly as ``atomic-entry simulate`` runs a scenario file. The six safety invariants
are checked after every step the entry takes (against what the venues hold at that
instant) and again at the end (``fsm.core.invariants.check`` against venue truth).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings

from fsm.core import invariants, spec
from fsm.core.entry import EntryModel
from fsm.shell.engine import EntryEngine, Step
from tests.conftest import count_example, examples
from tests.desk_checks import check_placed
from tests.strategies import World, WorldRun, run_world, worlds
from venues.market import (
    Leg,
    PlaceOrder,
    Purpose,
)
from venues.sim.venue import SimulatedVenue

ENTRY_TERMINAL = spec.terminal_names(spec.ENTRY_STATES)


def _model(engine: EntryEngine, entry_id: str) -> EntryModel:
    """The running entry's model. Private access on purpose: a test may look inside."""
    return engine._actors[entry_id].model


def _venue_filled(venues: dict[str, SimulatedVenue], venue: str, client_id: str) -> Decimal:
    try:
        return venues[venue].order(client_id).filled
    except KeyError:
        return Decimal(0)


class StepChecks:
    """The invariants that must hold after every event, not just at the end."""

    def __init__(self) -> None:
        self.intents: dict[str, tuple[Leg, Purpose]] = {}
        self.places = 0

    def __call__(self, step: Step, engine: EntryEngine,
                 venues: dict[str, SimulatedVenue]) -> None:
        model = _model(engine, step.entry_id)
        for command in step.commands:
            if isinstance(command, PlaceOrder):
                self._place(model, command, venues)
        tolerance = model.tolerance()
        for leg in (Leg.LONG, Leg.SHORT):
            target = model.request.leg(leg).qty
            mine = [r for r in model.ledger if r.command.leg is leg and r.command.side is leg.side]
            counted = sum((r.filled for r in mine), Decimal(0))
            truth = sum((_venue_filled(venues, r.command.venue, r.client_id) for r in mine),
                        Decimal(0))
            # 3. no overfill, as the entry counts it and as the venue did it
            assert counted <= target + tolerance, f"{leg.value} counted {counted} > {target}"
            assert truth <= target + tolerance, f"{leg.value} filled {truth} > {target}"
        keys = [(f.venue, f.trade_id) for f in model.ledger.fills]
        # 2. a fill is counted once, and never more than the venue executed
        assert len(keys) == len(set(keys)), f"a trade counted twice: {keys}"
        for record in model.ledger:
            truth_filled = _venue_filled(venues, record.command.venue, record.client_id)
            assert record.filled <= truth_filled, (
                f"{record.client_id}: counted {record.filled}, venue filled {truth_filled}")

    def _place(self, model: EntryModel, command: PlaceOrder,
               venues: dict[str, SimulatedVenue]) -> None:
        self.places += 1
        cid = command.client_id
        # 6. one client id, one intent; never sent again once the venue holds it
        intent = (command.leg, command.purpose)
        assert self.intents.setdefault(cid, intent) == intent, f"{cid} reused for {intent}"
        try:
            venues[command.venue].order(cid)
        except KeyError:
            pass
        else:
            raise AssertionError(f"{cid} sent again although {command.venue} holds it")
        check_placed(model, command)


def check_end(outcome: WorldRun) -> None:
    """What every run must look like when it is over."""
    run, venues = outcome.run, outcome.venues
    result = run.result
    assert result.final_state in ENTRY_TERMINAL
    assert run.violations == (), run.violations
    # 5. flat within one lot, or stuck or unbalanced (never complete) with an alert
    # naming the residual on each venue
    true_net = sum((p["end"] - p["start"] for p in result.positions.values()), Decimal(0))
    if abs(true_net) > result.tolerance:
        assert result.final_state in ("stuck", "unbalanced"), (
            result.final_state, true_net, result.alerts)
        assert result.alerts
        assert all(venue in result.alerts[-1] for venue in result.positions)
    # the entry moved each venue's position by its own fills only: whatever was held
    # before (rollback included) is never touched
    provisional = invariants._left_live(result)
    for leg_name, leg in result.legs.items():
        if any(o.venue == leg.venue and o.client_id in provisional for o in result.orders):
            continue  # a stuck entry's live order: its alert's reader takes over
        moved = result.positions[leg.venue]["end"] - result.positions[leg.venue]["start"]
        assert moved == (leg.filled if leg_name == "long" else -leg.filled), (
            f"{leg.venue} moved {moved}, the entry's own {leg_name} fills are {leg.filled}")
    if result.final_state == "rolled_back":
        assert all(abs(leg.filled) <= result.tolerance for leg in result.legs.values())
    # no duplicate order: no venue ever had to refuse a client id it already held
    for venue in venues.values():
        duplicates = [e for e in venue.journal if "duplicate client order id" in e.detail]
        assert not duplicates, duplicates
        placed = [e.client_id for e in venue.journal if e.kind == "placed"]
        assert len(placed) == len(set(placed))


def faults_injected(outcome: WorldRun) -> int:
    """Scripted departures from the happy path that fired (refusals, lost answers, fills
    racing cancels, partial fills, unavailable answers) and requests refused by outages."""
    return sum(
        1 for venue in outcome.venues.values() for e in venue.journal
        if e.kind == "reaction" or (e.kind == "unavailable" and "(outage)" in e.detail)
    )


@settings(max_examples=examples(10))
@given(worlds())
def test_every_world_ends_terminal_safe_and_flat(world: World) -> None:
    checks = StepChecks()
    outcome = run_world(world, checks)
    count_example("engine: random worlds", len(outcome.run.steps),
                  faults_injected=faults_injected(outcome))
    check_end(outcome)


@settings(max_examples=examples(1))
@given(worlds())
def test_every_world_runs_the_same_twice(world: World) -> None:
    first, second = run_world(world).run, run_world(world).run
    count_example("engine: determinism")
    assert first.result.to_dict() == second.result.to_dict()
    assert [(s.event, s.commands) for s in first.steps] == [
        (s.event, s.commands) for s in second.steps]
