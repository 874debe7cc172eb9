"""Breaker stories: sequences of shipped scenarios whose endings drive the circuit breakers.

A scenario file runs one entry, and a breaker only moves over many. A story runs
shipped scenarios (each once, on virtual time, as ``simulate`` does) and hands their
results, at the instants the story names, to one set of breakers; between them it can
let time pass (a verdict asked for a new entry, which fires ``quiet``) or reset a
breaker as an operator would. Reusing the shipped scenarios keeps each story a few
lines long and its signals exactly those the goldens record; the breakers themselves
are pure (``fsm.core.breaker``), so a story is deterministic.

``STORIES`` shows every state-changing row of the breaker table at least once
(``atomic-entry coverage`` counts them; ``tests/test_breaker.py`` checks each story's
ending). The engine's side (refusing, running conservative, the journal) is tested
with a running engine in ``tests/test_breaker_engine.py``.
"""

from __future__ import annotations

import functools

import attrs

from fsm.core.breaker import GLOBAL, BreakerConfig, Breakers, BreakerTransition
from fsm.core.result import EntryResult
from fsm.core.tables.breaker import BreakerState
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate

SLOW = "maker_keeps_quoting"  # completes, its hedge on beta in 750 ms
REFUSED = "quote_refused_withdrawn"  # beta refuses one quote: one fault on beta
STUCK = "both_venues_down_stuck"  # ends stuck on alpha and beta
ACTIVE, CONSERVATIVE, HALTED = BreakerState
STORY_CONFIG = BreakerConfig(slow_hedge_s=0.5, quiet_s=60.0)


@attrs.frozen
class Step:
    """At ``at`` seconds: an entry ends as ``scenario`` did, or a new entry on ``venues``
    asks for a verdict (``check``), or an operator resets ``reset``."""

    at: float
    scenario: str | None = None
    check: tuple[str, ...] = ()
    reset: str | None = None


@attrs.frozen
class Story:
    name: str
    meaning: str
    steps: tuple[Step, ...]
    expect: dict[str, BreakerState]  # scope -> state at the end (a scope never named: active)
    config: BreakerConfig = attrs.field(factory=lambda: STORY_CONFIG)


def _every(scenario: str, times: int, start: float = 0.0) -> tuple[Step, ...]:
    return tuple(Step(start + 10.0 * i, scenario) for i in range(times))


STORIES: tuple[Story, ...] = (
    Story("slow_hedges_conservative", "Three slow hedges on beta: beta conservative.",
          _every(SLOW, 3), {"beta": CONSERVATIVE, "alpha": ACTIVE, GLOBAL: ACTIVE}),
    Story("slow_hedges_halt", "Five slow hedges on beta: conservative after three, halted "
          "after five; the global breaker (twice the counts) not yet moved.",
          _every(SLOW, 5), {"beta": HALTED, GLOBAL: ACTIVE}),
    Story("slow_hedges_halt_at_once", "Halt and conservative counts equal: the halt row "
          "wins from active.", _every(SLOW, 2),
          {"beta": HALTED, GLOBAL: ACTIVE},
          BreakerConfig(slow_hedge_s=0.5, conservative_after=2, halt_after=2)),
    Story("refusals_conservative_then_halt", "Refused requests on beta: conservative after "
          "two, halted after three.", _every(REFUSED, 3), {"beta": HALTED},
          BreakerConfig(fault_conservative_after=2, fault_halt_after=3)),
    Story("refusal_halts_at_once", "One refusal allowed in all: halted from active.",
          _every(REFUSED, 1), {"beta": HALTED, GLOBAL: ACTIVE},
          BreakerConfig(fault_conservative_after=1, fault_halt_after=1)),
    Story("stuck_halts", "An entry ends stuck: both its venues halt at once.",
          _every(STUCK, 1), {"alpha": HALTED, "beta": HALTED, GLOBAL: HALTED}),
    Story("stuck_while_conservative", "Conservative after three slow hedges, then an entry "
          "ends stuck: halted.", (*_every(SLOW, 3), Step(40.0, STUCK)), {"beta": HALTED}),
    Story("quiet_steps_down", "Halted by a stuck entry; a quiet period later conservative, "
          "another later active.",
          (Step(0.0, STUCK), Step(30.0, check=("alpha", "beta")),
           Step(61.0, check=("alpha", "beta")), Step(100.0, check=("alpha", "beta")),
           Step(122.0, check=("alpha", "beta"))),
          {"alpha": ACTIVE, "beta": ACTIVE, GLOBAL: ACTIVE}),
    Story("reset_after_halt", "Halted by a stuck entry, reset by an operator: active.",
          (Step(0.0, STUCK), Step(5.0, reset="all")),
          {"alpha": ACTIVE, "beta": ACTIVE, GLOBAL: ACTIVE}),
    Story("reset_while_conservative", "Conservative after three slow hedges, reset: active.",
          (*_every(SLOW, 3), Step(35.0, reset="beta")), {"beta": ACTIVE}),
)


@attrs.frozen
class StoryRun:
    story: Story
    transitions: tuple[BreakerTransition, ...]
    states: dict[str, BreakerState]


@functools.cache
def _ended(name: str) -> EntryResult:
    return simulate(scenarios.load_builtin(name)).result


def run(story: Story) -> StoryRun:
    breakers = Breakers(story.config)
    taken: list[BreakerTransition] = []
    for step in story.steps:
        if step.scenario is not None:
            taken += breakers.report(_ended(step.scenario), step.at)
        if step.check:
            taken += breakers.check(step.check, step.at)[1]
        if step.reset is not None:
            taken += breakers.reset(step.reset, step.at)
    states = {name: b.state for name, b in breakers.states().items()}
    return StoryRun(story, tuple(taken), {name: states.get(name, ACTIVE) for name in
                                          sorted({*states, *story.expect})})


def run_all() -> list[StoryRun]:
    return [run(story) for story in STORIES]
