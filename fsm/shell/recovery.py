"""Rebuilding an entry from the journal: replay its events through a fresh model.

The model is deterministic, so feeding it the journaled events in order brings it to
exactly the state it had when the last step was written, ledger and path included.
Each replayed step must decide the commands the journal says were decided: if it
does not (the code changed between the crash and the recovery, or a bug made a
decision depend on something outside its events), the rebuilt entry cannot be
trusted to know which orders exist, and recovery refuses it with the orders the
journal says were sent, for a human to check.

No I/O here: the engine (``EntryEngine.recover``) asks the venues afterwards.
"""

from __future__ import annotations

import attrs

from fsm.core import events as ev
from fsm.core.commands import (
    CancelTimer,
    StartTimer,
)
from fsm.core.entry import EntryModel
from fsm.shell.journal import JournaledEntry
from venues.market import PlaceOrder


class RecoveryError(RuntimeError):
    """An entry cannot be rebuilt from the journal; the message says why and what was sent."""


@attrs.define
class Replayed:
    """An entry rebuilt from the journal."""

    model: EntryModel
    armed_timers: dict[str, float]  # name -> delay, for the timers running when it stopped
    next_step: int
    states: tuple[str, ...] = ()  # the entry's state after each replayed step (for reports)


def replay(entry: JournaledEntry, model_class: type[EntryModel] = EntryModel) -> Replayed:
    """The journaled entry's model, as it stood after its last journaled step."""
    model = model_class(entry.entry_id, entry.request, entry.config)
    timers: dict[str, float] = {}
    states: list[str] = []
    next_step = 0
    try:
        for step in entry.steps:
            decided = tuple(model.handle(step.event))
            if decided != step.commands:
                raise RecoveryError(
                    f"entry {entry.entry_id} diverged at step {step.step} "
                    f"({type(step.event).__name__}): the journal, written by version "
                    f"{entry.version}, has {_summary(step.commands)}; this code decides "
                    f"{_summary(decided)}. Orders the journal says were sent: "
                    f"{', '.join(_placed(entry)) or 'none'}"
                )
            if isinstance(step.event, ev.TimerFired):
                timers.pop(step.event.name, None)
            for command in decided:
                if isinstance(command, StartTimer):
                    timers[command.name] = command.delay_s
                elif isinstance(command, CancelTimer):
                    timers.pop(command.name, None)
            states.append(model.state)
            next_step = step.step + 1
    except RecoveryError:
        model.detach()
        raise
    except Exception as exc:
        model.detach()
        raise RecoveryError(
            f"entry {entry.entry_id} cannot be replayed: {exc}. Orders the journal says were "
            f"sent: {', '.join(_placed(entry)) or 'none'}"
        ) from exc
    model.ignored = ()
    return Replayed(model, timers, next_step, tuple(states))


def _placed(entry: JournaledEntry) -> list[str]:
    return sorted({
        f"{c.client_id} on {c.venue}"
        for step in entry.steps for c in step.commands if isinstance(c, PlaceOrder)
    })


def _summary(commands: tuple[object, ...]) -> str:
    return "[" + ", ".join(repr(c) for c in commands) + "]" if commands else "no command"
