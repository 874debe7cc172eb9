"""``atomic-entry check``: the account pre-flight, alone (``enter`` runs the same first).

Per leg, before anything is traded: the keys are present (checked before any
connection, as ``enter`` does), then the account is read and judged
(``fsm.shell.preflight``, ``fsm.core.preflight``): position mode, margin mode, leverage,
fee tier, minimum and maximum order size, whether the symbol trades and the key may
trade it. It prints one table, and each fix under it. Nothing is ever sent, unless
``--set-leverage``, ``--set-margin-mode`` or ``--set-position-mode`` ask to change the
account; then the change is made and the account read and judged again.

Exit codes: 0 nothing unsafe (warnings are printed: unknown is not a pass, but ccxt cannot
read everything everywhere); 6 (``Exit.ACCOUNT``) something unsafe, the fix named; 2 bad
input (a flag, missing keys) before any connection. The requirements come from the entry
configuration (``--max-leverage``, ``--margin-mode``, or a ``--config`` file), as for
``enter``, so a check passes exactly when ``enter``'s pre-flight would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from fsm.cli import console, enter_config, inputs
from fsm.cli.exchanges import (
    REQUIRED,
    ScrubbedPrinter,
    VenueFactory,
    ccxt_venue,
    close_all,
    leg,
    quantity,
)
from fsm.cli.exits import Exit
from venues import protocol as base
from venues.account import AccountChange, MarginMode, PositionMode

# The pre-flight and the pre-trade checks are loaded when the command runs, not with
# fsm.cli; the flags need only the account's modes and the config's fields.
if TYPE_CHECKING:
    from fsm.core import preflight
    from fsm.core.config import EntryConfig


def add_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check", help="read both legs' account set-up (leverage, modes, limits); send nothing",
        description="The account pre-flight `enter` runs first, alone: keys present, then "
        "per leg position mode, margin mode, leverage, fees, order size limits and "
        "permission, as a table; exit 6 naming the fix when something is unsafe.")
    check.add_argument("--long", required=True, metavar="EXCHANGE:SYMBOL")
    check.add_argument("--short", required=True, metavar="EXCHANGE:SYMBOL")
    check.add_argument("--qty", default=None,
                       help="also check this base quantity against each venue's order sizes")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument("--sandbox", action="store_true", help="testnet / demo (the default)")
    mode.add_argument("--live", action="store_true", help="the real account (read only)")
    add_setup_arguments(check)
    enter_config.add_arguments(check)


def add_setup_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that change the account before it is judged (shared with ``enter``)."""
    group = parser.add_argument_group(
        "account set-up", "change the account on both legs' exchanges, then check it again")
    group.add_argument("--set-leverage", type=inputs.leverage, metavar="N",
                       help="set both symbols' leverage to N (at most --max-leverage)")
    group.add_argument("--set-margin-mode", choices=[m.value for m in MarginMode
                                                     if m is not MarginMode.PORTFOLIO],
                       help="set both symbols' margin mode (bybit: the whole account)")
    group.add_argument("--set-position-mode", choices=[PositionMode.ONE_WAY.value],
                       help="switch the accounts to one-way position mode")


def requested_change(args: argparse.Namespace, config: EntryConfig) -> AccountChange:
    """What the set-up flags ask for; a leverage above the config's maximum is refused."""
    from fsm.core.pretrade import RequestError

    n = args.set_leverage
    if n is not None and n > config.max_leverage:
        raise RequestError(f"--set-leverage {n}: expected at most --max-leverage "
                           f"{config.max_leverage} (raise that too if you mean it)")
    return AccountChange(
        leverage=n,
        margin_mode=None if args.set_margin_mode is None else MarginMode(args.set_margin_mode),
        position_mode=None if args.set_position_mode is None
        else PositionMode(args.set_position_mode))


def credential_findings(legs: list[tuple[str, str]]) -> tuple[preflight.Finding, ...]:
    """The keys-present row of each leg (they were checked before anything connected)."""
    from fsm.core import preflight

    return tuple(preflight.Finding(ex, symbol, "credentials", preflight.Severity.OK, "present",
                                   ", ".join(REQUIRED.get(ex, ("API_KEY", "SECRET"))))
                 for ex, symbol in legs)


def by_venue(findings: tuple[preflight.Finding, ...]) -> tuple[preflight.Finding, ...]:
    """Each venue's rows together, venues in the order they first appear."""
    order = list(dict.fromkeys(f.venue for f in findings))
    return tuple(sorted(findings, key=lambda f: order.index(f.venue)))


def run(args: argparse.Namespace, *, environ: Mapping[str, str] | None = None,
        out: TextIO | None = None, factory: VenueFactory = ccxt_venue) -> Exit:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    from fsm.core.pretrade import RequestError
    from fsm.shell import preflight as run_preflight
    from venues.ccxt.errors import scrub_logs  # loads ccxt, as the reads will

    say = ScrubbedPrinter(out)
    try:
        legs = [leg(args.long, "--long"), leg(args.short, "--short")]
        qty = None if args.qty is None else quantity(args.qty)
        config = enter_config.build(args)
        change = requested_change(args, config)
    except (RequestError, TypeError, ValueError) as exc:
        say(f"atomic-entry: {exc}", sys.stderr)
        return Exit.BAD_INPUT
    exchanges = list(dict.fromkeys(ex for ex, _ in legs))
    creds = say.read_keys(exchanges, environ, "nothing read")
    if creds is None:
        return Exit.BAD_INPUT

    async def main() -> tuple[preflight.Finding, ...]:
        venues = {ex: factory(ex, creds[ex], not args.live) for ex in exchanges}
        try:
            return await run_preflight.run([(venues[ex], s) for ex, s in legs], config,
                                           qty=qty, change=change)
        finally:
            await close_all(venues.values())

    undo = scrub_logs(say.secrets)
    try:
        findings = by_venue(credential_findings(legs) + asyncio.run(main()))
    except base.VenueError as exc:  # a read or a set-up refused: named, scrubbed
        say(f"atomic-entry: {exc}", sys.stderr)
        return Exit.BAD_INPUT
    except Exception as exc:
        return console.report_unexpected(exc, "check", say.scrub)
    finally:
        undo()
    return report(findings, say)


def report(findings: tuple[preflight.Finding, ...], say: Callable[..., None]) -> Exit:
    """Print the table; ``Exit.ACCOUNT`` when anything failed (shared with ``enter``)."""
    from fsm.core import preflight

    say(preflight.table(findings))
    if preflight.refused(findings):
        say("atomic-entry: account pre-flight refused: nothing sent; fix the FAIL rows "
            "above (each fix is named)", sys.stderr)
        return Exit.ACCOUNT
    return Exit.OK


