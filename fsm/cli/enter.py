"""``atomic-entry enter``: a hedged entry on real exchanges through ccxt.

Credentials come only from the environment (``ATOMIC_ENTRY_<EXCHANGE>_API_KEY``,
``_SECRET``, ``_PASSWORD``, ``_WALLET_ADDRESS``, ``_PRIVATE_KEY``), never from arguments
(they would sit in shell history and process lists). Every text this command prints
goes through ``scrub`` with those values, so a key that an exchange echoes back in an
error cannot reach the terminal or a log.

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
from typing import Any, TextIO

from loguru import logger

from fsm.core.config import EntryConfig
from fsm.core.ids import client_order_id
from fsm.core.pretrade import RequestError, check_request
from fsm.core.pricing import quote_price, round_down
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell import journal as journals
from fsm.shell.engine import EntryEngine, RecoveryOutcome
from fsm.shell.journal import Journal, JournaledEntry, JournalError
from venues import protocol as base
from venues.ccxt.adapter import CcxtVenue
from venues.ccxt.dialects import SUPPORTED
from venues.ccxt.errors import scrub
from venues.market import (
    Leg,
    Purpose,
    to_decimal,
)

EXIT_OK, EXIT_UNSAFE, EXIT_BAD_INPUT = 0, 1, 2
CONFIRM_WORD = "LIVE"
CCXT = "ccxt"  # the journal origin of entries this module runs
_ENV_FIELDS = {"API_KEY": "apiKey", "SECRET": "secret", "PASSWORD": "password",
               "WALLET_ADDRESS": "walletAddress", "PRIVATE_KEY": "privateKey"}

VenueFactory = Callable[[str, Mapping[str, str], bool], base.Venue]


class LiveRefused(RuntimeError):
    """Recovering these entries would trade real money, and that was not allowed."""


def env_names(exchange: str) -> list[str]:
    return [f"ATOMIC_ENTRY_{exchange.upper()}_{suffix}" for suffix in _ENV_FIELDS]


def credentials(exchange: str, environ: Mapping[str, str]) -> dict[str, str]:
    prefix = f"ATOMIC_ENTRY_{exchange.upper()}_"
    return {field: environ[prefix + suffix] for suffix, field in _ENV_FIELDS.items()
            if environ.get(prefix + suffix)}


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
    enter.add_argument("--quote-timeout", type=float, default=30.0, metavar="SECONDS")
    enter.add_argument("--journal", metavar="PATH",
                       help="where to journal the entry for `atomic-entry recover` (default: "
                       f"${journals.ENV_PATH}, else {journals.default_path()})")


def _leg(text: str, flag: str) -> tuple[str, str]:
    exchange, sep, symbol = text.partition(":")
    if not sep or not symbol or exchange not in SUPPORTED:
        raise RequestError(f"{flag} {text!r}: expected EXCHANGE:SYMBOL with EXCHANGE one of "
                           f"{', '.join(SUPPORTED)}, e.g. binanceusdm:BTC/USDT:USDT")
    return exchange, symbol


def _default_factory(exchange: str, creds: Mapping[str, str], sandbox: bool) -> base.Venue:
    return CcxtVenue(exchange, exchange, credentials=creds, sandbox=sandbox)


def run(args: argparse.Namespace, *, environ: Mapping[str, str] | None = None,
        stdin: TextIO | None = None, out: TextIO | None = None,
        factory: VenueFactory = _default_factory) -> int:
    environ = os.environ if environ is None else environ
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stdout if out is None else out
    secrets: list[str] = []

    def say(text: str, stream: TextIO = out) -> None:
        print(scrub(text, secrets), file=stream)

    try:
        long_ex, long_symbol = _leg(args.long, "--long")
        short_ex, short_symbol = _leg(args.short, "--short")
        if long_ex == short_ex:
            raise RequestError("--long and --short name the same exchange; a hedged entry "
                               "needs two venues")
        qty = to_decimal(args.qty, "--qty")
        if not qty.is_finite() or qty <= 0:
            raise RequestError(f"--qty: got {args.qty}, expected a positive base-asset "
                               "quantity such as 0.01")
    except (RequestError, TypeError, ValueError) as exc:
        say(f"atomic-entry: {exc}", sys.stderr)
        return EXIT_BAD_INPUT
    creds = {ex: credentials(ex, environ) for ex in (long_ex, short_ex)}
    secrets.extend(v for c in creds.values() for v in c.values())
    sandbox = not args.live
    if args.live and not args.dry_run and not _confirmed(args, stdin, say):
        return EXIT_BAD_INPUT
    request = EntryRequest(long=LegSpec(long_ex, long_symbol, qty),
                           short=LegSpec(short_ex, short_symbol, qty),
                           entry_id=args.entry_id)
    config = EntryConfig(quote_timeout_s=args.quote_timeout)

    async def main() -> int:  # venues are built on the loop that will run them
        venues = {ex: factory(ex, creds[ex], sandbox) for ex in (long_ex, short_ex)}
        if args.dry_run:
            return await _enter(request, config, venues, None, say)
        journal = Journal(args.journal or journals.default_path(),
                          origin={"kind": CCXT, "sandbox": sandbox})
        try:
            return await _enter(request, config, venues, journal, say)
        finally:
            journal.close()

    try:
        return asyncio.run(main())
    except (RequestError, base.VenueError, JournalError) as exc:
        say(f"atomic-entry: nothing sent: {exc}" if args.dry_run else f"atomic-entry: {exc}",
            sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        say(f"atomic-entry: {type(exc).__name__}: {exc}", sys.stderr)
        return EXIT_UNSAFE


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
                 journal: Journal | None, say: Callable[..., None]) -> int:
    """Enter, journaled; without a journal, only plan (the dry run)."""
    try:
        if journal is None:
            return await _plan(request, config, venues, say)
        engine = EntryEngine(venues, config, journal=journal)
        try:
            result = await engine.enter(request)
        finally:
            await engine.close()
        say(json.dumps(result.to_dict(), indent=2))
        return EXIT_OK if result.succeeded else EXIT_UNSAFE
    finally:
        for venue in venues.values():
            close = getattr(venue, "close", None)
            if close is not None:
                await close()


def recover(journal: Journal, entries: list[JournaledEntry], *, live: bool,
            environ: Mapping[str, str] | None = None,
            factory: VenueFactory = _default_factory) -> list[RecoveryOutcome]:
    """Recover journaled ccxt entries on their exchanges, keys from the environment."""
    environ = os.environ if environ is None else environ
    real_money = [e.entry_id for e in entries if not e.origin.get("sandbox", False)]
    if real_money and not live:
        raise LiveRefused(f"entries {', '.join(real_money)} traded real money; recovering "
                          "them may send hedges or rollbacks: add --live")
    exchanges = sorted({e.request.leg(leg).venue for e in entries for leg in Leg})
    sandbox = not real_money

    async def main() -> list[RecoveryOutcome]:
        venues = {ex: factory(ex, credentials(ex, environ), sandbox) for ex in exchanges}
        # A create the dead process sent may still be travelling: wait until every
        # request of it has landed or timed out before a query may call it never placed.
        grace = max((getattr(v, "request_timeout_s", 1.0) for v in venues.values()), default=1.0)
        engine = EntryEngine(venues, journal=journal, recovery_grace_s=grace)
        try:
            return await engine.recover([e.entry_id for e in entries])
        finally:
            await engine.close()
            for venue in venues.values():
                close = getattr(venue, "close", None)
                if close is not None:
                    await close()

    return asyncio.run(main())


async def _plan(request: EntryRequest, config: EntryConfig, venues: dict[str, base.Venue],
                say: Callable[..., None]) -> int:
    rules, books = {}, {}
    for leg in (Leg.LONG, Leg.SHORT):
        spec = request.leg(leg)
        rules[leg] = await venues[spec.venue].market_rules(spec.symbol)
        books[leg] = await venues[spec.venue].book(spec.symbol)
    check_request(request, config, rules, books)
    entry_id = request.entry_id or "dryrun"
    plan: dict[str, Any] = {"dry_run": True, "sent": 0, "checks": "passed", "legs": {}}
    for leg in (Leg.LONG, Leg.SHORT):
        spec = request.leg(leg)
        offset = spec.limit_price_offset_pct
        price = quote_price(books[leg], leg.side, config.limit_order_offset_pct
                            if offset is None else offset, rules[leg].tick)
        qty = round_down(spec.qty, rules[leg].lot)
        plan["legs"][leg.value] = {
            "venue": spec.venue, "symbol": spec.symbol, "side": leg.side.value,
            "qty": str(qty), "quote_price": str(price),
            "best_bid": str(books[leg].best_bid), "best_ask": str(books[leg].best_ask),
            "notional": str(qty * price), "client_id": client_order_id(
                entry_id, leg, Purpose.QUOTE, 1),
            "rules": {"lot": str(rules[leg].lot), "tick": str(rules[leg].tick),
                      "min_qty": str(rules[leg].min_qty),
                      "min_notional": str(rules[leg].min_notional)},
        }
    say(json.dumps(plan, indent=2))
    logger.info("dry run for {}: nothing sent", entry_id)
    return EXIT_OK
