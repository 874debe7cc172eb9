"""``atomic-entry report ENTRY_ID``: what one journaled entry did, as text, JSON or a plot.

After an incident the journal is the record: the entry's request, every event it saw and
every command it sent. Replaying those events through a fresh model
(``fsm.shell.recovery.replay``, the same replay recovery trusts) rebuilds the entry as
it stood at its last journaled step, finished or not, and from it the same result,
timeline and figure a simulated run prints. Nothing is sent, no venue is asked and the
journal is opened read-only (a copy, or a file this user may not write, will do): the
venues' positions are the journal's (what they held at the start plus this entry's
fills), and an unfinished entry is shown where the journal left it (``recover`` finishes
it).

Bad input (no journal there, not a journal, an unknown entry id, a journal this code
cannot replay, a plot it cannot write or draw) is exit 2 with the reason; otherwise the
exit code is the entry's final state's, as ``simulate`` and ``recover`` give it, and 3
for an entry the journal left unfinished.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsm.cli import console, inputs, plot
from fsm.cli.exits import Exit, for_final_state
from fsm.cli.recover import add_journal_to_read, journal_path

# The journal, the replay and the core are loaded when the command runs, not with fsm.cli.
if TYPE_CHECKING:
    from fsm.core.entry import EntryModel
    from fsm.core.result import EntryResult
    from fsm.shell.engine import Step
    from fsm.shell.journal import JournaledEntry


class ReportError(RuntimeError):
    """The entry cannot be reported from this journal; the message says why."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="print (and draw) what one journaled entry did",
        description="Rebuild one entry from the journal (its events replayed, nothing sent) "
        "and print its timeline and summary; --plot also draws it over time.",
    )
    parser.add_argument("entry_id", metavar="ENTRY_ID", help="the entry's id in the journal")
    add_journal_to_read(parser)
    parser.add_argument("--plot", metavar="FILE", type=inputs.file_to_write(*plot.PLOT_KINDS),
                        help="also draw the entry over time (.svg or .png; needs the plot "
                        "extra)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")


def run(args: argparse.Namespace) -> Exit:
    from fsm.cli.plot_data import picture
    from fsm.cli.simulate import final_states
    from fsm.cli.timeline import render, summary
    from fsm.shell.journal import JournalError

    path = journal_path(args)
    if args.plot:
        plot.check(args.plot)
    try:
        entry, steps, result = load(path, args.entry_id)
    except (ReportError, JournalError) as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    scenario = entry.origin.get("scenario")
    name = scenario if isinstance(scenario, str) else None
    if args.plot:
        plot.draw(picture(result, (step.event for step in steps), name), args.plot)
    finished = result.final_state in final_states()  # the journal's word aside: replayed
    if args.json:
        out = result.to_dict()
        out.update(journal=str(path), scenario=name, finished=finished,
                   origin_kind=entry.origin.get("kind"))
        console.emit(json.dumps(out, indent=2))
    else:
        where = f"scenario {name}" if name else f"origin {entry.origin.get('kind', 'unknown')}"
        state = ("finished" if finished
                 else "UNFINISHED: shown where the journal left it; `atomic-entry recover` "
                 "finishes it")
        console.emit("\n".join([
            f"entry {entry.entry_id} ({where}), journal {path}, opened {entry.opened_at}; "
            f"{state}\n", render(steps, result), "", summary(result)]))
    return for_final_state(result.final_state) if finished else Exit.KILLED


def load(path: Path, entry_id: str) -> tuple[JournaledEntry, tuple[Step, ...], EntryResult]:
    """The journaled entry, its steps with the state each left it in, and its result."""
    from fsm.core.result import build_result
    from fsm.shell.engine import Step
    from fsm.shell.journal import Journal
    from fsm.shell.recovery import RecoveryError, replay

    if not path.is_file():
        raise ReportError(f"no journal at {path}; expected the file a run wrote "
                          "(--journal PATH)")
    journal = Journal(path, read_only=True)
    try:
        known = journal.entry_ids()
        if entry_id not in known:
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise ReportError(f"no entry {entry_id!r} in journal {path}; it holds "
                              f"{len(known)} entr{'y' if len(known) == 1 else 'ies'}"
                              + (f": {shown}" if known else ""))
        entry = journal.entry(entry_id)
    finally:
        journal.close()
    if not entry.steps:
        raise ReportError(f"entry {entry_id} in journal {path} has no step: it stopped before "
                          "its first event, nothing was sent")
    try:
        replayed = replay(entry)
    except RecoveryError as exc:
        raise ReportError(f"cannot rebuild entry {entry_id} from journal {path}: {exc}"
                          ) from None
    model = replayed.model
    steps = tuple(Step(entry_id, s.event, state, s.commands)
                  for s, state in zip(entry.steps, replayed.states, strict=True))
    # A finished entry ends at its last transition, as the engine reports it; one the
    # journal left unfinished was last seen at its last journaled step.
    ended = model.path[-1].at if model.terminal and model.path else entry.steps[-1].at
    return entry, steps, build_result(model, _positions(model), ended)


def _positions(model: EntryModel) -> dict[str, dict[str, Decimal]]:
    """Each venue's position at the start and after this entry's fills, as the journal
    knows them (the venues are not asked)."""
    from venues.market import Leg

    return {model.request.leg(leg).venue: {"start": model.start_positions[leg],
                                           "end": model._venue_position(leg)}
            for leg in (Leg.LONG, Leg.SHORT)}
