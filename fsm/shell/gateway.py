"""The venue gateway: sends one request and reports its outcome as the one event that says it.

Each request (place, cancel, amend, query) ends in an answer or in one of the errors of
``venues.protocol``. ``ANSWERS`` is the whole mapping, one row per (request, error),
tried in order; ``Exception`` comes last because anything else may have reached the
venue, so its outcome is unknown. The gateway only reports: what an answer means for
the order and the entry (a fatal refusal stops the entry; a failed amend falls back to
a cancel) is decided by the core's tables (``fsm.core.tables.events``).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable

from fsm.core import events as ev
from fsm.core.commands import AmendOrder, CancelOrder, QueryOrder, ReadBook
from venues import protocol as base
from venues.market import PlaceOrder

Post = Callable[[ev.Event], None]
Op = ev.Operation


class Answer(enum.Enum):
    """What an error says about a request, whatever the request."""

    REFUSED = "refused"  # definite: nothing changed on the venue
    NOT_FOUND = "not_found"  # the venue does not know the order
    UNAVAILABLE = "unavailable"  # definite: the request never left
    FATAL = "fatal"  # going on is unsafe on this venue
    UNKNOWN = "unknown"  # it may have reached the venue


ANSWERS: dict[ev.Operation, tuple[tuple[type[BaseException], Answer], ...]] = {
    Op.PLACE: (
        (base.OrderRejected, Answer.REFUSED),
        (base.VenueUnavailable, Answer.UNAVAILABLE),
        (base.VenueFatalError, Answer.FATAL),
        (Exception, Answer.UNKNOWN),
    ),
    Op.CANCEL: (
        (base.OrderNotFound, Answer.NOT_FOUND),
        (base.OrderRejected, Answer.REFUSED),
        (base.VenueUnavailable, Answer.UNAVAILABLE),
        (base.VenueFatalError, Answer.FATAL),
        (Exception, Answer.UNKNOWN),
    ),
    Op.AMEND: (
        (base.OrderRejected, Answer.REFUSED),
        (base.NotSupported, Answer.REFUSED),
        (base.OrderNotFound, Answer.NOT_FOUND),
        (base.VenueUnavailable, Answer.UNAVAILABLE),
        (base.VenueFatalError, Answer.FATAL),
        (Exception, Answer.UNKNOWN),
    ),
    Op.QUERY: (
        (base.OrderNotFound, Answer.NOT_FOUND),
        (base.VenueUnavailable, Answer.UNAVAILABLE),
        (Exception, Answer.UNKNOWN),
    ),
}


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def classify(operation: ev.Operation, exc: BaseException) -> Answer:
    """The answer the first matching row of ``ANSWERS`` names."""
    for error, answer in ANSWERS[operation]:
        if isinstance(exc, error):
            return answer
    return Answer.UNKNOWN


def failed(
    operation: ev.Operation, exc: BaseException, at: float, client_id: str, venue: str
) -> ev.Event:
    """The event that reports a request which raised ``exc``."""
    match classify(operation, exc):
        case Answer.REFUSED if operation is Op.PLACE:
            return ev.Rejected(at, client_id, str(exc))
        case Answer.REFUSED if operation is Op.CANCEL:
            return ev.CancelRejected(at, client_id, str(exc))
        case Answer.REFUSED:
            return ev.AmendRejected(at, client_id, describe(exc))
        case Answer.NOT_FOUND:
            return ev.NotFound(at, client_id, operation)
        case Answer.UNAVAILABLE:
            return ev.Unavailable(at, client_id, operation, describe(exc))
        case Answer.FATAL:
            return ev.FatalAnswer(at, client_id, operation, venue, str(exc))
    return ev.OutcomeUnknown(at, client_id, operation, describe(exc))


def _now() -> float:
    return asyncio.get_running_loop().time()


async def place(venue: base.Venue, order: PlaceOrder, post: Post) -> None:
    try:
        ack = await venue.place(order)
    except Exception as exc:
        post(failed(Op.PLACE, exc, _now(), order.client_id, order.venue))
    else:
        post(ev.Accepted(_now(), order.client_id, ack.venue_order_id))


async def cancel(venue: base.Venue, request: CancelOrder, post: Post) -> None:
    try:
        ack = await venue.cancel(request.symbol, request.client_id)
    except Exception as exc:
        post(failed(Op.CANCEL, exc, _now(), request.client_id, request.venue))
    else:
        post(ev.Canceled(_now(), request.client_id, ack.filled))


async def amend(venue: base.Venue, request: AmendOrder, post: Post) -> None:
    try:
        ack = await venue.amend(request.symbol, request.client_id, request.price, request.qty)
    except Exception as exc:
        post(failed(Op.AMEND, exc, _now(), request.client_id, request.venue))
    else:
        post(ev.Amended(_now(), request.client_id, request.price, request.qty, ack.status,
                        ack.filled))


async def query(venue: base.Venue, request: QueryOrder, post: Post) -> None:
    cid = request.client_id
    try:
        snap = await venue.query(request.symbol, cid)
    except Exception as exc:
        post(failed(Op.QUERY, exc, _now(), cid, request.venue))
    else:
        at = _now()
        fills = tuple(
            ev.FillReport(at, cid, f.trade_id, f.qty, f.price, f.fee, f.liquidity, f.fee_currency)
            for f in snap.fills
        )
        post(ev.StatusReport(at, cid, snap.status, snap.filled, fills))


async def read_book(venue: base.Venue, request: ReadBook, post: Post) -> None:
    """Read one leg's book afresh; any failure (``UnusableBook`` among them: a book with a
    side missing or crossed cannot be built) is a failed read: the entry keeps its stale
    book unused and decides again (its table's rows)."""
    try:
        book = await venue.book(request.symbol)
    except Exception as exc:
        post(ev.BookRead(_now(), request.leg, None, describe(exc)))
    else:
        post(ev.BookRead(_now(), request.leg, book))
