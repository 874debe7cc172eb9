"""The execution planner (fsm.core.planner): the issue's arithmetic, its three cases, and
the two properties a plan must keep whatever the inputs.

Fees are the base tiers of issue 16 (maker/taker bp): binanceusdm 2/5, bybit 2/5.5,
okx 2/5, hyperliquid 1.5/4.5; sigma 0.89 bp/sqrt(s) is BTC at 50% a year.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsm.core.config import EntryConfig, PlanHedge
from fsm.core.fees import FeeRates
from fsm.core.planner import Plan, plan_entry
from fsm.core.values import EntryRequest, LegSpec
from venues.market import Book, BookLevel, Leg, MarketRules

D = Decimal
FEES = {"binanceusdm": ("2", "5"), "bybit": ("2", "5.5"), "okx": ("2", "5"),
        "hyperliquid": ("1.5", "4.5")}
RULES = MarketRules(lot=D("0.001"), tick=D("0.1"), min_qty=D("0.001"))


def rates(maker_bp: str, taker_bp: str) -> FeeRates:
    return FeeRates(D(maker_bp) / 10_000, D(taker_bp) / 10_000)


def book(spread_bp: Decimal | int = 1, depth: Decimal | int = 5, mid: int = 60000) -> Book:
    """Five levels a side around ``mid``, the touch ``spread_bp`` apart, 1.0 apart after."""
    half = (D(mid) * D(spread_bp) / 20_000).quantize(D("0.1"))
    return Book(bids=tuple(BookLevel(mid - half - i, depth) for i in range(5)),
                asks=tuple(BookLevel(mid + half + i, depth) for i in range(5)))


def plan(long: str = "binanceusdm", short: str = "hyperliquid", *,
         fees: dict[str, tuple[str, str]] | None = None, books: tuple[Book, Book] | None = None,
         conservative: bool = False, **config: object) -> Plan:
    table = {**FEES, **(fees or {})}
    request = EntryRequest(LegSpec(long, "BTC/USDT:USDT", D("0.1")),
                           LegSpec(short, "BTC/USDT:USDT", D("0.1")))
    settings = {"plan": "auto", "plan_hedge": "auto", **config}
    long_book, short_book = books or (book(), book())
    return plan_entry(request, EntryConfig(**settings),  # type: ignore[arg-type]
                      {Leg.LONG: RULES, Leg.SHORT: RULES},
                      {Leg.LONG: long_book, Leg.SHORT: short_book},
                      {Leg.LONG: rates(*table[long]), Leg.SHORT: rates(*table[short])},
                      conservative=conservative)


def cost(found: Plan, name: str) -> Decimal:
    return dict(found.costs_bp)[name]


def test_default_config_keeps_todays_behaviour_both_maker_market_hedge() -> None:
    found = plan(plan="maker_maker", plan_hedge="market")
    assert (found.name, found.hedge, found.chosen_by) == ("maker_maker", PlanHedge.MARKET, "config")
    assert found.long.offset == found.short.offset == D("0.0001")
    assert found.hedge_wait_s(Leg.LONG) == found.hedge_wait_s(Leg.SHORT) == 0


def test_dual_taker_costs_both_taker_fees_plus_the_half_spreads() -> None:
    # binanceusdm + hyperliquid: 5 + 4.5 bp of fees (issue 16), and half of a 1 bp spread
    # on each side (the book's touch is rounded to the tick: 0.5 bp is 3 ticks of 0.1)
    found = plan()
    assert cost(found, "taker_taker") == D("10.50")
    assert (found.long.taker_bp, found.short.taker_bp) == (D("5.50"), D("5.00"))


def test_tau_star_keeps_the_legging_band_under_the_fee_saving() -> None:
    found = plan(plan_volatility_bp="0.89")
    for leg in (found.long, found.short):
        tau = D(repr(leg.hedge_wait_s))
        assert float(tau) == pytest.approx(float((leg.gap_bp / (2 * D("0.89"))) ** 2), abs=0.02)
        assert 2 * D("0.89") * tau.sqrt() <= leg.gap_bp + D("0.01")


def test_calm_market_both_maker_with_an_adaptive_hedge() -> None:
    found = plan(plan_volatility_bp="0.3")
    assert (found.name, found.hedge) == ("maker_maker", PlanHedge.ADAPTIVE)
    assert cost(found, "maker_maker") < cost(found, "taker_taker")
    assert "both quote" in found.reason


def test_maker_where_the_weighted_gap_is_largest_taker_on_the_other() -> None:
    # a venue without a maker discount (4.5/4.5) and a 50% fill chance: its quote is not
    # worth resting; binanceusdm's gap is, so it quotes while hyperliquid takes at once
    found = plan(fees={"hyperliquid": ("4.5", "4.5")}, plan_fill_probability="0.5")
    assert (found.name, found.hedge) == ("maker_taker", PlanHedge.ADAPTIVE)
    assert found.takes(Leg.SHORT) and not found.takes(Leg.LONG)
    assert found.hedge_wait_s(Leg.LONG) > 0 and found.hedge_wait_s(Leg.SHORT) == 0
    assert "maker on long" in found.reason


def test_high_volatility_dual_taker() -> None:
    found = plan(plan_volatility_bp="2")
    assert (found.name, found.hedge) == ("taker_taker", PlanHedge.MARKET)
    assert found.long.offset is None and found.short.offset is None
    assert "waiting saves less than" in found.reason


def test_conservative_mode_forces_dual_taker_over_any_config() -> None:
    found = plan(plan="maker_maker", plan_volatility_bp="0.3", conservative=True)
    assert (found.name, found.chosen_by) == ("taker_taker", "conservative")


def test_a_thin_book_costs_its_taker_leg_the_whole_hedge_budget() -> None:
    thin = book(depth=D("0.01"))  # five levels of 0.01: 0.05 of the 0.1 asked
    found = plan(books=(thin, book()))
    assert found.long.taker_bp == D(5) + D(50)


def test_a_forced_adaptive_hedge_waits_tau_star_even_where_auto_would_not() -> None:
    found = plan(plan="maker_maker", plan_hedge="adaptive", plan_volatility_bp="5")
    assert found.hedge is PlanHedge.ADAPTIVE and 0 < found.hedge_wait_s(Leg.LONG) < 1


def test_the_summary_names_plan_hedge_and_costs() -> None:
    line = plan(plan_volatility_bp="0.3").summary()
    assert line.startswith("plan maker_maker, adaptive hedge (long waits")
    assert "taker_taker 10.50" in line


VENUES = st.sampled_from(sorted(FEES))
SIGMAS = st.decimals(min_value=D("0.05"), max_value=D(20), places=2)
PROBABILITIES = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2)
SPREADS = st.decimals(min_value=D("0.5"), max_value=D(40), places=1)


@given(VENUES, VENUES, SIGMAS, PROBABILITIES, SPREADS, st.sampled_from(["auto", "adaptive"]))
def test_no_maker_leg_waits_longer_than_its_fee_saving_allows(
        long: str, short: str, sigma: Decimal, p: Decimal, spread: Decimal, hedge: str) -> None:
    found = plan(long, short, plan_volatility_bp=sigma, plan_fill_probability=p,
                 books=(book(spread), book(spread)), plan_hedge=hedge)
    for leg in (Leg.LONG, Leg.SHORT):
        wait = D(repr(found.hedge_wait_s(leg)))
        if wait > 0:
            assert 2 * sigma * wait.sqrt() <= found.leg(leg).gap_bp + D("0.01")


@given(VENUES, VENUES, SIGMAS, SIGMAS, PROBABILITIES, SPREADS)
def test_higher_volatility_never_makes_the_plan_more_maker(
        long: str, short: str, low: Decimal, high: Decimal, p: Decimal, spread: Decimal) -> None:
    low, high = min(low, high), max(low, high)

    def makers(sigma: Decimal) -> int:
        found = plan(long, short, plan_volatility_bp=sigma, plan_fill_probability=p,
                     books=(book(spread), book(spread)))
        return sum(not found.takes(leg) for leg in (Leg.LONG, Leg.SHORT))

    assert makers(high) <= makers(low)
