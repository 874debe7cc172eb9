"""Small builders for engine tests: two simulated venues and a request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from venues.market import (
    Book,
    BookLevel,
    MarketRules,
)
from venues.sim.venue import SimMarket, SimulatedVenue

SYMBOL = "BTC/USDT:USDT"
RULES = MarketRules(lot="0.001", tick="0.5", min_qty="0.001", min_notional="5",
                    maker_fee="0.0002", taker_fee="0.0005")
BOOK = Book(
    (BookLevel("60000.0", "2"), BookLevel("59999.0", "5"), BookLevel("59990.0", "20")),
    (BookLevel("60000.5", "2"), BookLevel("60001.5", "5"), BookLevel("60010.0", "20")),
)


def venue(name: str, *, position: str = "0", rules: MarketRules = RULES, **kwargs: Any
          ) -> SimulatedVenue:
    kwargs.setdefault("latency_s", 0.025)
    kwargs.setdefault("request_timeout_s", 0.5)
    market = SimMarket(SYMBOL, rules, BOOK, Decimal(position))
    return SimulatedVenue(name, [market], **kwargs)


def request(qty: str = "0.5", entry_id: str = "t1") -> EntryRequest:
    return EntryRequest(LegSpec("alpha", SYMBOL, qty), LegSpec("beta", SYMBOL, qty),
                        entry_id=entry_id)
