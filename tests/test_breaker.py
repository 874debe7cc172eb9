"""The breaker table and its model: one case per row, the stories, signals and settings.

Table cases are generated from ``fsm.core.tables.breaker`` as ``test_spec_tables`` does
for the entry and order tables: for every row a guard assignment is searched under
which it is the first enabled row for its state and trigger, then a ``Breaker`` whose
guards answer from that assignment must take exactly that row, reach its destination
and run its effects. The stories (``fsm.sim.breaker_stories``) then run every
state-changing row on real scenario endings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from fsm.core import spec
from fsm.core.breaker import GLOBAL, Breaker, BreakerConfig, BreakerConfigError, Breakers
from fsm.core.breaker_signals import signals
from fsm.sim import breaker_stories
from fsm.sim.coverage import measure_breaker, state_changing
from tests.test_spec_tables import _assignment

STATES = [name for name, _ in spec.walk(spec.BREAKER_STATES)]
TRIGGERS = spec.triggers(spec.BREAKER_TRANSITIONS)


def _cases() -> list[Any]:
    return [pytest.param(state, row, spec.rows_for(spec.BREAKER_TRANSITIONS, state, trigger),
                         id=row.label)
            for state in STATES for trigger in TRIGGERS
            for row in spec.rows_for(spec.BREAKER_TRANSITIONS, state, trigger)]


class _Scripted(Breaker):
    """A breaker whose guards answer from a table and whose effects are recorded."""

    def __init__(self, truth: dict[str, bool]) -> None:
        super().__init__("v", BreakerConfig())
        self.effects: list[str] = []
        for name, value in truth.items():
            setattr(self, name, lambda v=value: v)
        for effect in spec.BreakerEffect:
            setattr(self, effect.value, lambda e=effect.value: self.effects.append(e))


@pytest.mark.parametrize(("state", "row", "rows"), _cases())
def test_breaker_takes_the_row_as_written(state: spec.BreakerState, row: Any,
                                          rows: list[Any]) -> None:
    truth = _assignment(rows, row)
    assert truth is not None, f"row {row.label} is shadowed by the rows above it"
    breaker = _Scripted(truth)
    breaker.state = state
    taken = breaker.fire(row.trigger, 1.0, "why")
    assert spec.BREAKER_TRANSITIONS[taken.row] is row
    assert breaker.state == (row.dest or state)
    assert breaker.effects == [e.value for e in row.effects]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_state_answers_every_trigger_whatever_the_guards(state: str, trigger: str) -> None:
    """The last row for each pair has no guard: a breaker never meets a trigger it lacks."""
    rows = spec.rows_for(spec.BREAKER_TRANSITIONS, state, trigger)
    assert rows and not rows[-1].guards and not rows[-1].unless


def test_every_guard_and_effect_is_a_breaker_method() -> None:
    for name in (*spec.BreakerGuard, *spec.BreakerEffect):
        assert callable(getattr(Breaker, name.value))


@pytest.mark.parametrize("story", breaker_stories.STORIES, ids=lambda s: s.name)
def test_each_story_ends_as_it_says(story: breaker_stories.Story) -> None:
    run = breaker_stories.run(story)
    assert {k: run.states[k] for k in story.expect} == story.expect


def test_the_stories_take_every_state_changing_row_and_replay_identically() -> None:
    first, again = breaker_stories.run_all(), breaker_stories.run_all()
    assert [r.transitions for r in first] == [r.transitions for r in again]
    covered = measure_breaker(first)
    assert covered.never == ()
    assert len(covered.changing) == len(state_changing(spec.BREAKER_TRANSITIONS)) == 12


def test_signals_of_shipped_endings() -> None:
    ended = breaker_stories._ended
    assert [(s.trigger, s.venue) for s in signals(ended("maker_keeps_quoting"), 0.5)] == [
        ("slow_hedge", "beta")]
    assert signals(ended("maker_keeps_quoting"), 1.0) == []  # 750 ms is not slow at 1 s
    assert [(s.trigger, s.venue) for s in signals(ended("both_venues_down_stuck"), 1.0)] == [
        ("unfinished", "alpha"), ("unfinished", "beta")]
    refused = signals(ended("quote_refused_withdrawn"), 1.0)
    assert [(s.trigger, s.venue) for s in refused] == [("fault", "beta")]
    assert "beta refused a request" in refused[0].reason


def test_the_window_forgets_old_signals_and_the_global_breaker_needs_more() -> None:
    breakers = Breakers(BreakerConfig(slow_hedge_s=0.5, window_s=25.0))
    slow = breaker_stories._ended("maker_keeps_quoting")
    for at in (0.0, 10.0, 30.0, 40.0):  # never three within 25 s
        breakers.report(slow, at)
    assert breakers.scope("beta").state is spec.BreakerState.ACTIVE
    breakers.report(slow, 45.0)  # 30, 40, 45: three within the window
    assert breakers.scope("beta").state is spec.BreakerState.CONSERVATIVE
    assert breakers.scope(GLOBAL).state is spec.BreakerState.ACTIVE  # 2 x 3 needed


def test_the_strictest_breaker_decides_and_names_itself() -> None:
    breakers = Breakers()
    breakers.scope("beta").restore(spec.BreakerState.CONSERVATIVE, "slow", 0.0)
    breakers.scope(GLOBAL).restore(spec.BreakerState.HALTED, "stuck entry", 0.0)
    verdict, _ = breakers.check(("alpha", "beta"), 1.0)
    assert (verdict.state, verdict.scope, verdict.reason) == (
        spec.BreakerState.HALTED, GLOBAL, "stuck entry")


@pytest.mark.parametrize(("changes", "message"), [
    ({"slow_hedge_s": 0}, "BreakerConfig.slow_hedge_s: got 0"),
    ({"halt_after": 0}, "BreakerConfig.halt_after: got 0"),
    ({"conservative_after": 4, "halt_after": 3}, "expected at least conservative_after (4)"),
    ({"fault_conservative_after": 5, "fault_halt_after": 2}, "fault_halt_after: got 2"),
    ({"conservative_size": Decimal("1.5")}, "BreakerConfig.conservative_size: got"),
    ({"conservative_size": 0.5}, "BreakerConfig.conservative_size: got 0.5"),
    ({"quiet_s": "soon"}, "BreakerConfig.quiet_s: got 'soon'"),
])
def test_bad_settings_are_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BreakerConfigError, match="expected") as caught:
        attrs.evolve(BreakerConfig(), **changes)
    assert message in str(caught.value)


def test_a_rollback_on_a_stale_book_is_a_fault_on_the_lagging_venue() -> None:
    """No shipped scenario ends so (the book is read again first); the row is named
    by its guards, so this builds the path step it would leave."""
    from fsm.core.breaker_signals import _STALE_ROLLBACK
    from fsm.core.result import PathStep

    ended = breaker_stories._ended("hedge_rejected_rollback")
    (row,) = _STALE_ROLLBACK
    stale = attrs.evolve(ended, orders=(), path=(
        *ended.path, PathStep(1.0, "evaluate", "reconciling", "rolling_back", row)))
    lagging = min(ended.legs.values(), key=lambda leg: leg.filled).venue
    assert [(s.trigger, s.venue) for s in signals(stale, 1.0)] == [("fault", lagging)]
    assert "stayed stale" in signals(stale, 1.0)[0].reason
