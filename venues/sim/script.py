"""What a scenario may script the simulated venue to do, refused at construction when meaningless.

The script is the test's intent: a reaction that can never fire, a fill at a negative
time or an outage that ends before it starts would make a scenario silently test nothing.
So every scripted value checks itself here (with ``venues.checks``), apart from the
venue that carries it out.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, Literal, NoReturn

import attrs

from venues import checks
from venues.market import Book, BookLevel, MarketRules, Purpose, to_decimal
from venues.sim.matching import ZERO

__all__ = [
    "CANCEL_NEEDS_LIVE_ORDER",
    "NEEDS_LIVE_ORDER",
    "Liquidity",
    "Outage",
    "Reaction",
    "ReactionAction",
    "ScriptedBook",
    "ScriptedFill",
    "SimMarket",
]

def _optional_decimal(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _must(instance: Any, attribute: attrs.Attribute[Any], value: Any, expected: str) -> NoReturn:
    raise ValueError(f"{type(instance).__name__}.{attribute.name} must be {expected}, got {value}")


# Script values are typed by the code that builds them (scenario files are checked
# first, with their own wording); what is left to refuse is a sign.
_non_negative = checks.validator(_must, checks.Check(lambda value: value >= 0, ">= 0"))
_positive_or_none = checks.validator(
    _must, checks.Check(lambda value: value > 0, "> 0"), optional=True
)


@attrs.frozen
class Liquidity:
    """The outside liquidity a simulated market holds: unlike a ``Book``, a side may be
    empty (scripted so, or drained by taker orders); reading it then is refused."""

    bids: tuple[BookLevel, ...] = ()
    asks: tuple[BookLevel, ...] = ()

    @property
    def mid(self) -> Decimal:
        """The mid of the book it makes (``BookError`` if it makes none)."""
        return Book(self.bids, self.asks).mid


def _liquidity(value: Book | Liquidity) -> Liquidity:
    return value if isinstance(value, Liquidity) else Liquidity(value.bids, value.asks)


@attrs.frozen
class SimMarket:
    """One symbol as the venue starts: its rules, the outside book and a position carried in."""

    symbol: str
    rules: MarketRules
    book: Liquidity = attrs.field(converter=_liquidity)
    position: Decimal = attrs.field(default=ZERO, converter=to_decimal)


@attrs.frozen
class ScriptedFill:
    """At ``at_s`` after start, fill the oldest live order of ``purpose`` (a maker fill)."""

    at_s: float = attrs.field(validator=_non_negative)
    purpose: Purpose = Purpose.QUOTE
    qty: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_positive_or_none
    )
    price: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_positive_or_none
    )
    symbol: str | None = None


@attrs.frozen
class ScriptedBook:
    """At ``at_s`` after start, the outside liquidity of ``symbol`` becomes ``book``.

    ``pushed``: the venue pushes the new book to its subscribers (a venue with a book
    stream); False: it only changes what a read of the book answers (a venue polled over
    REST, or a stream that missed the move), so the engine learns of it only by asking.
    """

    at_s: float = attrs.field(validator=_non_negative)
    book: Liquidity = attrs.field(converter=_liquidity)
    symbol: str | None = None
    pushed: bool = True


class ReactionAction(enum.Enum):
    """The ways a real venue's answer departs from the happy path that the engine must survive."""

    # cancel: a maker fill of ``qty`` lands first; the ack carries the cumulative filled
    # (when that fill completes the order, the cancel answers OrderNotFound instead).
    FILL_THEN_CANCEL = "fill_then_cancel"
    # cancel: the whole remainder fills first; the order is gone, so OrderNotFound.
    FILL_THEN_NOT_FOUND = "fill_then_not_found"
    # place, cancel, query, amend: OrderRejected and nothing changes (a canceled order stays live).
    REJECT = "reject"
    # place, cancel, query, amend: the answer is lost; OutcomeUnknown after the request timeout.
    # ``live``: the venue did process the request; otherwise it never arrived.
    TIMEOUT = "timeout"
    # place of a marketable order: only ``qty`` fills, the remainder expires like an IOC.
    PARTIAL = "partial"
    # place, cancel, query, amend: VenueUnavailable (connection refused, 503): the request
    # definitely was not processed, and says so after one round trip.
    UNAVAILABLE = "unavailable"


_ALLOWED_ACTIONS: dict[str, frozenset[ReactionAction]] = {
    "place": frozenset({ReactionAction.REJECT, ReactionAction.TIMEOUT, ReactionAction.PARTIAL,
                        ReactionAction.UNAVAILABLE}),
    "cancel": frozenset(
        {
            ReactionAction.FILL_THEN_CANCEL,
            ReactionAction.FILL_THEN_NOT_FOUND,
            ReactionAction.REJECT,
            ReactionAction.TIMEOUT,
            ReactionAction.UNAVAILABLE,
        }
    ),
    "query": frozenset({ReactionAction.REJECT, ReactionAction.TIMEOUT,
                        ReactionAction.UNAVAILABLE}),
    "amend": frozenset({ReactionAction.REJECT, ReactionAction.TIMEOUT,
                        ReactionAction.UNAVAILABLE}),
}
_NEEDS_QTY = frozenset({ReactionAction.FILL_THEN_CANCEL, ReactionAction.PARTIAL})
NEEDS_LIVE_ORDER = frozenset({ReactionAction.FILL_THEN_CANCEL, ReactionAction.FILL_THEN_NOT_FOUND})
# A cancel is refused only while the order rests: a venue asked to cancel an order that
# already filled or ended answers "not found" (ccxt's OrderNotFound), never "refused,
# still live"; a scripted refusal waits for a cancel it can truthfully refuse.
CANCEL_NEEDS_LIVE_ORDER = NEEDS_LIVE_ORDER | {ReactionAction.REJECT}


@attrs.frozen
class Reaction:
    """How the venue answers the next ``times`` matching requests instead of normally.

    Refused at construction when meaningless (a PARTIAL cancel, a FILL_THEN_CANCEL with no
    quantity): a scenario that silently never fires would test nothing.
    """

    on: Literal["place", "cancel", "query", "amend"]
    action: ReactionAction
    purpose: Purpose | None = None
    qty: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_positive_or_none
    )
    live: bool = False
    times: int = 1

    def __attrs_post_init__(self) -> None:
        allowed = _ALLOWED_ACTIONS.get(self.on)
        if allowed is None:
            raise ValueError(
                f"Reaction.on: got {self.on!r}, expected place, cancel, query or amend"
            )
        if self.action not in allowed:
            names = ", ".join(sorted(a.value for a in allowed))
            raise ValueError(
                f"Reaction: {self.action.value} does not apply to {self.on}; expected {names}"
            )
        if self.action in _NEEDS_QTY and self.qty is None:
            raise ValueError(f"Reaction: {self.action.value} needs a qty")
        if self.times < 1:
            raise ValueError(f"Reaction.times must be >= 1, got {self.times}")


@attrs.frozen
class Outage:
    """From ``from_s`` after start until ``until_s`` (``None``: for good), every order request
    (place, cancel, query, amend) fails with ``VenueUnavailable``, unprocessed.

    Market data and positions still answer: the order gateway is what is down (and the
    harness reads the venue's truth through them).
    """

    from_s: float = attrs.field(validator=_non_negative)
    until_s: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.until_s is not None and self.until_s <= self.from_s:
            raise ValueError(
                f"Outage.until_s must be after from_s ({self.from_s}), got {self.until_s}"
            )

    def covers(self, elapsed_s: float) -> bool:
        return self.from_s <= elapsed_s and (self.until_s is None or elapsed_s < self.until_s)

