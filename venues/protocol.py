"""The one small protocol every venue adapter implements, and its error taxonomy.

The taxonomy is the heart of it: the engine treats a *definite* rejection (nothing
happened), an *ambiguous* outcome (it may have happened) and *not found* (the venue
does not know the order) in three different ways. An adapter that folds a timeout
into "rejected" makes the engine believe an order is dead while it can still fill.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from venues.market import (
    Book,
    MarketRules,
    PlaceOrder,
    to_decimal,
)
from venues.market import OrderStatus as OrderStatus  # part of the venue vocabulary


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


class MalformedPayload(VenueError, ValueError):
    """A venue answer or push is missing a field or carries a wrong value.

    Raised when the adapter builds one of the value types below, so nothing malformed
    ever reaches the engine. It is neither a rejection nor a "not found": the engine
    treats a request whose answer is malformed as of unknown outcome and asks again by
    client order id, so no order is taken as failed, sent twice or forgotten.
    """


# ------------------------------------------------------------------ payload checks
# Venue payloads come from JSON: None where a number belongs, numbers as strings,
# statuses a venue invented. Each field is converted (decimal strings are exact, so
# "0.5" is taken) or refused naming the type, the field, the value and what was expected.

def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> None:
    raise MalformedPayload(
        f"{type(instance).__name__}.{attribute.name}: got {value!r}, expected {expected}"
    )


def _decimal_or_keep(value: Any) -> Any:
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return value


def _optional_decimal_or_keep(value: Any) -> Any:
    return None if value is None else _decimal_or_keep(value)


def _status_or_keep(value: Any) -> Any:
    try:
        return OrderStatus(value)
    except ValueError:
        return value


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or value <= 0:
        _fail(instance, attribute, value, "a decimal number greater than 0")


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or value < 0:
        _fail(instance, attribute, value, "a decimal number of at least 0")


def _optional_non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _non_negative(instance, attribute, value)


def _finite(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal):
        _fail(instance, attribute, value, "a decimal number")


def _text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        _fail(instance, attribute, value, "a non-empty string")


def _optional_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _text(instance, attribute, value)


def _status(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, OrderStatus):
        allowed = ", ".join(repr(s.value) for s in OrderStatus)
        _fail(instance, attribute, value, f"one of {allowed}")




@attrs.frozen
class FillUpdate:
    """One execution, as pushed by the venue or listed in a query answer."""

    venue: str = attrs.field(validator=_text)
    symbol: str = attrs.field(validator=_text)
    client_id: str = attrs.field(validator=_text)
    trade_id: str = attrs.field(validator=_text)
    qty: Decimal = attrs.field(converter=_decimal_or_keep, validator=_positive)
    price: Decimal = attrs.field(converter=_decimal_or_keep, validator=_positive)
    # any sign: a maker rebate is a negative fee
    fee: Decimal = attrs.field(converter=_decimal_or_keep, validator=_finite)


@attrs.frozen
class OrderUpdate:
    """A pushed change of an order's status with the venue's cumulative filled quantity."""

    venue: str = attrs.field(validator=_text)
    symbol: str = attrs.field(validator=_text)
    client_id: str = attrs.field(validator=_text)
    status: OrderStatus = attrs.field(converter=_status_or_keep, validator=_status)
    filled: Decimal = attrs.field(converter=_decimal_or_keep, validator=_non_negative)


@attrs.frozen
class BookChanged:
    venue: str
    symbol: str
    book: Book


VenueUpdate = FillUpdate | OrderUpdate | BookChanged


@attrs.frozen
class PlaceAck:
    client_id: str = attrs.field(validator=_text)
    venue_order_id: str | None = attrs.field(validator=_optional_text)


@attrs.frozen
class CancelAck:
    """Cancel confirmed; ``filled`` is the cumulative filled quantity when the venue says."""

    client_id: str = attrs.field(validator=_text)
    filled: Decimal | None = attrs.field(converter=_optional_decimal_or_keep,
                                         validator=_optional_non_negative)


def _fills(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(f, FillUpdate) for f in value):
        _fail(instance, attribute, value, "a tuple of FillUpdate")


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

    client_id: str = attrs.field(validator=_text)
    status: OrderStatus = attrs.field(converter=_status_or_keep, validator=_status)
    qty: Decimal = attrs.field(converter=_decimal_or_keep, validator=_positive)
    filled: Decimal = attrs.field(converter=_decimal_or_keep, validator=_non_negative)
    fills: tuple[FillUpdate, ...] = attrs.field(default=(), validator=_fills)

    def __attrs_post_init__(self) -> None:
        if self.filled > self.qty:
            raise MalformedPayload(
                f"OrderSnapshot.filled: got {self.filled}, expected at most the order's "
                f"qty {self.qty}"
            )


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
