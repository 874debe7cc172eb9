"""The one quote plan: the sizes and prices every user of it (model, checks, dry run) sends."""

from __future__ import annotations

from decimal import Decimal

from fsm.core import events as ev
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.quotes import plan_quotes
from fsm.core.values import EntryRequest, LegSpec
from venues.market import Book, BookLevel, Leg, MarketRules, OrderKind, PlaceOrder, Purpose

D = Decimal
RULES = MarketRules(lot=D("0.001"), tick=D("0.5"), min_qty=D("0.001"), min_notional=D("5"))
BOOK = Book(bids=(BookLevel(D("60000"), D("1")),), asks=(BookLevel(D("60001"), D("1")),))
BOOKS = {Leg.LONG: BOOK, Leg.SHORT: BOOK}
RULES_BY_LEG = {Leg.LONG: RULES, Leg.SHORT: RULES}
CONFIG = EntryConfig(limit_order_offset_pct=D("0.0001"))
REQUEST = EntryRequest(
    LegSpec("alpha", "BTC", D("0.5004")),
    LegSpec("beta", "BTC", D("0.5004"), limit_price_offset_pct=D("0.001")),
    entry_id="q1",
)


def test_sizes_round_down_prices_round_toward_our_side_and_a_leg_offset_wins() -> None:
    plan = plan_quotes(REQUEST, CONFIG, RULES_BY_LEG, BOOKS)
    assert list(plan) == [Leg.LONG, Leg.SHORT]
    long, short = plan[Leg.LONG], plan[Leg.SHORT]
    assert long.qty == short.qty == D("0.500")
    # buy: 0.0001 behind the ask 60001 is 59994.9999, rounded down to the tick
    assert (long.offset, long.price) == (D("0.0001"), D("59994.5"))
    # sell: the leg's own 0.001 behind the bid 60000 is 60060, already on the tick
    assert (short.offset, short.price) == (D("0.001"), D("60060.0"))
    assert short.notional == short.qty * short.price


def test_the_model_sends_the_planned_quotes() -> None:
    model = EntryModel("q1", REQUEST, CONFIG)
    try:
        commands = model.handle(ev.Start(0.0, BOOKS, RULES_BY_LEG, {leg: D(0) for leg in Leg}))
    finally:
        model.detach()
    sent = {c.leg: (c.qty, c.price) for c in commands
            if isinstance(c, PlaceOrder) and c.purpose is Purpose.QUOTE}
    assert all(c.kind is OrderKind.LIMIT for c in commands if isinstance(c, PlaceOrder))
    plan = plan_quotes(REQUEST, CONFIG, RULES_BY_LEG, BOOKS)
    assert sent == {leg: (q.qty, q.price) for leg, q in plan.items()}
