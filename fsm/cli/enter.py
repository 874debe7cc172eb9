"""``atomic-entry enter``: a hedged entry on real exchanges through ccxt.

This module turns the arguments into an ``EntryRequest``, asks for the live-trading
confirmation, and runs the entry (or its dry-run plan, ``fsm.cli.dryrun``) on venues
built by ``fsm.cli.exchanges``, which also says where the keys come from. Every text
this command prints goes through ``scrub`` with the key values, so a key that an
exchange echoes back in an error cannot reach the terminal or a log.

Before anything connects: every argument and the config (``fsm.cli.enter_config``: a
``--config`` file and one flag per ``EntryConfig`` field) is checked, and the keys each
exchange needs are present (their variables are named when not); each is exit 2. The
journal is opened (so checked writable) before any venue is built, but a new journal
file is created only at its first write (``create_on_write``): an entry refused before
it sent anything leaves no file behind. Then, venues built, the account pre-flight runs
(``fsm.shell.preflight``, as ``atomic-entry check``; ``--set-leverage`` and the other
set-up flags first): an unsafe account is refused with its table and fixes, exit 6
(``Exit.ACCOUNT``), before any order. The outcome prints as ``simulate`` prints it
(timeline and summary), or as JSON with ``--json``; the exit code is ``simulate``'s for
the same final state.

Sandbox (testnet, or binance's demo trading) is the default. ``--live`` needs a typed
confirmation on a terminal; without a terminal it is refused unless
``--yes-i-mean-live`` is also given (for supervised automation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from fsm.cli import check, console, enter_config, inputs, metrics_out
from fsm.cli.exchanges import (
    CCXT,
    ScrubbedPrinter,
    VenueFactory,
    ccxt_venue,
    close_all,
    leg,
    quantity,
)
from fsm.cli.exits import Exit, for_final_state
from fsm.shell import journal_file
from venues import protocol as base
from venues.ccxt.dialects import SUPPORTED

# The engine, the journal and the pre-trade checks are loaded when the command runs, not
# with fsm.cli; the flags above need only the config's fields and the exchanges' names.
if TYPE_CHECKING:
    from fsm.core.config import EntryConfig
    from fsm.core.values import EntryRequest
    from fsm.shell.journal import Journal
    from fsm.shell.metrics import MetricsSink
    from venues.account import AccountChange

CONFIRM_WORD = "LIVE"


def add_parser(commands: Any) -> None:
    enter = commands.add_parser(
        "enter", help="open a hedged position on two exchanges through ccxt",
        description="Quote both legs, hedge the first fill, roll back if hedging fails. "
        f"Exchanges: {', '.join(SUPPORTED)}. Keys from ATOMIC_ENTRY_<EXCHANGE>_API_KEY, "
        "_SECRET, _PASSWORD (okx), _WALLET_ADDRESS and _PRIVATE_KEY (hyperliquid).")
    enter.add_argument("--long", required=True, metavar="EXCHANGE:SYMBOL")
    enter.add_argument("--short", required=True, metavar="EXCHANGE:SYMBOL")
    enter.add_argument("--qty", required=True, help="base-asset quantity, e.g. 0.01")
    mode = enter.add_mutually_exclusive_group()
    mode.add_argument("--sandbox", action="store_true", help="testnet / demo (the default)")
    mode.add_argument("--live", action="store_true", help="real money; asks to confirm")
    enter.add_argument("--yes-i-mean-live", action="store_true",
                       help="with --live and no terminal: skip the typed confirmation")
    enter.add_argument("--dry-run", action="store_true",
                       help="print the plan (prices, sizes, client ids, checks); send nothing")
    enter.add_argument("--entry-id", default=None, help="1-16 letters/digits (default random)")
    enter.add_argument("--json", action="store_true",
                       help="print the result as one JSON object instead of the timeline")
    enter.add_argument("--journal", metavar="PATH", type=inputs.file_to_write(),
                       help="where to journal the entry for `atomic-entry recover`, in an "
                       f"existing directory (default: ${journal_file.ENV_PATH}, else "
                       f"{journal_file.default_path()})")
    check.add_setup_arguments(enter)
    enter_config.add_arguments(enter)
    metrics_out.add_arguments(enter)


def run(args: argparse.Namespace, *, environ: Mapping[str, str] | None = None,
        stdin: TextIO | None = None, out: TextIO | None = None,
        factory: VenueFactory = ccxt_venue) -> Exit:
    environ = os.environ if environ is None else environ
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stdout if out is None else out
    from fsm.core.pretrade import RequestError, check_shape
    from fsm.core.values import EntryRequest, LegSpec
    from fsm.shell.breakers import BreakerHalted
    from fsm.shell.journal import Journal, JournalError
    from venues.ccxt.errors import scrub_logs  # loads ccxt, as the entry will

    say = ScrubbedPrinter(out)
    try:
        long_ex, long_symbol = leg(args.long, "--long")
        short_ex, short_symbol = leg(args.short, "--short")
        if long_ex == short_ex:
            raise RequestError("--long and --short name the same exchange; a hedged entry "
                               "needs two venues")
        qty = quantity(args.qty)
        request = EntryRequest(long=LegSpec(long_ex, long_symbol, qty),
                               short=LegSpec(short_ex, short_symbol, qty),
                               entry_id=args.entry_id)
        check_shape(request)  # the entry id among the rest, before any market data
        config = enter_config.build(args)
        change = check.requested_change(args, config)
        if change and args.dry_run:
            raise RequestError("--dry-run sends nothing: drop --set-leverage, "
                               "--set-margin-mode and --set-position-mode, or the dry run")
    except (RequestError, TypeError, ValueError) as exc:  # ConfigInputError among them
        say(f"atomic-entry: {exc}", sys.stderr)
        return Exit.BAD_INPUT
    creds = say.read_keys((long_ex, short_ex), environ, "nothing sent")
    if creds is None:  # named before any venue is built or journal opened
        return Exit.BAD_INPUT
    sandbox = not args.live
    if args.live and not args.dry_run and not _confirmed(args, stdin, say):
        return Exit.BAD_INPUT

    try:  # before anything connects: a port in use refuses the entry
        metrics = metrics_out.start(args) if not args.dry_run else metrics_out.MetricsOutput()
    except metrics_out.MetricsInputError as exc:
        say(f"atomic-entry: nothing sent: {exc}", sys.stderr)
        return Exit.BAD_INPUT
    journal: Journal | None = None
    if not args.dry_run:
        try:  # before any venue is built: a journal we cannot write refuses the entry
            journal = Journal(args.journal or journal_file.default_path(),
                              origin={"kind": CCXT, "sandbox": sandbox}, create_on_write=True)
        except JournalError as exc:
            say(f"atomic-entry: nothing sent: {exc}", sys.stderr)
            return Exit.BAD_INPUT

    async def main() -> Exit:  # venues are built on the loop that will run them
        venues = {ex: factory(ex, creds[ex], sandbox) for ex in (long_ex, short_ex)}
        legs = [(long_ex, long_symbol), (short_ex, short_symbol)]
        try:  # the account pre-flight, before anything is sent (and before the journal)
            refused = await _preflight(venues, legs, config, change, say)
        except BaseException:
            await close_all(venues.values())
            raise
        if refused is not None:
            await close_all(venues.values())
            return refused
        return await _enter(request, config, venues, journal, say, json_out=args.json,
                            metrics=metrics.sink)

    undo = scrub_logs(say.secrets)  # every log line of the run, too
    finished = False
    try:
        code = asyncio.run(main())
        finished = True
        metrics.finish(lambda text: say(text, sys.stderr))
        return code
    except BreakerHalted as exc:  # a decision, not bad input: its own code
        say(f"atomic-entry: nothing sent: {exc}", sys.stderr)
        return Exit.HALTED
    except (RequestError, base.VenueError, JournalError) as exc:
        say(f"atomic-entry: nothing sent: {exc}" if args.dry_run else f"atomic-entry: {exc}",
            sys.stderr)
        return Exit.BAD_INPUT
    except Exception as exc:  # scrubbed here: main's handler does not know the keys
        return console.report_unexpected(exc, "enter", say.scrub)
    finally:
        undo()
        if not finished:
            metrics.abandon()
        if journal is not None:
            journal.close()


async def _preflight(venues: dict[str, base.Venue], legs: list[tuple[str, str]],
                     config: EntryConfig, change: AccountChange,
                     say: Callable[..., None]) -> Exit | None:
    """``check``'s pre-flight (order sizes are the pre-trade checks' job here): the refusal
    with its table, or None with the warnings (what could not be checked) on stderr."""
    from fsm.core import preflight as preflight_core
    from fsm.shell import preflight

    findings = await preflight.run([(venues[ex], symbol) for ex, symbol in legs], config,
                                   change=change)
    if preflight_core.refused(findings):
        return check.report(check.by_venue(check.credential_findings(legs) + findings),
                            lambda text, _stream=None: say(text, sys.stderr))
    for finding in findings:
        if finding.severity is not preflight_core.Severity.OK:
            say(f"atomic-entry: pre-flight {finding.venue} {finding.item}: {finding.found}; "
                f"{finding.fix}", sys.stderr)
    return None


def _confirmed(args: argparse.Namespace, stdin: TextIO, say: Callable[..., None]) -> bool:
    if not stdin.isatty():
        if args.yes_i_mean_live:
            return True
        say("atomic-entry: --live needs a typed confirmation on a terminal; without one, "
            "add --yes-i-mean-live", sys.stderr)
        return False
    say(f"LIVE trading with real money: {args.long} long, {args.short} short, qty {args.qty}."
        f" Type {CONFIRM_WORD} to go on:")
    if stdin.readline().strip() != CONFIRM_WORD:
        say("atomic-entry: not confirmed; nothing sent", sys.stderr)
        return False
    return True


async def _enter(request: EntryRequest, config: EntryConfig, venues: dict[str, base.Venue],
                 journal: Journal | None, say: Callable[..., None], *,
                 json_out: bool = False, metrics: MetricsSink | None = None) -> Exit:
    """Enter, journaled; without a journal, only plan (the dry run)."""
    from fsm.cli import dryrun
    from fsm.cli.timeline import render, summary
    from fsm.shell.engine import EntryEngine, Step

    try:
        if journal is None:
            say(json.dumps(await dryrun.plan(request, config, venues), indent=2))
            logger.info("dry run for {}: nothing sent", request.entry_id or "dryrun")
            return Exit.OK
        engine = EntryEngine(venues, config, journal=journal, metrics=metrics)
        steps: list[Step] = []
        engine.on_step(steps.append)
        try:
            result = await engine.enter(request)
        finally:
            await engine.close()
        say(json.dumps(result.to_dict(), indent=2) if json_out
            else f"{render(tuple(steps), result)}\n\n{summary(result)}")
        return for_final_state(result.final_state)
    finally:
        await close_all(venues.values())
