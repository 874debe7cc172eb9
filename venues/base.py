"""The one small protocol every venue adapter implements, and its error taxonomy.

The taxonomy is the heart of it: the engine treats a *definite* rejection (nothing
happened), an *ambiguous* outcome (it may have happened) and *not found* (the venue
does not know the order) in three different ways. An adapter that folds a timeout
into "rejected" makes the engine believe an order is dead while it can still fill.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from fsm.commands import PlaceOrder
from fsm.values import Book, MarketRules
from fsm.values import OrderStatus as OrderStatus  # part of the venue vocabulary


class VenueError(Exception):
    """Base of every error an adapter raises. Messages never contain secrets."""


class OrderRejected(VenueError):
    """Definite: the venue refused the request; nothing changed on the venue."""


class OrderNotFound(VenueError):
    """The venue does not know the order: maybe filled and purged, maybe never placed."""


class OutcomeUnknown(VenueError):
    """Ambiguous: the request may have reached the venue (timeout, connection reset)."""


class VenueUnavailable(VenueError):
    """Definite: the request was not sent (connection refused before sending)."""


class VenueFatalError(VenueError):
    """Going on is unsafe on this venue (authentication revoked, account locked)."""


class NotSupported(VenueError):
    """The venue does not offer this operation (for example amend)."""


@attrs.frozen
class FillUpdate:
    """One execution, as pushed by the venue or listed in a query answer."""

    venue: str
    symbol: str
    client_id: str
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal


@attrs.frozen
class OrderUpdate:
    """A pushed change of an order's status with the venue's cumulative filled quantity."""

    venue: str
    symbol: str
    client_id: str
    status: OrderStatus
    filled: Decimal


@attrs.frozen
class BookChanged:
    venue: str
    symbol: str
    book: Book


VenueUpdate = FillUpdate | OrderUpdate | BookChanged


@attrs.frozen
class PlaceAck:
    client_id: str
    venue_order_id: str | None


@attrs.frozen
class CancelAck:
    """Cancel confirmed; ``filled`` is the cumulative filled quantity when the venue says."""

    client_id: str
    filled: Decimal | None


@attrs.frozen
class AmendAck:
    """The order after an amend: a crossing amend may have filled it on the spot.

    ``status`` and ``filled`` are the venue's view right after the amend, so the engine
    can tell "crossed and filled" from "re-priced but still resting" without waiting for
    the stream.
    """

    client_id: str
    status: OrderStatus
    filled: Decimal


@attrs.frozen
class OrderSnapshot:
    """The truth about one order, from a query by client order id."""

    client_id: str
    status: OrderStatus
    qty: Decimal
    filled: Decimal
    fills: tuple[FillUpdate, ...] = ()


UpdateHandler = Callable[[VenueUpdate], None]


@runtime_checkable
class Venue(Protocol):
    """A trading venue as the engine needs it. Quantities are in base-asset units."""

    name: str

    async def market_rules(self, symbol: str) -> MarketRules: ...

    async def book(self, symbol: str, depth: int = 10) -> Book: ...

    async def position(self, symbol: str) -> Decimal: ...

    async def place(self, order: PlaceOrder) -> PlaceAck: ...

    async def cancel(self, symbol: str, client_id: str) -> CancelAck: ...

    async def query(self, symbol: str, client_id: str) -> OrderSnapshot: ...

    async def amend(
        self, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        """Re-price and re-size a resting order atomically, keeping its client id.

        ``qty`` is the order's new total size (filled part included). Raises
        NotSupported where the venue cannot amend, OrderNotFound when the order is no
        longer live, OrderRejected when the venue refuses the change.
        """
        ...

    def subscribe(self, handler: UpdateHandler) -> Callable[[], None]:
        """Push order, fill and book updates to ``handler``; returns an unsubscribe call."""
        ...
