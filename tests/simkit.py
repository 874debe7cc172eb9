"""Small builders over the simulated venue, for the tests that drive it.

Engine tests get two perp venues and a request (``venue``, ``request``); the simulator's
own tests get one venue "A" on a toy market with round numbers, where fills and fees
can be checked by hand, and a recorder of its pushes on virtual time (``venue_with``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from fsm.core.values import EntryRequest, LegSpec
from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
    OrderKind,
    OrderStatus,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)
from venues.protocol import FillUpdate, Liquidity, OrderUpdate, VenueUpdate
from venues.sim.venue import SimMarket, SimulatedVenue
from venues.sim.virtual_time import run_virtual

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


# -- one venue on a toy market, for the simulator's own tests --------------------------
# Times in those tests are binary-exact (0.25, 0.5, ...) so that virtual instants compare
# with ``==``.

T = TypeVar("T")

TOY_RULES = MarketRules(
    lot="0.1",
    tick="0.5",
    min_qty="0.2",
    min_notional="50",
    maker_fee="0.0002",
    taker_fee="0.0005",
)
AMEND_RULES = MarketRules(lot="0.1", tick="0.5", min_qty="0.1", supports_amend=True)
TOY_BOOK = Book(
    bids=(BookLevel("99", "2"), BookLevel("98", "3")),
    asks=(BookLevel("100", "1"), BookLevel("101", "2"), BookLevel("102", "5")),
)


def market(
    symbol: str = "BTC", rules: MarketRules = TOY_RULES, book: Book = TOY_BOOK, position: str = "0"
) -> SimMarket:
    return SimMarket(symbol=symbol, rules=rules, book=book, position=Decimal(position))


def order(
    cid: str,
    *,
    side: Side = Side.BUY,
    qty: str = "1",
    price: str | None = "99",
    kind: OrderKind = OrderKind.LIMIT,
    purpose: Purpose = Purpose.QUOTE,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    symbol: str = "BTC",
) -> PlaceOrder:
    return PlaceOrder(
        client_id=cid,
        venue="A",
        symbol=symbol,
        leg=Leg.LONG if side is Side.BUY else Leg.SHORT,
        purpose=purpose,
        side=side,
        kind=kind,
        qty=Decimal(qty),
        price=None if price is None else Decimal(price),
        time_in_force=tif,
        reduce_only=reduce_only,
    )


def fill(cid: str, n: int, qty: str, price: str, fee: str) -> FillUpdate:
    """A toy-venue fill; maker where the fee is the toy maker rate (0.0002), else taker."""
    rate = Decimal(fee) / (Decimal(qty) * Decimal(price))
    liquidity = Liquidity.MAKER if rate == Decimal("0.0002") else Liquidity.TAKER
    return FillUpdate("A", "BTC", cid, f"A-t{n}", Decimal(qty), Decimal(price), Decimal(fee),
                      liquidity)


def status(cid: str, st: OrderStatus, filled: str) -> OrderUpdate:
    return OrderUpdate("A", "BTC", cid, st, Decimal(filled))


class Recorder:
    """Records every pushed update with the virtual instant it arrived."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, VenueUpdate]] = []

    def __call__(self, update: VenueUpdate) -> None:
        self.seen.append((asyncio.get_running_loop().time(), update))

    @property
    def updates(self) -> list[VenueUpdate]:
        return [u for _, u in self.seen]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return run_virtual(coro)


def venue_with(*markets: SimMarket, **kwargs: Any) -> tuple[SimulatedVenue, Recorder]:
    venue = SimulatedVenue("A", markets or (market(),), **kwargs)
    recorder = Recorder()
    venue.subscribe(recorder)
    return venue, recorder


def now() -> float:
    return asyncio.get_running_loop().time()
