"""Events: everything the decision core can be told.

The shell turns venue answers, venue pushes and timers into these and feeds them to
the entry model one at a time. Each carries ``at``, the engine clock when it arrived:
the core never reads a clock of its own.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from venues.market import (
    Book,
    FastEnum,
    Leg,
    MarketRules,
    OrderStatus,
    Side,
)
from venues.protocol import Liquidity


class Operation(FastEnum):
    PLACE = "place"
    CANCEL = "cancel"
    QUERY = "query"
    AMEND = "amend"


@attrs.frozen
class Start:
    """Begin the entry with the market as it was just read from both venues."""

    at: float
    books: dict[Leg, Book]
    rules: dict[Leg, MarketRules]
    positions: dict[Leg, Decimal] = attrs.field(factory=dict)
    # The circuit breaker's conservative mode: the planner sends both legs as takers.
    conservative: bool = False


@attrs.frozen
class Accepted:
    """The venue acknowledged a new order."""

    at: float
    client_id: str
    venue_order_id: str | None = None


@attrs.frozen
class Rejected:
    """The venue definitely refused a new order: nothing rests, nothing filled."""

    at: float
    client_id: str
    reason: str


@attrs.frozen
class FillReport:
    """One execution; the same trade id may arrive more than once (stream and REST)."""

    at: float
    client_id: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    # as the venue says (None: it did not); see venues.protocol.FillUpdate
    liquidity: Liquidity | None = None
    fee_currency: str | None = None


@attrs.frozen
class Canceled:
    """The venue confirmed the order is done and its remainder will never fill.

    ``filled`` is the venue's cumulative filled quantity when it says so: it lets the
    core reconcile before a late fill report arrives.
    """

    at: float
    client_id: str
    filled: Decimal | None = None


@attrs.frozen
class CancelRejected:
    """The venue refused to cancel; the order is still live."""

    at: float
    client_id: str
    reason: str


@attrs.frozen
class Amended:
    """The venue applied an amend; the order's status and filled size right after it."""

    at: float
    client_id: str
    price: Decimal
    qty: Decimal
    status: OrderStatus
    filled: Decimal


@attrs.frozen
class AmendRejected:
    """The amend did not happen (refused, unsupported, or the order was no longer live).

    The order itself is unchanged by this answer: it may still rest, or it may have
    ended (a cancel or a query tells which).
    """

    at: float
    client_id: str
    reason: str


@attrs.frozen
class NotFound:
    """The venue does not know this client order id (cancel or query answered so).

    ``operation`` says which request was answered: a cancel that finds nothing says
    nothing about an order whose create is still unresolved (it may have filled and
    been purged), only a query's "not found" may mean it never reached the venue.
    """

    at: float
    client_id: str
    operation: Operation = Operation.QUERY


@attrs.frozen
class OutcomeUnknown:
    """A request got no answer: it may or may not have taken effect."""

    at: float
    client_id: str
    operation: Operation
    reason: str


@attrs.frozen
class Unavailable:
    """A request definitely did not reach the venue (connection refused, venue down).

    Unlike ``OutcomeUnknown`` nothing can have happened, so the same request may be
    sent again (same client order id) after a backoff.
    """

    at: float
    client_id: str
    operation: Operation
    reason: str


@attrs.frozen
class StatusReport:
    """The venue's view of one order (a query answer or a pushed update)."""

    at: float
    client_id: str
    status: OrderStatus
    filled: Decimal
    fills: tuple[FillReport, ...] = ()


@attrs.frozen
class BookUpdate:
    """A new view of one venue's book, pushed; prices later orders and makes the leg's book
    fresh again (``at`` is when it arrived, ``venue_at`` the venue's own stamp if it gave one)."""

    at: float
    leg: Leg
    book: Book
    venue_at: float | None = None


@attrs.frozen
class BookRead:
    """The answer to ``ReadBook``: the leg's book read just now, or why it could not be
    (``book`` is then None and ``failed`` says why; the stale book is kept, never used)."""

    at: float
    leg: Leg
    book: Book | None = None
    failed: str = ""


@attrs.frozen
class TimerFired:
    at: float
    name: str


@attrs.frozen
class Kill:
    """The embedding strategy or an operator wants the entry stopped and flattened."""

    at: float
    reason: str


@attrs.frozen
class VenueFatal:
    """A venue said something that makes going on unsafe (auth revoked, account locked)."""

    at: float
    venue: str
    reason: str


@attrs.frozen
class FatalAnswer:
    """A request about one order was answered with a venue-fatal error (auth revoked,
    account locked): the request did not happen, and going on is unsafe on ``venue``."""

    at: float
    client_id: str
    operation: Operation
    venue: str
    reason: str


@attrs.frozen
class Recovered:
    """The entry was rebuilt from the journal after its process died; here is the market now.

    Every request that was on its way when the process died has lost its answer, and
    anything may have happened while nobody listened: the ledger turns those requests
    into unknown outcomes and asks the venue about every order (``OrderLedger.recover``).
    """

    at: float
    books: dict[Leg, Book] = attrs.field(factory=dict)


@attrs.frozen
class AccountLeg:
    """One leg's (venue, symbol) as this engine's account sees it (``fsm.core.account``).

    ``position`` is the venue's signed position (longs positive): the last one read, moved
    by every fill this engine's entries counted since; ``buying``/``selling`` are what the
    *other* live entries' orders there may still trade, which a reduce-only order must not
    count on.
    """

    position: Decimal
    buying: Decimal = Decimal(0)
    selling: Decimal = Decimal(0)

    def pending(self, side: Side) -> Decimal:
        return self.buying if side is Side.BUY else self.selling


@attrs.frozen
class AccountRead:
    """The answer to ``ReadAccount``: the account as this engine sees it, per leg.

    ``fresh`` names the legs whose venue position was read just now; ``failed`` says why a
    read asked for could not be made (the view is then the engine's own, unrefreshed).
    """

    at: float
    legs: dict[Leg, AccountLeg]
    fresh: tuple[Leg, ...] = ()
    failed: str = ""


OrderEvent = (
    Accepted | Rejected | FillReport | Canceled | CancelRejected | Amended | AmendRejected
    | NotFound | OutcomeUnknown | Unavailable | StatusReport | FatalAnswer
)
Event = (OrderEvent | Start | BookUpdate | TimerFired | Kill | VenueFatal | Recovered
         | AccountRead | BookRead)
