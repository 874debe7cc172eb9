"""Stopping an engine dead at a chosen moment, to prove that recovery finishes the job.

A ``CrashingJournal`` is a real journal that kills its engine at one step, in one of
three places around that step:

* ``unwritten``: the event arrived, nothing of the step reached the journal;
* ``unsent``: the step and its commands are journaled, none of them was sent;
* ``in_flight``: the commands were sent; the process dies before any answer (the
  requests still reach the venue, and their answers go nowhere).

The first two interrupt the engine from inside the step (``SimulatedCrash``). The third
lets the step's commands go out, then stops the engine's entries (``stops``, which the
runner sets to ``EntryEngine.stop_dead``) in the next loop turn; an event that reaches
the dead engine before then is neither journaled nor acted on (``SimulatedCrash``).
Either way the dead engine gets no cleanup beyond what asyncio does to a cancelled
task: no journal close, no cancel sent, nothing flattened. Only simulation and tests
use this.
"""

from __future__ import annotations

import asyncio
import enum
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from fsm.core import events as ev
from fsm.core.commands import Command
from fsm.shell.journal import Journal


class Where(enum.Enum):
    UNWRITTEN = "unwritten"
    UNSENT = "unsent"
    IN_FLIGHT = "in_flight"


@attrs.frozen
class CrashPoint:
    step: int
    where: Where = Where.IN_FLIGHT

    def __str__(self) -> str:
        return f"step {self.step} {self.where.value}"


class SimulatedCrash(Exception):
    """The engine's process died here (raised inside the step it interrupts)."""


class CrashingJournal(Journal):
    """A journal that stops the entry currently running at ``crash`` (first entry only)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        crash: CrashPoint,
        *,
        sync: str = "normal",
        origin: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(path, sync=sync, origin=origin)
        self.crash = crash
        self.crashed = False
        #: For ``in_flight``: what stops the engine dead (``EntryEngine.stop_dead``).
        self.stops: Callable[[], None] | None = None
        self._dying = False  # between the in_flight step and the engine's end

    def record(
        self,
        entry_id: str,
        step: int,
        event: ev.Event,
        commands: Sequence[Command],
    ) -> None:
        if self._dying:
            raise SimulatedCrash(f"crash at {self.crash}: the engine is dead")
        hit = not self.crashed and step == self.crash.step
        if hit and self.crash.where is Where.UNWRITTEN:
            self.crashed = True
            raise SimulatedCrash(f"crash at {self.crash}")
        super().record(entry_id, step, event, commands)
        if not hit:
            return
        self.crashed = True
        if self.crash.where is Where.UNSENT:
            raise SimulatedCrash(f"crash at {self.crash}")
        if self.stops is None:
            raise RuntimeError("an in_flight crash needs the engine to stop (``stops``)")
        # Runs once the step's requests have been handed to their tasks, before any answer.
        self._dying = True
        asyncio.get_running_loop().call_soon(self._die, self.stops)

    def _die(self, stops: Callable[[], None]) -> None:
        """The process is gone; a new engine (a restart) may use this journal again."""
        self._dying = False
        stops()
