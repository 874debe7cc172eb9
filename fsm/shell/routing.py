"""Venue pushes to the entries they concern: which live entry owns a client order id,
which entries' legs read a (venue, symbol) book, and which finished entry an order
belonged to (so a late report is logged, not lost silently).

Kept apart from the engine because it is the one part of the shell that many entries
share: lookups must stay O(1) with thousands of live entries, and retiring one entry
must not touch the others.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from loguru import logger

from fsm.core import events as ev
from fsm.shell.actor import Actor
from venues import protocol as base
from venues.market import Leg

#: Finished orders remembered for late reports; beyond this, they are forgotten oldest first.
FINISHED_MEMORY = 10_000

_LEGS = (Leg.LONG, Leg.SHORT)
_ALONE = {Leg.LONG: (Leg.LONG,), Leg.SHORT: (Leg.SHORT,)}  # shared: none per entry for gc


class Routes:
    """Who hears each push: an order's owner by (venue, client id), a book's readers."""

    def __init__(self) -> None:
        self._orders: dict[tuple[str, str], Actor] = {}
        # (venue, symbol) -> the entries that read its book, with their legs that do; a dict,
        # so retiring one entry among thousands on one symbol costs O(1), not O(n).
        self._books: dict[tuple[str, str], dict[Actor, tuple[Leg, ...]]] = {}
        self._finished: OrderedDict[tuple[str, str], str] = OrderedDict()

    def admit(self, actor: Actor) -> None:
        """The entry's legs read their books from now on."""
        for leg in _LEGS:
            spec = actor.model.request.leg(leg)
            routes = self._books.setdefault((spec.venue, spec.symbol), {})
            routes[actor] = _LEGS if actor in routes else _ALONE[leg]  # long comes first

    def own(self, venue: str, client_id: str, actor: Actor) -> None:
        """Reports about ``client_id`` on ``venue`` go to ``actor``."""
        self._orders[(venue, client_id)] = actor

    def retire(self, actor: Actor) -> None:
        """The entry hears nothing more; its orders are remembered as finished."""
        model = actor.model
        for record in model.ledger:
            key = (record.command.venue, record.client_id)
            self._orders.pop(key, None)
            self._finished[key] = model.entry_id
        while len(self._finished) > FINISHED_MEMORY:
            self._finished.popitem(last=False)
        for leg in _LEGS:
            spec = model.request.leg(leg)
            self._books.get((spec.venue, spec.symbol), {}).pop(actor, None)

    def deliver(self, venue: str, update: base.VenueUpdate) -> None:
        """Post ``update`` to the entries it concerns, as the event that says it."""
        now = asyncio.get_running_loop().time()
        if not isinstance(update, base.FillUpdate | base.OrderUpdate | base.BookChanged):
            # An adapter bug; dropping it loses nothing a query by client id cannot recover.
            logger.bind(venue=venue).error("{}: dropped a push that is no venue update: {!r}",
                                           venue, update)
            return
        if isinstance(update, base.BookChanged):
            for actor, legs in list(self._books.get((venue, update.symbol), {}).items()):
                for leg in legs:
                    actor.post(ev.BookUpdate(now, leg, update.book, update.timestamp))
            return
        owner = self._orders.get((venue, update.client_id))
        if owner is None:
            self._unrouted(venue, update)
            return
        match update:
            case base.FillUpdate():
                owner.post(ev.FillReport(now, update.client_id, update.trade_id, update.qty,
                                         update.price, update.fee, update.liquidity,
                                         update.fee_currency))
            case base.OrderUpdate():
                owner.post(ev.StatusReport(now, update.client_id, update.status,
                                           update.filled))

    def _unrouted(self, venue: str, update: base.FillUpdate | base.OrderUpdate) -> None:
        entry_id = self._finished.get((venue, update.client_id))
        if entry_id is None:
            logger.bind(venue=venue).debug("{}: update for an order of no entry: {}", venue,
                                           update)
        elif isinstance(update, base.FillUpdate):
            logger.bind(entry_id=entry_id, venue=venue).warning(
                "{}: fill {} reported after entry {} ended", venue, update.trade_id, entry_id)
