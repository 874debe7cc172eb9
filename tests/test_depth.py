"""Depth arithmetic (venues.depth) against a brute-force walk, lot by lot.

The brute force shares nothing with the code under test: it expands every level into
single lots, sorts all lots by price for the taker, and takes the first ``n``. Prices
and sizes are whole multiples of a tick and a lot, so both sides are exact in Decimal.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import count_example, examples
from venues import depth
from venues.market import Book, BookLevel, Side

D = Decimal
LOT = D("0.001")
TICK = D("0.5")
MID = D("60000")


@st.composite
def books(draw: st.DrawFn) -> Book:
    """A valid book around MID: strictly ordered levels of positive size on both sides
    (``Book`` refuses an empty side, a crossed book and a level of size 0)."""
    def side(sign: int) -> tuple[BookLevel, ...]:
        gaps = draw(st.lists(st.integers(1, 20), min_size=1, max_size=8))
        sizes = draw(st.lists(st.integers(1, 3000), min_size=len(gaps), max_size=len(gaps)))
        levels, ticks = [], 0
        for gap, size in zip(gaps, sizes, strict=True):
            ticks += gap
            levels.append(BookLevel(MID + sign * ticks * TICK, size * LOT))
        return tuple(levels)
    return Book(bids=side(-1), asks=side(1))


def lots(book: Book, side: Side) -> list[Decimal]:
    """Every lot on the taker's opposite side, cheapest for the taker first."""
    levels = book.asks if side is Side.BUY else book.bids
    units = [level.price for level in levels for _ in range(int(level.qty / LOT))]
    return sorted(units, reverse=side is Side.SELL)


sides = st.sampled_from([Side.BUY, Side.SELL])
quantities = st.integers(1, 20000).map(lambda n: n * LOT)


@settings(max_examples=examples(2))
@given(book=books(), side=sides, qty=quantities)
def test_sweep_matches_a_lot_by_lot_walk(book: Book, side: Side, qty: Decimal) -> None:
    count_example("depth sweep")
    units = lots(book, side)
    n = int(qty / LOT)
    taken = units[:n]
    result = depth.sweep(book, side, qty)
    if len(units) >= n:
        assert isinstance(result, depth.Sweep)
        assert result.notional == sum(taken, D(0)) * LOT
        assert result.worst == taken[-1]
        assert result.average == sum(taken, D(0)) * LOT / qty
        assert depth.average_price(book, side, qty) == result.average
        assert depth.worst_price(book, side, qty) == taken[-1]
    else:
        assert isinstance(result, depth.Shortfall)
        assert result.available == len(units) * LOT
        assert result.missing == qty - len(units) * LOT
        assert result.worst == (taken[-1] if taken else None)
        assert result.average == (sum(taken, D(0)) / len(taken) if taken else None)
        assert depth.average_price(book, side, qty) == result
        assert depth.impact_vs_mid(book, side, qty) == result if book.bids and book.asks \
            else True


@settings(max_examples=examples(2))
@given(book=books(), side=sides, ticks=st.integers(-5, 200))
def test_quantity_up_to_a_price_counts_every_lot_within_it(
    book: Book, side: Side, ticks: int
) -> None:
    count_example("depth quantity up to")
    limit = MID + side.sign * ticks * TICK
    units = lots(book, side)
    within = [p for p in units if (p <= limit if side is Side.BUY else p >= limit)]
    assert depth.quantity_up_to(book, side, limit) == len(within) * LOT
    # and that much can be swept without trading beyond the limit
    if within:
        result = depth.sweep(book, side, len(within) * LOT)
        assert isinstance(result, depth.Sweep)
        assert depth.within(side, result.worst, limit)


@settings(max_examples=examples(1))
@given(book=books().filter(lambda b: bool(b.bids and b.asks)), side=sides, qty=quantities)
def test_impact_is_a_cost_never_below_the_touch(book: Book, side: Side, qty: Decimal) -> None:
    count_example("depth impact")
    mid_impact = depth.impact_vs_mid(book, side, qty)
    micro_impact = depth.impact_vs_micro(book, side, qty)
    taken = depth.sweep(book, side, qty)
    if isinstance(taken, depth.Shortfall):
        assert mid_impact == taken and micro_impact == taken
        return
    assert isinstance(mid_impact, Decimal) and isinstance(micro_impact, Decimal)
    touch = book.far_touch(side)
    # the average is never better than the touch, so the cost is at least half the spread
    assert mid_impact >= depth.cost_bps(side, touch, book.mid) >= 0
    assert taken.worst_impact_bps(book.mid) >= mid_impact
    assert mid_impact == (taken.average - book.mid) * side.sign / book.mid * 10_000


def test_micro_price_leans_toward_the_thin_side() -> None:
    heavy_bid = Book(bids=(BookLevel("99", "9"),), asks=(BookLevel("101", "1"),))
    assert depth.micro_price(heavy_bid) == D("100.8")  # (99*1 + 101*9) / 10
    even = Book(bids=(BookLevel("99", "2"),), asks=(BookLevel("101", "2"),))
    assert depth.micro_price(even) == even.mid


def test_a_book_that_cannot_fill_says_how_much_it_has() -> None:
    book = Book(bids=(BookLevel("99", "1"),), asks=(BookLevel("101", "1"), BookLevel("102", "1")))
    assert depth.sweep(book, Side.BUY, D("3")) == depth.Shortfall(
        Side.BUY, D("3"), available=D("2"), notional=D("203"), worst=D("102"))
    thin = depth.sweep(book, Side.SELL, D("1.5"))
    assert isinstance(thin, depth.Shortfall) and thin.available == D("1")
    assert thin.worst == D("99")


def test_impact_in_bps_from_a_known_book() -> None:
    book = Book(bids=(BookLevel("99", "1"),), asks=(BookLevel("101", "1"), BookLevel("103", "1")))
    # buy 2 at an average of 102 against a mid of 100: 200 bps
    assert depth.impact_vs_mid(book, Side.BUY, D("2")) == D("200")
    # sell 1 at 99 against the micro-price (99*1 + 101*1)/2 = 100: 100 bps
    assert depth.impact_vs_micro(book, Side.SELL, D("1")) == D("100")


def test_quantity_up_to_includes_the_level_at_the_limit() -> None:
    book = Book(bids=(BookLevel("99", "1"), BookLevel("98", "2")),
                asks=(BookLevel("101", "1"), BookLevel("102", "2")))
    assert depth.quantity_up_to(book, Side.BUY, D("102")) == D("3")
    assert depth.quantity_up_to(book, Side.BUY, D("101.5")) == D("1")
    assert depth.quantity_up_to(book, Side.SELL, D("98")) == D("3")
    assert depth.quantity_up_to(book, Side.SELL, D("99.5")) == D("0")


@settings(max_examples=examples(1))
@given(book=books().filter(lambda b: bool(b.bids and b.asks)), side=sides,
       budget=st.integers(0, 200).map(Decimal))
def test_what_a_budget_allows_never_costs_more_than_the_budget(
    book: Book, side: Side, budget: Decimal
) -> None:
    count_example("depth budget")
    limit = depth.budget_price(side, book.mid, budget)
    allowed = depth.quantity_up_to(book, side, limit)
    assert depth.cost_bps(side, limit, book.mid) == budget
    if allowed > 0:
        taken = depth.sweep(book, side, allowed)
        assert isinstance(taken, depth.Sweep)
        assert taken.worst_impact_bps(book.mid) <= budget
        assert taken.impact_bps(book.mid) <= budget
    # one lot more than allowed reaches past the limit, or past the book
    beyond = depth.sweep(book, side, allowed + LOT)
    assert isinstance(beyond, depth.Shortfall) or not depth.within(side, beyond.worst, limit)
