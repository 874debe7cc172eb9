"""The one small protocol every venue adapter implements, and its error taxonomy.

The taxonomy is the heart of it: the engine treats a *definite* rejection (nothing
happened), an *ambiguous* outcome (it may have happened) and *not found* (the venue
does not know the order) in three different ways. An adapter that folds a timeout
into "rejected" makes the engine believe an order is dead while it can still fill.

Reading and changing the account's set-up (leverage, margin and position modes) is an
optional second protocol, ``venues.account.AccountReader``: the engine never needs it,
the account pre-flight (``atomic-entry check``, and ``enter`` first) does.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NoReturn, Protocol, runtime_checkable

import attrs

from venues import checks
from venues.market import (
    Book,
    MarketRules,
    PlaceOrder,
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


class UnusableBook(VenueError, ValueError):
    """The venue's book cannot be priced from (a side empty, crossed): read it again later.

    Not bad input and not the venue being down: a thin market drained by our own taker
    orders reads this way until someone quotes again.
    """


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

def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> NoReturn:
    raise MalformedPayload(
        f"{type(instance).__name__}.{attribute.name}: got {value!r}, expected {expected}"
    )


def _decimal(expected: str, *bounds: checks.Check, optional: bool = False) -> Any:
    return checks.validator(
        _fail, checks.finite_decimal.saying(expected),
        *(bound.saying(expected) for bound in bounds), optional=optional,
    )


def _optional_decimal_or_keep(value: Any) -> Any:
    return None if value is None else checks.decimal_or_keep(value)


# Converters built once, here (member_or_keep builds its table when called); a named
# function calls each, as mypy's attrs plugin reads a converter only when it is one.
_to_status = checks.member_or_keep(OrderStatus)


def _status_or_keep(value: Any) -> Any:
    return _to_status(value)


_positive = _decimal("a decimal number greater than 0", checks.greater_than(Decimal(0)))
_non_negative = _decimal("a decimal number of at least 0", checks.at_least(Decimal(0)))
_optional_non_negative = _decimal(
    "a decimal number of at least 0", checks.at_least(Decimal(0)), optional=True
)
_finite = _decimal("a decimal number")
_text = checks.validator(_fail, checks.non_empty_text)
_optional_text = checks.validator(_fail, checks.non_empty_text, optional=True)
_status = checks.validator(_fail, checks.member(OrderStatus))


class Liquidity(enum.Enum):
    """Whether a fill rested on the book (maker) or took from it (taker): what it costs."""

    MAKER = "maker"
    TAKER = "taker"


_liquidity_or_keep = checks.member_or_keep(Liquidity)


def _to_liquidity(value: Any) -> Any:
    return None if value is None else _liquidity_or_keep(value)


_liquidity = checks.validator(_fail, checks.member(Liquidity), optional=True)


def settle_currency(symbol: str) -> str | None:
    """The currency fees are charged in: ccxt's settle (``BTC/USDT:USDT``), else the quote."""
    if ":" in symbol:
        return symbol.rsplit(":", 1)[1] or None
    if "/" in symbol:
        return symbol.split("/", 1)[1] or None
    return None


@attrs.frozen
class FillUpdate:
    """One execution, as pushed by the venue or listed in a query answer.

    ``liquidity`` (maker or taker) and ``fee_currency`` are None where the venue does
    not say; an unreported fee is 0 (a fee schedule then tells what it should have been).
    """

    venue: str = attrs.field(validator=_text)
    symbol: str = attrs.field(validator=_text)
    client_id: str = attrs.field(validator=_text)
    trade_id: str = attrs.field(validator=_text)
    qty: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_positive)
    price: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_positive)
    # any sign: a maker rebate is a negative fee
    fee: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_finite)
    liquidity: Liquidity | None = attrs.field(default=None, converter=_to_liquidity,
                                              validator=_liquidity)
    fee_currency: str | None = attrs.field(default=None, validator=_optional_text)


@attrs.frozen
class OrderUpdate:
    """A pushed change of an order's status with the venue's cumulative filled quantity."""

    venue: str = attrs.field(validator=_text)
    symbol: str = attrs.field(validator=_text)
    client_id: str = attrs.field(validator=_text)
    status: OrderStatus = attrs.field(converter=_status_or_keep, validator=_status)
    filled: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_non_negative)


@attrs.frozen
class BookChanged:
    """A new book for one symbol; ``timestamp`` is the venue's stamp (seconds) if it gave one."""

    venue: str
    symbol: str
    book: Book
    timestamp: float | None = None


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


_fills = checks.validator(_fail, checks.Check(
    lambda value: isinstance(value, tuple) and all(isinstance(f, FillUpdate) for f in value),
    "a tuple of FillUpdate",
))


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
    qty: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_positive)
    filled: Decimal = attrs.field(converter=checks.decimal_or_keep, validator=_non_negative)
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
        """Push order, fill and book updates to ``handler``; returns an unsubscribe call.

        The engine decides inside ``handler``: a fill may make it call ``cancel`` or
        ``place`` on this or another venue before ``handler`` returns (each request's first
        step runs at once, in a task of its own). So call handlers when the adapter's own
        state is consistent, not in the middle of changing it, and iterate over a copy of
        the handler list."""
        ...
