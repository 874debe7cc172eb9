"""What an entry reads of its two markets: rules, book and position before it starts, and
the positions again once it has ended (the result reports both).

Kept apart from the engine, which decides nothing about markets either: a symbol a venue
does not list is bad input here (``RequestError``), before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal

from fsm.core.pretrade import RequestError
from fsm.core.values import EntryRequest
from venues import protocol as base
from venues.market import Book, Leg, MarketRules

LEGS = (Leg.LONG, Leg.SHORT)


async def read(
    request: EntryRequest, venues: Mapping[Leg, base.Venue]
) -> tuple[dict[Leg, MarketRules], dict[Leg, Book], dict[Leg, Decimal]]:
    """Rules, books and positions per leg, both legs' markets read at once."""
    snapshot = await asyncio.gather(*(_snapshot(leg, request, venues[leg]) for leg in LEGS))
    return ({leg: snapshot[i][0] for i, leg in enumerate(LEGS)},
            {leg: snapshot[i][1] for i, leg in enumerate(LEGS)},
            {leg: snapshot[i][2] for i, leg in enumerate(LEGS)})


async def positions(
    request: EntryRequest, venues: Mapping[Leg, base.Venue], start: Mapping[Leg, Decimal],
    on_unread: Callable[[str, Exception], None],
) -> dict[str, dict[str, Decimal]]:
    """Each venue's position at the entry's start and now, by venue name.

    The entry has ended when this runs: a venue that cannot say its position now must not
    cost the caller the result (its orders, fills, alerts). That venue reports ``start``
    only, and ``on_unread`` hears why.
    """
    end = await asyncio.gather(*(venues[leg].position(request.leg(leg).symbol) for leg in LEGS),
                               return_exceptions=True)
    out: dict[str, dict[str, Decimal]] = {}
    for leg, now in zip(LEGS, end, strict=True):
        name = request.leg(leg).venue
        out[name] = {"start": start[leg]}
        if isinstance(now, BaseException):
            if not isinstance(now, Exception):
                raise now
            on_unread(name, now)
        else:
            out[name]["end"] = now
    return out


async def _snapshot(
    leg: Leg, request: EntryRequest, venue: base.Venue
) -> tuple[MarketRules, Book, Decimal]:
    """Rules, book and position of one leg's market; a symbol the venue lacks is bad input."""
    spec = request.leg(leg)
    try:
        return await asyncio.gather(
            venue.market_rules(spec.symbol), venue.book(spec.symbol),
            venue.position(spec.symbol),
        )
    except (base.OrderRejected, base.OrderNotFound) as exc:
        raise RequestError(
            f"{leg.value} leg on {spec.venue}: cannot read market {spec.symbol!r} ({exc}); "
            f"expected a symbol {spec.venue} lists"
        ) from None
