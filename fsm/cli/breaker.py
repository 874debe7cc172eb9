"""``atomic-entry breaker``: show the circuit breakers a journal keeps, and reset them.

The breakers live in the engine (``fsm.shell.breakers``) and every change of state is a
journal record, so the journal is where an operator reads and resets them, whether or
not an engine runs: an engine takes up records another process wrote before its next
verdict. ``--reset VENUE`` (or ``global``, or ``all``) writes a reset record per breaker
that is not active already; the next engine to read the journal starts from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from fsm.cli.exits import Exit
from fsm.cli.recover import add_journal_to_read, open_journal
from fsm.core.tables.breaker import BREAKER_INITIAL, BREAKER_TRANSITIONS, GLOBAL, BreakerTrigger
from fsm.core.tables.rows import rows_for
from fsm.shell.journal_file import JournalError

if TYPE_CHECKING:  # the journal itself is loaded when the command opens one
    from fsm.shell.journal import BreakerRecord, Journal


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "breaker",
        help="show the circuit breakers a journal keeps (per venue and global); reset them",
        description="List each circuit breaker the journal knows (venue or global): its "
        "state, since when (UTC) and why. With --reset, reset one to active first.",
    )
    add_journal_to_read(parser)
    parser.add_argument("--reset", metavar="SCOPE",
                        help=f"reset a venue's breaker, {GLOBAL!r}, or 'all', to active")
    parser.add_argument("--json", action="store_true", help="print the states as JSON")


def latest(records: list[BreakerRecord]) -> dict[str, BreakerRecord]:
    """Each breaker's last record (its state now), by scope name."""
    last: dict[str, BreakerRecord] = {}
    for record in records:
        last[record.scope] = record
    return dict(sorted(last.items()))


def run(args: argparse.Namespace) -> Exit:
    opened = open_journal(args)
    if opened is None:
        return Exit.BAD_INPUT
    path, journal = opened
    try:
        states = latest(journal.breaker_records())
        if args.reset is not None:
            known = [GLOBAL, *states]
            if args.reset != "all" and args.reset not in known:
                print(f"atomic-entry: --reset {args.reset!r}: expected 'all' or one of "
                      f"{', '.join(dict.fromkeys(known))}", file=sys.stderr)
                return Exit.BAD_INPUT
            for record in states.values():
                if args.reset in ("all", record.scope) and record.dest != BREAKER_INITIAL:
                    _reset(journal, record)
            states = latest(journal.breaker_records())
    except JournalError as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    finally:
        journal.close()
    if args.json:
        print(json.dumps({scope: {"state": r.dest, "since": r.wall, "reason": r.reason}
                          for scope, r in states.items()}, indent=2))
        return Exit.OK
    if not states:
        print(f"journal {path}: every circuit breaker is {BREAKER_INITIAL} (none ever moved)")
        return Exit.OK
    print(f"journal {path}: circuit breakers (a breaker not listed is {BREAKER_INITIAL})")
    for scope, record in states.items():
        print(f"  {scope:<12} {record.dest:<13} since {record.wall}  {record.reason}")
    return Exit.OK


def _reset(journal: Journal, record: BreakerRecord) -> None:
    """The reset row the table has for the breaker's state, written as the engine would
    (``at`` 0: no engine clock runs here; an engine restores a state at its own now)."""
    row = rows_for(BREAKER_TRANSITIONS, record.dest, BreakerTrigger.RESET)[0]
    journal.record_breaker(record.scope, 0.0, BreakerTrigger.RESET, record.dest,
                           row.dest or record.dest, BREAKER_TRANSITIONS.index(row),
                           "manual reset (atomic-entry breaker --reset)")
