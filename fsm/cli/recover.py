"""``atomic-entry recover``: finish every entry a dead process left unfinished in a journal.

Each unfinished entry says in the journal how its venues are reached (its
``origin``): a simulated run is brought back from its scenario and the requests the
journal says were sent (``fsm.sim.runner.recover_simulated``); a ccxt entry is
recovered on the same exchanges, with keys from the environment (``fsm.cli.exchanges``,
``recover_ccxt`` below).

Exit codes (``fsm.cli.exits``, the same as ``simulate`` and ``enter``): each entry gets
the code of its final state, or 4 when it left an order open or more than one lot of
exposure, or 2 when it could not be recovered here (it needs ``--live``, an exchange's
keys are missing, or its origin is not one this command can reach: nothing was sent);
the command exits with the most serious of them. 2 also for a missing journal, or a
file that is not a journal, is damaged or cannot be written: refused before anything is
recovered, left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsm.cli import console, inputs
from fsm.cli.exchanges import (
    CCXT,
    VenueFactory,
    ccxt_venue,
    close_all,
    credentials,
    missing_keys,
)
from fsm.cli.exits import Exit, for_final_state, worst
from fsm.core.tables.entry import EntryState
from fsm.shell import journal_file
from fsm.shell.journal_file import JournalDamaged, JournalError
from fsm.sim import DEFAULT_DOWNTIME_S, SIMULATED

# The journal, the engine and the simulator are loaded when the command runs, not with
# fsm.cli (``report`` and ``breaker`` share the journal flag below).
if TYPE_CHECKING:
    from fsm.shell.engine import RecoveryOutcome
    from fsm.shell.journal import Journal, JournaledEntry

CLEAN_ENDS = frozenset({EntryState.COMPLETE, EntryState.WITHDRAWN, EntryState.ROLLED_BACK})


class LiveRefused(RuntimeError):
    """Recovering these entries would trade real money, and that was not allowed."""


class KeysMissing(RuntimeError):
    """An exchange's keys are not in the environment: recovery could read nothing there
    (and a venue that cannot be read leaves its orders unresolved), so it does not start."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "recover",
        help="finish the entries a killed run left unfinished in its journal",
        description="Reload every unfinished entry of the journal, ask its venues about "
        "every order by client order id, and drive it to a terminal state (finish the "
        "hedge or roll back) without sending any order twice. Simulated runs are brought "
        "back from their scenario; ccxt entries use the keys in the environment.",
    )
    add_journal_to_read(parser)
    parser.add_argument("--downtime", type=inputs.seconds(), default=DEFAULT_DOWNTIME_S,
                        metavar="SECONDS",
                        help="simulated runs: how long the venues carry on before the "
                        f"restart (default {DEFAULT_DOWNTIME_S:g})")
    parser.add_argument("--live", action="store_true",
                        help="ccxt entries that traded real money: allow recovering them")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")


def add_journal_to_read(parser: Any) -> None:
    """``--journal PATH``, a journal a run wrote (``recover`` and ``report`` read one)."""
    parser.add_argument("--journal", metavar="PATH",
                        help=f"the journal (default: ${journal_file.ENV_PATH}, else "
                        f"{journal_file.default_path()})")


def journal_path(args: argparse.Namespace) -> Path:
    return Path(args.journal) if args.journal else journal_file.default_path()


def _print(text: str) -> None:
    console.emit(text)  # a reader that stops early (| head) does not change the code


def open_journal(args: argparse.Namespace) -> tuple[Path, Journal] | None:
    """The journal a run wrote (``--journal``, else the default); None, the reason printed,
    when there is none there or it cannot be opened (the command exits 2)."""
    from fsm.shell.journal import Journal

    path = journal_path(args)
    if not path.is_file():
        print(f"atomic-entry: no journal at {path}; expected the file a run wrote "
              "(--journal PATH)", file=sys.stderr)
        return None
    try:
        return path, Journal(path)
    except JournalError as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace, say: Callable[[str], None] = _print) -> Exit:
    opened = open_journal(args)
    if opened is None:
        return Exit.BAD_INPUT
    path, journal = opened
    try:  # every unfinished entry is read whole, so a damaged one stops us before any
        unfinished = journal.unfinished()  # entry is recovered and written
        _check_origins(path, unfinished)
    except JournalError as exc:
        journal.close()
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    if not unfinished:
        journal.close()
        if args.json:
            say(json.dumps({"journal": str(path), "entries": [], "clean": True}))
        else:
            say(f"journal {path}: nothing to recover (every entry is finished)")
        return Exit.OK
    reports: list[dict[str, Any]] = []
    try:
        for group, entries in _by_origin(unfinished).items():
            reports += _recover_group(journal, group, entries, args, say)
    finally:
        journal.close()
    clean = all(report["clean"] for report in reports)
    if args.json:
        say(json.dumps({"journal": str(path), "entries": reports, "clean": clean}, indent=2))
    else:
        ends: dict[str, int] = defaultdict(int)
        for report in reports:
            ends[report["final_state"] or "not recovered"] += 1
        counts = ", ".join(f"{state} {n}" for state, n in sorted(ends.items())) or "none"
        verdict = "nothing left open" if clean else "NOT ALL CLEAN, see above"
        say(f"journal {path}: {len(reports)} unfinished entr{'y' if len(reports) == 1 else 'ies'}"
            f" recovered: {counts}; {verdict}")
    return worst(Exit(report["exit"]) for report in reports)


def _check_origins(path: Path, entries: list[JournaledEntry]) -> None:
    """Refuse origins this command would misread, before it recovers anything.

    A simulated run is rebuilt from the scenario text in its origin; a ccxt entry's
    ``sandbox`` decides whether ``--live`` is needed, so anything but a boolean there
    could let real money through as a test.
    """
    for entry in entries:
        kind, where = entry.origin.get("kind"), f"journal {path}, entry {entry.entry_id}"
        if kind == SIMULATED:
            text = entry.origin.get("text")
            if not isinstance(text, str) or not text:
                raise JournalDamaged(f"{where}: its origin has no scenario text; expected the "
                                     "scenario of the simulated run")
            from fsm.sim.scenario import ScenarioError, parse  # the simulator, when needed

            try:
                parse(text, f"{where}, origin")
            except ScenarioError as exc:
                raise JournalDamaged(f"{where}: its origin's scenario cannot be read: "
                                     f"{exc}") from None
        elif kind == CCXT and not isinstance(entry.origin.get("sandbox", False), bool):
            raise JournalDamaged(f"{where}: its origin's sandbox is "
                                 f"{entry.origin.get('sandbox')!r}; expected true or false")


def _by_origin(entries: list[JournaledEntry]) -> dict[tuple[str, str], list[JournaledEntry]]:
    groups: dict[tuple[str, str], list[JournaledEntry]] = defaultdict(list)
    for entry in entries:
        kind = str(entry.origin.get("kind", "unknown"))
        groups[(kind, str(entry.origin.get("run", "")))].append(entry)
    return groups


def _recover_group(
    journal: Journal, group: tuple[str, str], entries: list[JournaledEntry],
    args: argparse.Namespace, say: Callable[[str], None],
) -> list[dict[str, Any]]:
    from fsm.shell.recovery import RecoveryError

    kind = group[0]
    try:
        if kind == SIMULATED:
            from fsm.sim.runner import recover_simulated  # the simulator, when needed

            recovered = recover_simulated(journal, entries, args.downtime)
            outcomes, steps = list(recovered.outcomes), recovered.steps

            def still_open(cid: str, venue: str) -> bool:
                return recovered.venues[venue].order(cid).live if cid in \
                    recovered.venues[venue].client_ids() else False
        elif kind == CCXT:
            outcomes, steps = recover_ccxt(journal, entries, live=args.live), ()

            def still_open(cid: str, venue: str) -> bool:
                return False  # the engine queried every order to its end; see the result
        else:
            raise RecoveryError(f"origin {kind!r} is not one this command can reach; recover "
                                "these from the program that ran them, with "
                                "EntryEngine(venues, journal=...).recover()")
    except (RecoveryError, JournalError, LiveRefused, KeysMissing) as exc:
        return [_refused(entry, str(exc), args, say) for entry in entries]
    return [_report(o, still_open, steps, args, say) for o in outcomes]


def recover_ccxt(journal: Journal, entries: list[JournaledEntry], *, live: bool,
                 environ: Mapping[str, str] | None = None,
                 factory: VenueFactory = ccxt_venue) -> list[RecoveryOutcome]:
    """Recover journaled ccxt entries on their exchanges, keys from the environment."""
    from fsm.shell import preflight
    from fsm.shell.engine import EntryEngine
    from venues.market import Leg

    environ = os.environ if environ is None else environ
    real_money = [e.entry_id for e in entries if not e.origin.get("sandbox", False)]
    if real_money and not live:
        raise LiveRefused(f"entries {', '.join(real_money)} traded real money; recovering "
                          "them may send hedges or rollbacks: add --live")
    exchanges = sorted({e.request.leg(leg).venue for e in entries for leg in Leg})
    missing = missing_keys(exchanges, environ)
    if missing is not None:  # before any venue is built: nothing connects
        raise KeysMissing(f"nothing sent: {missing}")
    sandbox = not real_money

    async def main() -> list[RecoveryOutcome]:
        venues = {ex: factory(ex, credentials(ex, environ), sandbox) for ex in exchanges}
        for entry in entries:  # orders go out in the margin mode each entry's orders had
            for leg in Leg:
                preflight.carry_margin(venues[entry.request.leg(leg).venue],
                                       entry.config.margin_mode)
        # A create the dead process sent may still be travelling: wait until every
        # request of it has landed or timed out before a query may call it never placed.
        grace = max((getattr(v, "request_timeout_s", 1.0) for v in venues.values()), default=1.0)
        engine = EntryEngine(venues, journal=journal, recovery_grace_s=grace)
        try:
            return await engine.recover([e.entry_id for e in entries])
        finally:
            await engine.close()
            await close_all(venues.values())

    from venues.ccxt.errors import scrub_logs  # loads ccxt, as the venues do

    undo = scrub_logs([v for ex in exchanges for v in credentials(ex, environ).values() if v])
    try:
        return asyncio.run(main())
    finally:
        undo()


def _refused(entry: JournaledEntry, why: str, args: argparse.Namespace,
             say: Callable[[str], None]) -> dict[str, Any]:
    if not args.json:
        say(f"entry {entry.entry_id}: NOT RECOVERED: {why}")
    return {"entry_id": entry.entry_id, "final_state": None, "note": why, "clean": False,
            "exit": int(Exit.BAD_INPUT), "open_orders": [], "result": None}


def _report(outcome: RecoveryOutcome, still_open: Callable[[str, str], bool],
            steps: tuple[Any, ...], args: argparse.Namespace,
            say: Callable[[str], None]) -> dict[str, Any]:
    from fsm.cli.timeline import render, summary
    from fsm.core.invariants import ORDER_TERMINAL

    result = outcome.result
    if result is None:
        clean = outcome.resumed_in == EntryState.NEW  # nothing had been sent
        if not args.json:
            say(f"entry {outcome.entry_id}: {outcome.note}")
        return {"entry_id": outcome.entry_id, "final_state": None, "note": outcome.note,
                "clean": clean, "exit": int(Exit.OK if clean else Exit.UNFINISHED),
                "open_orders": [], "result": None}
    open_orders = [o.client_id for o in result.orders
                   if o.status not in ORDER_TERMINAL
                   or still_open(o.client_id, o.venue)]
    clean = (result.final_state in CLEAN_ENDS and not open_orders
             and abs(result.net_exposure) <= result.tolerance)
    code = for_final_state(result.final_state)
    if code is Exit.OK and not clean:
        code = Exit.UNFINISHED  # an order left open, or more than one lot unhedged
    if not args.json:
        mine = tuple(s for s in steps if s.entry_id == outcome.entry_id)
        say(f"entry {outcome.entry_id}: the journal left it in {outcome.resumed_in} after "
            f"{outcome.replayed} steps; recovering:\n")
        if mine:
            say(render(mine, result) + "\n")
        say(summary(result))
        say(f"open orders at the venues: {', '.join(open_orders) or 'none'}\n")
    return {"entry_id": outcome.entry_id, "final_state": result.final_state,
            "resumed_in": outcome.resumed_in, "replayed_steps": outcome.replayed,
            "note": outcome.note, "clean": clean, "exit": int(code),
            "open_orders": open_orders,
            "result": result.to_dict()}
