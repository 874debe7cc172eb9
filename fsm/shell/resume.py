"""Finishing the entries a dead process left unfinished in the journal.

``EntryEngine.recover`` delegates here. Each entry is rebuilt by replaying its journaled
events (``fsm.shell.recovery``), waits out the grace period in which a request the dead
process sent may still land, then hears ``Recovered`` with the books of now as its
first event and runs on in the engine like any entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs
from loguru import logger

from fsm.core import events as ev
from fsm.core.commands import RaiseAlert
from fsm.core.result import EntryResult
from fsm.core.spec import EntryState
from fsm.core.values import EntryRequest
from fsm.shell.journal import JournaledEntry
from fsm.shell.recovery import RecoveryError, replay
from venues import protocol as base
from venues.market import Book, Leg

#: Reads of a book found unusable before recovery gives up on it, and the wait before the
#: second read (doubled before each next one): 4 reads over 1.75 s.
BOOK_READS = 4
BOOK_BACKOFF_S = 0.25

if TYPE_CHECKING:
    from loguru import Logger

    from fsm.shell.engine import EntryEngine


@attrs.frozen
class RecoveryOutcome:
    """What ``EntryEngine.recover`` did with one unfinished entry of the journal."""

    entry_id: str
    result: EntryResult | None  # None: nothing had been sent, or it could not be rebuilt
    note: str
    resumed_in: str | None = None  # the state the journal left it in
    replayed: int = 0  # journaled steps replayed


async def recover(engine: EntryEngine, only: Iterable[str] | None) -> list[RecoveryOutcome]:
    """``EntryEngine.recover``: every unfinished journaled entry (or those named), at once."""
    if engine.journal is None:
        raise RecoveryError("recover needs a journal: EntryEngine(..., journal=Journal(path))")
    wanted = None if only is None else set(only)
    unfinished = [
        entry for entry in engine.journal.unfinished()
        if not engine.running(entry.entry_id) and (wanted is None or entry.entry_id in wanted)
    ]
    return list(await asyncio.gather(*(_recover_one(engine, entry) for entry in unfinished)))


async def _recover_one(engine: EntryEngine, entry: JournaledEntry) -> RecoveryOutcome:
    assert engine.journal is not None
    log = logger.bind(entry_id=entry.entry_id)
    try:
        rebuilt = replay(entry, engine.model_class)
    except RecoveryError as exc:
        log.critical("cannot recover: {}", exc)
        return RecoveryOutcome(entry.entry_id, None, f"not recovered: {exc}")
    model = rebuilt.model
    if model.state == EntryState.NEW:
        model.detach()
        note = "stopped before anything was sent"
        engine.journal.close_entry(entry.entry_id, "not_started", note)
        log.info("recovered: {}", note)
        return RecoveryOutcome(entry.entry_id, None, note, EntryState.NEW.value,
                               len(entry.steps))
    resumed_in = model.state
    request = entry.request
    venues = {leg: engine._venue(request.leg(leg).venue) for leg in (Leg.LONG, Leg.SHORT)}
    loop = asyncio.get_running_loop()
    log.warning("recovering in {} with {} orders; timers {}", model.state,
                len(model.ledger.orders), sorted(rebuilt.armed_timers) or "none")
    books: dict[Leg, Book] = {}
    if not model.terminal:
        # Requests the dead process sent may still be on their way: a query that
        # overtook one would find nothing and call it never placed.
        last = entry.steps[-1].at if entry.steps else loop.time()
        await asyncio.sleep(min(engine.recovery_grace_s,
                                max(0.0, last + engine.recovery_grace_s - loop.time())))
        try:
            books = await _books_now(request, venues, log)
        except base.UnusableBook as exc:
            model.detach()
            live = [r.client_id for r in model.ledger if r.live]
            note = (f"not recovered: no usable book: {exc}. Nothing was sent from it; the "
                    "entry stays unfinished in the journal: recover again once the market "
                    f"quotes both sides. Orders possibly live: {', '.join(live) or 'none'}")
            log.critical(note)
            return RecoveryOutcome(entry.entry_id, None, note, resumed_in, len(entry.steps))
    # Only now does the entry hear from its venues, so ``Recovered`` is the first
    # event after the replay: a report processed before it would act on requests the
    # ledger has not yet marked as lost (reports missed meanwhile are in the queries).
    actor = engine._admit(model, venues)
    actor.step = rebuilt.next_step
    for record in model.ledger:
        engine._routes.own(record.command.venue, record.client_id, actor)
    if model.terminal:
        # It ended, but died before the journal said so: the last step's alerts may
        # never have been raised. Raise them (again: alerts are at least once).
        for command in entry.steps[-1].commands:
            if isinstance(command, RaiseAlert):
                engine._execute(actor, command)
        engine._close_journaled(actor, "closed on recovery")
    else:
        actor.post(ev.Recovered(loop.time(), books))
        for name in rebuilt.armed_timers:
            actor.post(ev.TimerFired(loop.time(), name))
    result = await engine._drive(actor)
    return RecoveryOutcome(entry.entry_id, result, f"recovered: {result.final_state}",
                           resumed_in, len(entry.steps))


async def _books_now(
    request: EntryRequest, venues: dict[Leg, base.Venue], log: Logger
) -> dict[Leg, Book]:
    """The books as they are now; a venue that cannot answer keeps its journaled book.

    A book that is there but cannot be priced from (a side empty, as a thin market our own
    taker orders drained reads; crossed) is read again, with backoff; still unusable, it
    is ``UnusableBook`` naming every such venue: nothing may be decided from it, and the
    journaled book is no stand-in for a market known to have changed.
    """
    legs = list(venues)
    answers = await asyncio.gather(
        *(_read_book(venues[leg], request.leg(leg).venue, request.leg(leg).symbol, log)
          for leg in legs), return_exceptions=True,
    )
    books: dict[Leg, Book] = {}
    unusable: list[str] = []
    for leg, answer in zip(legs, answers, strict=True):
        if isinstance(answer, Book):
            books[leg] = answer
        elif isinstance(answer, base.UnusableBook):
            unusable.append(str(answer))
        elif isinstance(answer, Exception):
            log.warning("no book from {} after recovery ({}); using the journaled one",
                        request.leg(leg).venue, answer)
        else:  # a BaseException (cancellation): not ours to swallow
            raise answer
    if unusable:
        raise base.UnusableBook("; ".join(unusable))
    return books


async def _read_book(venue: base.Venue, name: str, symbol: str, log: Logger) -> Book:
    """One venue's book, read up to ``BOOK_READS`` times while it is unusable."""
    delay = BOOK_BACKOFF_S
    for read in range(1, BOOK_READS + 1):
        try:
            # Stale books come with a later issue: a Book carries no time yet. An age
            # check belongs here, refused like an unusable book (read again, then give up).
            return await venue.book(symbol)
        except base.UnusableBook as exc:
            if read == BOOK_READS:
                raise base.UnusableBook(f"{name} {symbol}: unusable after {read} reads "
                                        f"over {BOOK_BACKOFF_S * (2 ** (read - 1) - 1):g} s "
                                        f"({exc})") from None
            log.warning("unusable book from {} ({}); reading again in {:g} s", name, exc, delay)
        await asyncio.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")
