"""The entry behaviours atomic-entry replaces, rebuilt only to be measured against it.

Both follow the seed note and the executor it describes (see DESIGN.md, "Reference
points") over the same ``venues.protocol.Venue`` protocol and the same simulated venues
as the engine, so the benchmark compares behaviours, not simulators:

* ``wait_both_then_roll_back``: the 2024 ``AtomicMultiOrderExecutor``. It waits for
  *both* limit orders until the timeout, then cancels everything, pauses 0.5 s and
  flattens what filled with market orders.
* ``wait_both_then_market``: the executor the seed replaces, as the cost benchmark runs
  it (issue 16, strategy (b)): both legs quote, it waits for *both* until the timeout,
  then cancels what is open and buys or sells what each leg is missing at market. Same
  polling and pause as ``wait_both_then_roll_back``; it completes the entry instead of
  flattening it.
* ``poll_and_hedge``: the seed's first reactive version. It polls each order's status
  every 0.5 s; once a leg shows a fill it cancels the sibling and, without waiting for
  the cancel's answer, sends a market hedge for the filled size.

They are deliberately naive (no dedupe, no ambiguity handling, ``poll_and_hedge`` can
double-fill when the sibling fills during its cancel): never use them to trade.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from fsm.core.config import EntryConfig
from fsm.core.ids import client_order_id
from fsm.core.quotes import quote_leg
from fsm.core.values import EntryRequest
from venues import protocol as base
from venues.market import (
    Leg,
    OrderKind,
    PlaceOrder,
    Purpose,
    TimeInForce,
)

POLL_S = 0.5
ROLLBACK_PAUSE_S = 0.5


async def _place_quotes(
    venues: dict[Leg, base.Venue], request: EntryRequest, config: EntryConfig, tag: str
) -> dict[Leg, PlaceOrder]:
    quotes = {}
    for leg in (Leg.LONG, Leg.SHORT):
        spec = request.leg(leg)
        rules = await venues[leg].market_rules(spec.symbol)
        book = await venues[leg].book(spec.symbol)
        quote = quote_leg(leg, request, config, rules, book)
        quotes[leg] = PlaceOrder(
            client_order_id(tag, leg, Purpose.QUOTE, 1), spec.venue, spec.symbol, leg,
            Purpose.QUOTE, leg.side, OrderKind.LIMIT, quote.qty, quote.price,
        )
    await asyncio.gather(*(venues[leg].place(quotes[leg]) for leg in quotes))
    return quotes


def _market(order: PlaceOrder, purpose: Purpose, side_of: Leg, qty: Decimal,
            reduce_only: bool, tag: str) -> PlaceOrder:
    side = side_of.side if purpose is Purpose.HEDGE else order.side.opposite
    return PlaceOrder(
        client_order_id(tag, order.leg, purpose, 1), order.venue, order.symbol, order.leg,
        purpose, side, OrderKind.MARKET, qty, None, TimeInForce.IOC, reduce_only,
    )


async def _filled(venue: base.Venue, order: PlaceOrder) -> Decimal:
    return (await venue.query(order.symbol, order.client_id)).filled


async def _wait_both_then_cancel(
    venues: dict[Leg, base.Venue], request: EntryRequest, config: EntryConfig, tag: str,
) -> dict[Leg, PlaceOrder] | None:
    """The seed's wait: quote both legs, poll until both filled (None) or the quote
    timeout; then cancel both quotes and pause, and hand back the quotes to act on."""
    quotes = await _place_quotes(venues, request, config, tag)
    deadline = asyncio.get_running_loop().time() + config.quote_timeout_s
    while asyncio.get_running_loop().time() < deadline:
        filled = [await _filled(venues[leg], quotes[leg]) for leg in quotes]
        if all(f >= quotes[leg].qty for f, leg in zip(filled, quotes, strict=True)):
            return None
        await asyncio.sleep(POLL_S)
    for leg, quote in quotes.items():
        with contextlib.suppress(base.OrderNotFound):
            await venues[leg].cancel(quote.symbol, quote.client_id)
    await asyncio.sleep(ROLLBACK_PAUSE_S)
    return quotes


async def wait_both_then_roll_back(
    venues: dict[Leg, base.Venue], request: EntryRequest, config: EntryConfig, tag: str,
) -> None:
    """Wait for both legs until the quote timeout; then cancel, pause and flatten."""
    quotes = await _wait_both_then_cancel(venues, request, config, tag)
    for leg, quote in (quotes or {}).items():
        size = await _filled(venues[leg], quote)
        if size > 0:
            await venues[leg].place(_market(quote, Purpose.ROLLBACK, leg, size, True, tag))


async def wait_both_then_market(
    venues: dict[Leg, base.Venue], request: EntryRequest, config: EntryConfig, tag: str,
) -> None:
    """Wait for both legs until the quote timeout; then cancel, pause and take the rest."""
    quotes = await _wait_both_then_cancel(venues, request, config, tag)
    for leg, quote in (quotes or {}).items():
        missing = quote.qty - await _filled(venues[leg], quote)
        if missing > 0:
            await venues[leg].place(_market(quote, Purpose.HEDGE, leg, missing, False, tag))


async def poll_and_hedge(
    venues: dict[Leg, base.Venue], request: EntryRequest, config: EntryConfig, tag: str,
) -> None:
    """Poll every 0.5 s; on a fill, cancel the sibling and market-hedge at once."""
    quotes = await _place_quotes(venues, request, config, tag)
    deadline = asyncio.get_running_loop().time() + config.quote_timeout_s
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(POLL_S)
        for leg, quote in quotes.items():
            size = await _filled(venues[leg], quote)
            if size == 0:
                continue
            sibling = quotes[leg.other]
            hedge = _market(sibling, Purpose.HEDGE, leg.other, size, False, tag)
            with contextlib.suppress(base.OrderNotFound):
                await asyncio.gather(
                    venues[leg.other].cancel(sibling.symbol, sibling.client_id),
                    venues[leg.other].place(hedge),
                )
            return
