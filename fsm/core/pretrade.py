"""Checks that run before anything is sent. A failure names the venue, the rule and the numbers.

``check_shape`` needs nothing but the request, so callers run it before any market
data is read; ``check_request`` runs it again (the Python API may call only that one)
and adds what the venues' rules and books decide.
"""

from __future__ import annotations

from fsm.core.config import EntryConfig, validate_budget, validate_offset
from fsm.core.ids import ENTRY_ID_EXPECTED, valid_entry_id
from fsm.core.quotes import quote_leg
from fsm.core.values import EntryRequest
from venues import checks
from venues.market import (
    Book,
    Leg,
    MarketRules,
)


class RequestError(ValueError):
    """The request cannot be executed as asked; nothing was sent."""


def check_shape(request: EntryRequest) -> None:
    """Refuse a request that is wrong whatever the markets say: its id, names, sizes."""
    if request.entry_id is not None and not valid_entry_id(request.entry_id):
        raise RequestError(f"entry_id {request.entry_id!r}: expected {ENTRY_ID_EXPECTED}")
    for leg in (Leg.LONG, Leg.SHORT):
        spec = request.leg(leg)
        for field in ("venue", "symbol"):
            if not isinstance(getattr(spec, field), str) or not getattr(spec, field).strip():
                raise RequestError(f"{leg.value} leg: {field} {getattr(spec, field)!r}: "
                                   "expected a non-empty name")
        where = f"{leg.value} leg on {spec.venue} {spec.symbol}"
        found = checks.quantity.problem(spec.qty)
        if found is not None:
            raise RequestError(f"{where}: quantity {spec.qty}: expected {found}")
        try:
            validate_offset(f"{where}: limit_price_offset_pct", spec.limit_price_offset_pct)
            for purpose in ("hedge", "trim", "rollback"):
                field = f"{purpose}_budget_bps"
                validate_budget(f"{where}: {field}", getattr(spec, field))
        except ValueError as exc:
            raise RequestError(str(exc)) from None
    if request.long.venue == request.short.venue:
        raise RequestError(f"both legs are on {request.long.venue!r}; expected two different "
                           "venues (a hedge on the same account would net out)")


def check_request(
    request: EntryRequest,
    config: EntryConfig,
    rules: dict[Leg, MarketRules],
    books: dict[Leg, Book],
) -> None:
    """Refuse a request no venue would accept, before a single order leaves.

    The books need no check here: a ``Book`` with an empty side or crossed cannot be
    built (``venues.market``), so a venue that returns one raises ``UnusableBook``."""
    check_shape(request)
    sizes = {}
    for leg in (Leg.LONG, Leg.SHORT):
        spec = request.leg(leg)
        where = f"{leg.value} leg on {spec.venue} {spec.symbol}"
        leg_rules, book = rules[leg], books[leg]
        quote = quote_leg(leg, request, config, leg_rules, book)
        qty = quote.qty
        if qty < leg_rules.min_qty or qty == 0:
            raise RequestError(
                f"{where}: quantity {spec.qty} rounds to {qty} at lot {leg_rules.lot}, "
                f"below the minimum quantity {leg_rules.min_qty}"
            )
        price = quote.price
        if price <= 0:
            raise RequestError(f"{where}: quote price {price} is not positive")

        if qty * price < leg_rules.min_notional:
            raise RequestError(
                f"{where}: notional {qty * price} ({qty} at {price}) is below the minimum "
                f"notional {leg_rules.min_notional}"
            )
        if qty * price > config.max_notional:
            raise RequestError(
                f"{where}: notional {qty * price} ({qty} at {price}) is above max_notional "
                f"{config.max_notional}; expected at most that (raise max_notional in the "
                "config for a larger entry)"
            )
        sizes[leg] = qty
    if sizes[Leg.LONG] != sizes[Leg.SHORT]:
        raise RequestError(
            f"the legs round to different sizes: long {sizes[Leg.LONG]} on "
            f"{request.long.venue}, short {sizes[Leg.SHORT]} on {request.short.venue}; "
            "ask for a quantity both lot sizes can express"
        )
