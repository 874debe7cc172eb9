"""Checks that run before anything is sent. A failure names the venue, the rule and the numbers.

``check_shape`` needs nothing but the request, so callers run it before any market
data is read; ``check_request`` runs it again (the Python API may call only that one)
and adds what the venues' rules and books decide.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from fsm.core.config import EntryConfig, validate_budget, validate_offset
from fsm.core.ids import ENTRY_ID_EXPECTED, valid_entry_id
from fsm.core.pricing import round_down, round_price
from fsm.core.quotes import quote_leg
from fsm.core.values import EntryRequest
from venues import checks, depth
from venues.market import (
    Book,
    Leg,
    MarketRules,
    Purpose,
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


def hedge_room(leg: Leg, request: EntryRequest, config: EntryConfig, rules: MarketRules,
               book: Book) -> Decimal:
    """How much a hedge on ``leg`` could take from ``book`` within its hedge budget, in lots.

    Either leg may be the one to hedge (whichever quote fills second), so each leg's
    book must hold the size within its own budget, measured from its mid."""
    budget = config.budget_bps(Purpose.HEDGE, request.leg(leg).budget_override(Purpose.HEDGE))
    side = leg.side
    limit = round_price(depth.budget_price(side, book.mid, budget), rules.tick, side)
    return round_down(depth.quantity_up_to(book, side, limit), rules.lot)


def _projected(book: Book, leg: Leg, qty: Decimal) -> str:
    taken = depth.sweep(book, leg.side, qty)
    if isinstance(taken, depth.Shortfall):
        return f"the book holds only {taken.available} on that side"
    return (f"projected impact {taken.impact_bps(book.mid):.1f} bp on average, "
            f"{taken.worst_impact_bps(book.mid):.1f} bp at the last level")


def fit_to_budget(
    request: EntryRequest,
    config: EntryConfig,
    rules: dict[Leg, MarketRules],
    books: dict[Leg, Book],
) -> EntryRequest:
    """The request as it can be done within the hedge budget at the arrival books.

    Checked first as ``check_request`` does. A size one leg's book cannot hedge within
    budget is downsized on both legs to what both can (``downsized_from`` keeps the size
    asked), while that is still above every venue minimum; otherwise refused, naming the
    venue, the size and the projected impact. Nothing has been sent either way.
    """
    check_request(request, config, rules, books)
    qty = quote_leg(Leg.LONG, request, config, rules[Leg.LONG], books[Leg.LONG]).qty
    room = {leg: hedge_room(leg, request, config, rules[leg], books[leg])
            for leg in (Leg.LONG, Leg.SHORT)}
    thin = min((Leg.LONG, Leg.SHORT), key=lambda leg: room[leg])
    fit = round_down(room[thin], max(r.lot for r in rules.values()))
    if fit >= qty:
        return request
    spec = request.leg(thin)
    budget = config.budget_bps(Purpose.HEDGE, spec.budget_override(Purpose.HEDGE))
    head = (f"{thin.value} leg on {spec.venue} {spec.symbol}: {qty} cannot be hedged within "
            f"the hedge budget of {budget} bp at the arrival book "
            f"({_projected(books[thin], thin, qty)})")
    if fit == 0:
        raise RequestError(f"{head}; nothing can be")
    smaller = attrs.evolve(request, long=attrs.evolve(request.long, qty=fit),
                           short=attrs.evolve(request.short, qty=fit), downsized_from=qty)
    try:
        check_request(smaller, config, rules, books)
    except RequestError as exc:
        raise RequestError(f"{head}; {fit} could be, but: {exc}") from None
    return smaller
