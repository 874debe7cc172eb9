"""Running the account pre-flight over venues: read each leg's account (after setting it
up, when asked), then judge it (``fsm.core.preflight``).

Shared by ``atomic-entry check`` and ``enter`` (which runs it before anything is sent), so
the two can never disagree. The legs are read concurrently; a venue that does not
implement ``venues.account.AccountReader`` is all unknown (warnings, not a pass).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

from fsm.core import preflight
from fsm.core.choices import RequiredMarginMode
from fsm.core.config import EntryConfig
from venues import protocol as base
from venues.account import AccountChange, AccountFacts, AccountReader, MarginMode

_NO_READS = ("position mode", "margin mode", "leverage", "fees", "may trade",
             "symbol trading")


async def facts(venue: base.Venue, symbol: str, change: AccountChange | None = None,
                margin: RequiredMarginMode = RequiredMarginMode.ANY) -> AccountFacts:
    """``venue``'s account for ``symbol``, set up first when ``change`` asks for something.

    Where the margin mode goes with each order (okx), the orders are made to carry the
    one ``margin`` requires before anything is read, so the read (and the leverage, kept
    per margin mode there) is of what the entry will send.
    """
    if not isinstance(venue, AccountReader):
        return AccountFacts(venue=venue.name, exchange=venue.name, symbol=symbol, notes=tuple(
            f"{item}: this venue reads no account set-up" for item in _NO_READS))
    carry_margin(venue, margin)
    if change:
        await venue.configure_account(symbol, change)
    return await venue.account(symbol)


def carry_margin(venue: base.Venue, margin: RequiredMarginMode) -> None:
    """Make ``venue``'s orders carry the margin mode ``margin`` requires, where orders carry
    one (okx); ``recover`` calls it too, so a rollback goes out in the entry's margin mode
    (an okx reduce-only order in the other mode has no position to reduce)."""
    if isinstance(venue, AccountReader) and margin is not RequiredMarginMode.ANY:
        venue.carry_margin_mode(MarginMode(margin.value))


async def _leg(venue: base.Venue, symbol: str, config: EntryConfig, qty: Decimal | None,
               change: AccountChange | None) -> tuple[preflight.Finding, ...]:
    read = await facts(venue, symbol, change, config.margin_mode)
    price = None
    if qty is not None:
        book = await venue.book(symbol, 1)
        price = book.mid
    return preflight.assess(read, config, qty=qty, price=price)


async def run(legs: Sequence[tuple[base.Venue, str]], config: EntryConfig, *,
              qty: Decimal | None = None,
              change: AccountChange | None = None) -> tuple[preflight.Finding, ...]:
    """Every leg's findings, legs in the order given.

    Every leg runs to its end before a failure is raised: a set-up refused on one leg must
    not leave another's cut short or still running unseen. The first failure is raised,
    saying on which legs the set-up asked for was applied.
    """
    found = await asyncio.gather(*(_leg(venue, symbol, config, qty, change)
                                   for venue, symbol in legs), return_exceptions=True)
    failed = [leg for leg in found if isinstance(leg, BaseException)]
    if failed:
        applied = [f"{venue.name}:{symbol}" for (venue, symbol), leg in zip(legs, found,
                                                                             strict=True)
                   if not isinstance(leg, BaseException)]
        raise _saying_applied(failed[0], applied if change else [])
    return tuple(finding for leg in found if not isinstance(leg, BaseException)
                 for finding in leg)


def _saying_applied(exc: BaseException, applied: list[str]) -> BaseException:
    """A venue's refusal, with where the set-up went through (the operator must know
    what changed); anything else as it was."""
    if not applied or not isinstance(exc, base.VenueError):
        return exc
    try:
        return type(exc)(f"{exc} (the set-up asked for was applied on {', '.join(applied)})")
    except TypeError:  # a venue error built otherwise: its own words only
        return exc
