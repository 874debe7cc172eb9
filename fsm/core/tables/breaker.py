"""The breaker table: when a venue (or every venue) stops taking new entries as usual.

The third table beside the entry and order tables. One breaker runs per venue and one
for all venues together (the global one); each is ``active``, ``conservative`` or
``halted``. What entries report when they end is its input: a hedge that completed
slower than the threshold, a request the venue refused or left unanswered, a book that
stayed stale, an entry that ended stuck or unbalanced. ``fsm.core.breaker`` counts those
signals in a sliding window (the guards read the counts) and fires the rows; guards and
effects are methods of the same name on ``fsm.core.breaker.Breaker``.

What each state means for a new entry is the engine's (``fsm.shell.breakers``):
``conservative`` runs it at a reduced size with ``EntryRequest.conservative`` set (the
planner turns that into dual taker); ``halted`` refuses it, naming the reason. Cancels,
hedges and rollbacks of running entries never ask the breaker.

The state steps down one level per quiet period (no signal for ``quiet_s``): halted,
then conservative, then active. A manual reset returns to active at once.
"""

from __future__ import annotations

from enum import StrEnum

from fsm.core.tables.rows import Row, State, check_tree


class BreakerState(StrEnum):
    """Every state of a breaker (the names ``atomic-entry breaker`` shows)."""

    ACTIVE = "active"
    CONSERVATIVE = "conservative"
    HALTED = "halted"


class BreakerTrigger(StrEnum):
    """What a breaker hears: an entry's signal, the clock, or an operator."""

    SLOW_HEDGE = "slow_hedge"
    FAULT = "fault"
    UNFINISHED = "unfinished"
    QUIET = "quiet"
    RESET = "reset"


class BreakerGuard(StrEnum):
    """Facts a breaker row may require; each is a ``Breaker`` method of the same name."""

    SLOW_HALT_REACHED = "slow_halt_reached"
    SLOW_CONSERVATIVE_REACHED = "slow_conservative_reached"
    FAULT_HALT_REACHED = "fault_halt_reached"
    FAULT_CONSERVATIVE_REACHED = "fault_conservative_reached"
    QUIET_ELAPSED = "quiet_elapsed"


class BreakerEffect(StrEnum):
    """What a breaker row does; each is a ``Breaker`` method of the same name."""

    CLEAR_COUNTS = "clear_counts"


BreakerRow = Row[BreakerState, BreakerTrigger, BreakerGuard, BreakerEffect]

BREAKER_STATES: tuple[State[BreakerState], ...] = (
    State(BreakerState.ACTIVE, "New entries run as configured."),
    State(BreakerState.CONSERVATIVE, "New entries run conservative: a reduced size, and the "
          "conservative flag handed to the entry (dual taker, once the planner reads it)."),
    State(BreakerState.HALTED, "New entries are refused with the reason; cancels, hedges and "
          "rollbacks of running entries still pass."),
)
check_tree(BREAKER_STATES)

BREAKER_INITIAL = BreakerState.ACTIVE
GLOBAL = "global"
"""The scope of the breaker every entry reports to and consults, whatever its venues (the
name ``atomic-entry breaker`` shows and resets, so it is here, beside the states)."""

_SIGNALS = (BreakerTrigger.SLOW_HEDGE, BreakerTrigger.FAULT, BreakerTrigger.UNFINISHED)
# The signals counted in the window: trigger, its halt and conservative guards, what it
# is, and the two ``BreakerConfig`` counts those guards read.
_COUNTED = (
    (BreakerTrigger.SLOW_HEDGE, BreakerGuard.SLOW_HALT_REACHED,
     BreakerGuard.SLOW_CONSERVATIVE_REACHED, "slow hedge completions",
     ("halt_after", "conservative_after")),
    (BreakerTrigger.FAULT, BreakerGuard.FAULT_HALT_REACHED,
     BreakerGuard.FAULT_CONSERVATIVE_REACHED, "refused or unanswered requests and stale books",
     ("fault_halt_after", "fault_conservative_after")),
)

_STEP_DOWN = ((BreakerState.CONSERVATIVE, BreakerState.ACTIVE),
              (BreakerState.HALTED, BreakerState.CONSERVATIVE))

BREAKER_TRANSITIONS: tuple[BreakerRow, ...] = (
    # -- active: each counted signal, against its two counts
    *(row for trigger, halt, conservative, what, (halt_n, conservative_n) in _COUNTED
      for row in (
        BreakerRow(trigger, BreakerState.ACTIVE, BreakerState.HALTED,
                   f"As many {what} within the window as {halt_n}: halt.", guards=(halt,)),
        BreakerRow(trigger, BreakerState.ACTIVE, BreakerState.CONSERVATIVE,
                   f"As many {what} within the window as {conservative_n}: the next entries "
                   "run conservative.", guards=(conservative,)),
        BreakerRow(trigger, BreakerState.ACTIVE, None, f"One of the {what}, counted; not "
                   "enough of them yet."))),
    BreakerRow(BreakerTrigger.UNFINISHED, BreakerState.ACTIVE, BreakerState.HALTED,
               "An entry ended stuck or unbalanced: exposure may be open; halt until it is "
               "looked at (or a quiet period passes)."),
    BreakerRow(BreakerTrigger.QUIET, BreakerState.ACTIVE, None, "Nothing to step down from."),
    BreakerRow(BreakerTrigger.RESET, BreakerState.ACTIVE, None, "Already active: the counts "
               "start afresh.", effects=(BreakerEffect.CLEAR_COUNTS,)),
    # -- conservative
    BreakerRow(BreakerTrigger.SLOW_HEDGE, BreakerState.CONSERVATIVE, BreakerState.HALTED,
               "Slow hedges went on while conservative, up to halt_after: halt.",
               guards=(BreakerGuard.SLOW_HALT_REACHED,)),
    BreakerRow(BreakerTrigger.FAULT, BreakerState.CONSERVATIVE, BreakerState.HALTED,
               "Faults went on while conservative, up to fault_halt_after: halt.",
               guards=(BreakerGuard.FAULT_HALT_REACHED,)),
    *(BreakerRow(trigger, BreakerState.CONSERVATIVE, None, "Counted; the quiet period "
                 "starts again.") for trigger in (BreakerTrigger.SLOW_HEDGE, BreakerTrigger.FAULT)),
    BreakerRow(BreakerTrigger.UNFINISHED, BreakerState.CONSERVATIVE, BreakerState.HALTED,
               "An entry ended stuck or unbalanced: halt."),
    # -- halted
    *(BreakerRow(trigger, BreakerState.HALTED, None, "Counted; the quiet period starts again.")
      for trigger in _SIGNALS),
    # -- conservative and halted: one step down after a quiet period; a reset goes all the way
    *(row for state, down in _STEP_DOWN for row in (
        BreakerRow(BreakerTrigger.QUIET, state, down,
                   f"No signal for quiet_s since the last one and since becoming {state}: one "
                   f"step down, to {down}, counts cleared.",
                   guards=(BreakerGuard.QUIET_ELAPSED,), effects=(BreakerEffect.CLEAR_COUNTS,)),
        BreakerRow(BreakerTrigger.QUIET, state, None, "Not quiet long enough."),
        BreakerRow(BreakerTrigger.RESET, state, BreakerState.ACTIVE,
                   "An operator reset it: active, counts cleared.",
                   effects=(BreakerEffect.CLEAR_COUNTS,)))),
)
