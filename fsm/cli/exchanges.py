"""How the command line reaches real exchanges: API keys from the environment, and the
factory that builds a ccxt venue from them.

Credentials come only from the environment (``ATOMIC_ENTRY_<EXCHANGE>_API_KEY``,
``_SECRET``, ``_PASSWORD``, ``_WALLET_ADDRESS``, ``_PRIVATE_KEY``), never from arguments:
they would sit in shell history and process lists. ``enter`` and ``recover`` share this
module so that both read the same variables and build venues the same way.

It lives in ``fsm.cli`` rather than ``venues.ccxt`` because the variable names and the
journal origin are the application's conventions, not ccxt's: ``venues.ccxt`` takes
credentials as a plain mapping and never reads the environment. ccxt itself is loaded
by ``ccxt_venue`` when a venue is built, not when this module is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TextIO

from venues import protocol as base

CCXT = "ccxt"  # the journal origin of entries run on real exchanges
_ENV_FIELDS = {"API_KEY": "apiKey", "SECRET": "secret", "PASSWORD": "password",
               "WALLET_ADDRESS": "walletAddress", "PRIVATE_KEY": "privateKey"}

VenueFactory = Callable[[str, Mapping[str, str], bool], base.Venue]
# The variables each exchange cannot trade without (ccxt's ``requiredCredentials`` for it,
# pinned by tests/test_enter_desk.py), so a missing one is named before any connection.
REQUIRED: dict[str, tuple[str, ...]] = {
    "binanceusdm": ("API_KEY", "SECRET"), "bybit": ("API_KEY", "SECRET"),
    "okx": ("API_KEY", "SECRET", "PASSWORD"), "hyperliquid": ("WALLET_ADDRESS", "PRIVATE_KEY"),
}


def leg(text: str, flag: str) -> tuple[str, str]:
    """``EXCHANGE:SYMBOL`` of ``--long``/``--short``, the exchange one ccxt supports here."""
    from fsm.core.pretrade import RequestError
    from venues.ccxt.dialects import SUPPORTED

    exchange, sep, symbol = text.partition(":")
    if not sep or not symbol or exchange not in SUPPORTED:
        raise RequestError(f"{flag} {text!r}: expected EXCHANGE:SYMBOL with EXCHANGE one of "
                           f"{', '.join(SUPPORTED)}, e.g. binanceusdm:BTC/USDT:USDT")
    return exchange, symbol


def quantity(text: str) -> Decimal:
    """``--qty``: a size within the bounds every quantity obeys (``venues.checks``)."""
    from fsm.core.pretrade import RequestError
    from venues import checks
    from venues.market import to_decimal

    qty = to_decimal(text, "--qty")
    found = checks.quantity.problem(qty)
    if found is not None:
        raise RequestError(f"--qty: got {text}, expected {found}, such as 0.01")
    return qty


def credentials(exchange: str, environ: Mapping[str, str]) -> dict[str, str]:
    prefix = f"ATOMIC_ENTRY_{exchange.upper()}_"
    return {field: environ[prefix + suffix] for suffix, field in _ENV_FIELDS.items()
            if environ.get(prefix + suffix)}


def missing_credentials(exchange: str, environ: Mapping[str, str]) -> list[str]:
    """The environment variables ``exchange`` needs and that are unset or empty."""
    prefix = f"ATOMIC_ENTRY_{exchange.upper()}_"
    return [prefix + suffix for suffix in REQUIRED.get(exchange, ("API_KEY", "SECRET"))
            if not environ.get(prefix + suffix)]


def missing_keys(exchanges: Iterable[str], environ: Mapping[str, str]) -> str | None:
    """What to set when any exchange's keys are missing ("missing API credentials: set
    ..."), every variable named at once; None when all are there."""
    missing = [name for ex in exchanges for name in missing_credentials(ex, environ)]
    return f"missing API credentials: set {', '.join(missing)}" if missing else None


class ScrubbedPrinter:
    """What ``enter`` and ``check`` print, every key they have read blanked out: an
    exchange may echo a key back in an error text, and no key may reach a terminal.

    Call it with a line (and ``sys.stderr`` for an error); ``read_keys`` reads the keys
    and remembers them for scrubbing; ``secrets`` is what ``scrub_logs`` must blank too.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.secrets: list[str] = []

    def __call__(self, text: str, stream: TextIO | None = None) -> None:
        print(self.scrub(text), file=self.out if stream is None else stream)

    def scrub(self, text: str) -> str:
        from venues.ccxt.errors import scrub  # loads ccxt, as the command's venues will

        return scrub(text, self.secrets)

    def read_keys(self, exchanges: Sequence[str], environ: Mapping[str, str],
                  nothing_done: str) -> dict[str, dict[str, str]] | None:
        """Each exchange's keys; None, after naming every variable to set, when any is
        missing (before any venue is built: nothing connects). ``nothing_done`` says what
        that spared ("nothing sent")."""
        missing = missing_keys(exchanges, environ)
        if missing is not None:
            self(f"atomic-entry: {nothing_done}: {missing}", sys.stderr)
            return None
        keys = {ex: credentials(ex, environ) for ex in exchanges}
        self.secrets.extend(v for c in keys.values() for v in c.values())
        return keys


def ccxt_venue(exchange: str, creds: Mapping[str, str], sandbox: bool) -> base.Venue:
    """The default ``VenueFactory``; tests pass their own to reach exchange doubles."""
    from venues.ccxt.adapter import CcxtVenue  # loads ccxt: only when an exchange is used

    return CcxtVenue(exchange, exchange, credentials=creds, sandbox=sandbox)


async def close_all(venues: Iterable[base.Venue]) -> None:
    """Close what has a ``close`` (a ccxt venue holds sessions and a stream)."""
    for venue in venues:
        close = getattr(venue, "close", None)
        if close is not None:
            await close()
