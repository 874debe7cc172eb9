"""Who hears what the engine's entries do: transitions, alerts and processed steps.

A module of its own so that the engine keeps only the running of entries: listeners are
the engine's outside (a strategy's bookkeeping, the CLI's timeline, the sim runner's
crash recorder), and one rule holds for all of them: a listener's failure is its own,
logged on the entry's logger, never the entry's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from fsm.core import events as ev
from fsm.core.commands import Command, RaiseAlert
from fsm.core.entry import Transition

if TYPE_CHECKING:
    from loguru import Logger

TransitionListener = Callable[[Transition], None]
AlertListener = Callable[[str, RaiseAlert], None]


@attrs.frozen
class Step:
    """One event processed by one entry: what came in, where it left the entry, what went out."""

    entry_id: str
    event: ev.Event
    state: str
    commands: tuple[Command, ...]


StepListener = Callable[[Step], None]


def safely(log: Logger, listener: Callable[..., None], *args: Any) -> None:
    """A listener's failure is its own: logged with its traceback, never the entry's
    (a ``CancelledError`` it raises, e.g. reading a cancelled future, included), on
    the entry's logger so that the line names the entry it happened on."""
    try:
        listener(*args)
    except (Exception, asyncio.CancelledError):
        log.exception("listener {} failed", listener)


class Listeners:
    """The engine's three kinds of listener, each told in the order it subscribed."""

    def __init__(self) -> None:
        self.transitions: list[TransitionListener] = []
        self.alerts: list[AlertListener] = []
        self.steps: list[StepListener] = []

    def on_transition(self, listener: TransitionListener) -> Callable[[], None]:
        self.transitions.append(listener)
        return lambda: self.transitions.remove(listener)

    def on_alert(self, listener: AlertListener) -> Callable[[], None]:
        self.alerts.append(listener)
        return lambda: self.alerts.remove(listener)

    def on_step(self, listener: StepListener) -> Callable[[], None]:
        self.steps.append(listener)
        return lambda: self.steps.remove(listener)

    def transitioned(self, log: Logger, path: Sequence[Transition]) -> None:
        """Transitions an entry took in one step (logged at debug as well)."""
        for transition in path:
            log.debug("{} --{}--> {}", transition.source, transition.trigger, transition.dest)
            for listener in list(self.transitions):
                safely(log, listener, transition)

    def stepped(self, log: Logger, entry_id: str, event: ev.Event, state: str,
                commands: Sequence[Command]) -> None:
        if self.steps:
            step = Step(entry_id, event, state, tuple(commands))
            for listener in list(self.steps):
                safely(log, listener, step)

    def alerted(self, log: Logger, entry_id: str, alert: RaiseAlert) -> None:
        for listener in list(self.alerts):
            safely(log, listener, entry_id, alert)
