"""The quote plan: what each leg's opening maker quote is, from request, config, rules, books.

The model sends these quotes, the pre-trade checks refuse a request whose quotes no
venue would take, the dry run prints them and the benchmark baselines rest them. They
must be the same quotes, so they are computed once, here, as a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from fsm.core.config import EntryConfig
from fsm.core.pricing import quote_price, round_down
from fsm.core.values import EntryRequest
from venues.market import Book, Leg, MarketRules, Side

__all__ = ["LegQuote", "plan_quotes", "quote_leg"]


@attrs.frozen
class LegQuote:
    """One leg's opening quote: a GTC limit on the leg's side, sized down to the lot."""

    leg: Leg
    qty: Decimal
    price: Decimal
    offset: Decimal

    @property
    def side(self) -> Side:
        return self.leg.side

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


def quote_leg(
    leg: Leg, request: EntryRequest, config: EntryConfig, rules: MarketRules, book: Book
) -> LegQuote:
    """The leg's quote; its own ``limit_price_offset_pct`` wins over the config's.

    The book must have both sides (``check_request`` refuses one that does not).
    """
    spec = request.leg(leg)
    offset = spec.limit_price_offset_pct
    if offset is None:
        offset = config.limit_order_offset_pct
    price = quote_price(book, leg.side, offset, rules.tick)
    return LegQuote(leg, round_down(spec.qty, rules.lot), price, offset)


def plan_quotes(
    request: EntryRequest,
    config: EntryConfig,
    rules: Mapping[Leg, MarketRules],
    books: Mapping[Leg, Book],
) -> dict[Leg, LegQuote]:
    """Both legs' quotes, long first (the order they are sent in)."""
    return {
        leg: quote_leg(leg, request, config, rules[leg], books[leg])
        for leg in (Leg.LONG, Leg.SHORT)
    }
