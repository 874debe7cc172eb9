"""Issue 14 on the exchange doubles: the fresh-book hedge after a move, and ccxt book feeds.

The long venue's book rallies 10% on the double (no push: the doubles serve books over
REST only) before the short quote fills; the entry reads the long book again before
pricing the hedge, and the hedge fills at the moved price. A market order that needs a
price (hyperliquid) takes the venue's latest book only while it is fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any

from fsm.core import invariants
from fsm.core.commands import ReadBook
from fsm.core.config import EntryConfig
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.engine import EntryEngine, Step
from tests.ccxtkit import SYMBOL, double_venue
from venues.ccxt.adapter import CcxtVenue
from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
)
from venues.protocol import BookChanged, VenueUpdate
from venues.sim.virtual_time import run_virtual

D = Decimal
MOVED = ([(D("65989.5"), D("2.0")), (D("65988.0"), D("5.0"))],
         [(D("65990.0"), D("2.0")), (D("65991.0"), D("5.0"))])


def test_hedge_after_a_move_on_the_doubles_is_priced_from_a_fresh_book() -> None:
    asyncio.run(_hedge_after_move())


async def _hedge_after_move() -> None:
    # the long book is refreshed only by the engine's read: a background poll (1 s by
    # default) could refresh it first when a loaded machine delays the fill past it
    async with double_venue("alpha", "binanceusdm", book_poll_interval_s=60.0) as long, \
            double_venue("beta", "bybit") as short:
        short.core.script.fill_after_create["q"] = 0.5
        # Real clock. The quote timeout only fires if the 0.5 s fill never shows. The
        # book age limit is under the fill's 0.5 s, so the long book read before the
        # quotes is stale at the fill and read again; with room to spare over the two
        # opening reads, which a loaded machine spreads apart.
        config = EntryConfig(quote_timeout_s=10.0, hedge_order="aggressive_limit",
                             hedge_max_slippage_pct="0.1", max_book_age_s=0.45)
        engine = EntryEngine({"alpha": long.venue, "beta": short.venue}, config)
        steps: list[Step] = []

        def listen(step: Step) -> None:
            if not steps:  # the books were read and the quotes priced: now the rally
                long.core.books["BTCUSDT"] = MOVED
            steps.append(step)

        engine.on_step(listen)
        request = EntryRequest(long=LegSpec("alpha", SYMBOL, D("0.5")),
                               short=LegSpec("beta", SYMBOL, D("0.5")), entry_id="mv1")
        try:
            result = await engine.enter(request)
        finally:
            await engine.close()
    sent = [c for step in steps for c in step.commands]
    assert [c for c in sent if isinstance(c, ReadBook)] == [ReadBook(Leg.LONG, "alpha", SYMBOL)]
    assert invariants.fresh_books(sent, config.max_book_age_s) == []
    assert result.final_state == "complete"
    [hedge] = [o for o in result.orders if o.purpose == "hedge"]
    assert (hedge.price, hedge.filled, hedge.average_price) == (
        D("65993.0"), D("0.5"), D("65990.0"))


# ------------------------------------------------------------------ the adapter's books

RULES = MarketRules(lot="0.001", tick="0.5", min_qty="0.001")
OLD = Book((BookLevel("60000.0", "1"),), (BookLevel("60000.5", "1"),))
NEW = Book((BookLevel("65989.5", "1"),), (BookLevel("65990.0", "1"),))


def _market_buy() -> PlaceOrder:
    return PlaceOrder("aeh1Lh1", "h", SYMBOL, Leg.LONG, Purpose.HEDGE, Side.BUY,
                      OrderKind.MARKET, D("0.5"), None)


def test_a_market_order_needing_a_price_reads_the_book_once_the_cached_one_is_stale() -> None:
    """hyperliquid sends a market order as an IOC limit around a price: from the latest
    book while it is fresh, from a book read now on the trading instance once stale
    (before: the cached book, however old: 60000.5 after a 10% rally)."""
    venue = CcxtVenue("h", "hyperliquid", max_book_age_s=2.0)
    reads: list[Any] = []

    async def fetch(exchange: Any, symbol: str, depth: int) -> Book:
        reads.append(exchange)
        venue.books.keep(symbol, NEW)
        return NEW

    venue._fetch_book = fetch  # type: ignore[method-assign]

    async def scenario() -> tuple[Decimal | None, Decimal | None]:
        venue.books.keep(SYMBOL, OLD)
        first = await venue._price_for(_market_buy(), RULES)
        await asyncio.sleep(3)  # virtual time
        return first, await venue._price_for(_market_buy(), RULES)

    assert run_virtual(scenario()) == (D("60000.5"), D("65990.0"))
    assert reads == [venue.trading]


class _Exchange:
    """A REST-only background instance whose book answers change, then fail once."""

    has: dict[str, bool] = {}

    def __init__(self) -> None:
        self.answers: list[Any] = [
            {"bids": [["60000", "1"]], "asks": [["60000.5", "1"]], "timestamp": 1_700_000_000_000},
            RuntimeError("boom"),
            {"bids": [["65989.5", "1"]], "asks": [["65990", "1"]], "timestamp": None},
        ]

    async def fetch_order_book(self, symbol: str, limit: int) -> dict[str, Any]:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)


def test_a_followed_book_is_polled_and_pushed_on_the_background_instance() -> None:
    venue = CcxtVenue("p", "binanceusdm")
    exchange = _Exchange()
    pushed: list[VenueUpdate] = []
    venue.books._exchange = exchange
    venue.books._contract_size = lambda symbol: D(1)
    venue.subscribe(pushed.append)

    async def ready() -> None:
        return None

    venue.start = ready  # type: ignore[method-assign]

    async def scenario() -> None:
        venue.books.follow(SYMBOL)
        await asyncio.sleep(0.5)  # the first poll
        await asyncio.sleep(1.2)  # the second fails; backoff 0.05 s, then the third
        await venue.books.stop()

    run_virtual(scenario())
    books = [u for u in pushed if isinstance(u, BookChanged)]
    assert [(u.book.best_ask, u.timestamp) for u in books[:2]] == [
        (D("60000.5"), 1_700_000_000.0), (D("65990"), None)]
    assert venue.books.failures == 1
    assert venue.books.books[SYMBOL].best_ask == D("65990")


def test_a_watched_book_is_pushed_at_most_once_per_interval() -> None:
    """A websocket sends dozens of books a second; each push is a journaled event of every
    entry on the symbol, so they are thinned (the latest is always kept for pricing)."""
    venue = CcxtVenue("w", "binanceusdm")
    pushed: list[VenueUpdate] = []
    venue.books._contract_size = lambda symbol: D(1)
    venue.subscribe(pushed.append)
    raw = {"bids": [["60000", "1"]], "asks": [["60000.5", "1"]]}

    async def scenario() -> None:
        for ask in ("60000.5", "60001", "60002"):
            venue.books.on_book(SYMBOL, dict(raw, asks=[[ask, "1"]]))
            await asyncio.sleep(0.15)
        await venue.books.stop()

    run_virtual(scenario())
    assert [u.book.best_ask for u in pushed if isinstance(u, BookChanged)] == [
        D("60000.5"), D("60002")]
    assert venue.books.books[SYMBOL].best_ask == D("60002")


def test_a_bybit_book_is_watched_at_a_depth_bybit_streams() -> None:
    """bybit's linear book streams come in 1, 50, 200 or 1000 levels, and ccxt refuses any
    other limit before connecting: the feed watched at its REST depth (20) never got one
    book, only a warning a second and REST reads (found running ``enter`` on the doubles)."""
    asked: list[Any] = []

    async def scenario() -> None:
        async with double_venue("b", "bybit") as double:
            exchange = double.venue.background
            await double.venue.market_rules(SYMBOL)  # markets loaded from the double

            async def topics(url: Any, hashes: Any, topics: Any, params: Any = None) -> Any:
                asked.append(topics)  # what ccxt would subscribe to: nothing is connected
                raise asyncio.CancelledError

            exchange.watch_topics = topics
            with contextlib.suppress(asyncio.CancelledError):
                await exchange.watch_order_book(SYMBOL, double.venue.books._watch_limit)

    run_virtual(scenario())
    assert asked == [["orderbook.50.BTCUSDT"]]
