"""The random market of the simulated venues: statistics of its path and its flow, the
queue our resting orders wait in, determinism, and the scenario tables that set it.

The statistical tests use long seeded runs and tolerances of several standard errors:
they are deterministic (fixed seeds), and they would fail on a wrong scale (a sigma per
step taken for one per second, a rate per step for one per second), a lost correlation
or a queue that lets an order jump the line.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from fsm.sim.scenario import ScenarioError
from tests.conftest import count_example, examples
from venues.market import BookLevel, Leg, MarketRules, OrderKind, PlaceOrder, Purpose, Side
from venues.sim.matching import MarketState, SimOrder
from venues.sim.queue import Queues
from venues.sim.random_market import (
    MarketGenerator,
    PricePath,
    Process,
    RandomMarket,
    VenueFlow,
    annual_to_bps,
)

RULES = MarketRules(lot=Decimal("0.001"), tick=Decimal("0.5"), min_qty=Decimal("0.001"))
FLOW = VenueFlow(mid=Decimal(60000), level_qty=Decimal("0.5"), trade_size_mean=Decimal("0.4"))


def _increments(generator: MarketGenerator, steps: int) -> list[float]:
    out, last = [], generator.x_bps
    for _ in range(steps):
        generator.advance()
        out.append(generator.x_bps - last)
        last = generator.x_bps
    return out


# ------------------------------------------------------------------------- the path


def test_increment_variance_is_sigma_squared_dt() -> None:
    path = PricePath(seed=3, step_s=0.25, sigma_bps=0.9, horizon_s=10_000)
    steps = 20_000
    variance = statistics.pvariance(_increments(MarketGenerator(
        RandomMarket(path, FLOW), "alpha", RULES), steps))
    expected = 0.9 ** 2 * 0.25
    # the sample variance of n gaussians has a relative standard error of sqrt(2 / n)
    assert abs(variance / expected - 1) < 4 * math.sqrt(2 / steps)


def test_jumps_add_their_variance_at_their_rate() -> None:
    path = PricePath(seed=4, step_s=0.5, sigma_bps=0.5, jump_rate_per_s=0.2,
                     jump_sigma_bps=5.0, horizon_s=100_000)
    steps = 40_000
    variance = statistics.pvariance(_increments(MarketGenerator(
        RandomMarket(path, FLOW), "alpha", RULES), steps))
    expected = 0.5 ** 2 * 0.5 + 0.2 * 0.5 * 5.0 ** 2
    assert abs(variance / expected - 1) < 0.1


def test_two_venues_correlate_by_the_parameter_and_share_the_factor() -> None:
    path = PricePath(seed=5, step_s=0.25, sigma_bps=1.0, correlation=0.8, horizon_s=10_000)
    model = RandomMarket(path, FLOW)
    a = _increments(MarketGenerator(model, "alpha", RULES), 20_000)
    b = _increments(MarketGenerator(model, "beta", RULES), 20_000)
    assert abs(statistics.correlation(a, b) - 0.8) < 0.02
    same = RandomMarket(PricePath(seed=5, step_s=0.25, sigma_bps=1.0, horizon_s=10_000), FLOW)
    assert (_increments(MarketGenerator(same, "alpha", RULES), 50)
            == _increments(MarketGenerator(same, "beta", RULES), 50))  # correlation 1


def test_annualised_sigma_and_gbm_mean() -> None:
    assert annual_to_bps(0.5) == pytest.approx(0.89, abs=0.005)  # the BTC figure
    ends = []
    for seed in range(400):
        path = PricePath(seed=seed, step_s=1.0, sigma_bps=3000.0, process=Process.GBM,
                         horizon_s=10)
        generator = MarketGenerator(RandomMarket(path, FLOW), "alpha", RULES)
        for _ in range(10):
            generator.advance()
        ends.append(generator.mid_float() / 60000)
    # a martingale: the mean end mid is the start. Log variance 0.9 after 10 s: without
    # the Ito correction the mean would be exp(0.45) = 1.57; the sample mean's standard
    # error is sqrt(exp(0.9) - 1) / 20 = 0.06.
    assert abs(statistics.fmean(ends) - 1) < 4 * 0.06


def test_books_sit_on_the_grid_around_the_mid() -> None:
    flow = VenueFlow(mid=Decimal("60000.2"), levels=5, level_spacing_ticks=2,
                     level_qty=Decimal("0.5"), level_qty_growth=Decimal("2"),
                     trade_size_mean=Decimal("0.4"))
    book = MarketGenerator(RandomMarket(PricePath(seed=1, step_s=1, sigma_bps=1), flow), "a",
                           RULES).book
    assert [level.price for level in book.bids] == [Decimal(p) for p in
                                                     ("59999.5", "59998.5", "59997.5",
                                                      "59996.5", "59995.5")]
    assert book.asks[0].price == Decimal("60000.5")
    assert [level.qty for level in book.asks] == [Decimal(q) for q in
                                                   ("0.5", "1.0", "2.0", "4.0", "8.0")]


# ------------------------------------------------------------------------- the flow


def test_trade_rate_and_mean_size() -> None:
    path = PricePath(seed=8, step_s=0.25, sigma_bps=1.0, horizon_s=10_000)
    flow = VenueFlow(mid=Decimal(60000), level_qty=Decimal(1), trade_rate_per_s=3.0,
                     trade_size_mean=Decimal("0.4"), buy_share=0.3)
    generator = MarketGenerator(RandomMarket(path, flow), "alpha", RULES)
    trades = [trade for _ in range(8000) for trade in generator.trades()]
    expected = 3.0 * 8000 * 0.25
    assert abs(len(trades) - expected) < 4 * math.sqrt(expected)  # Poisson: sd sqrt(mean)
    assert all(0 <= t.after_s < 0.25 for t in trades)
    sizes = [float(t.qty) for t in trades]
    assert abs(statistics.fmean(sizes) / 0.4 - 1) < 0.03
    buys = sum(t.side is Side.BUY for t in trades)
    assert abs(buys / len(trades) - 0.3) < 0.02


# ------------------------------------------------------------------------- the queue


def _resting(side: Side, price: str, qty: str, cid: str = "q1") -> SimOrder:
    order = PlaceOrder(venue="v", symbol="S", leg=Leg.SHORT, side=side, qty=Decimal(qty),
                       price=Decimal(price), kind=OrderKind.LIMIT, purpose=Purpose.QUOTE,
                       client_id=cid)
    return SimOrder.placed(order, "v-o1")


def _market(asks: list[tuple[str, str]]) -> MarketState:
    return MarketState("S", RULES, [BookLevel(Decimal("99"), Decimal(5))],
                       [BookLevel(Decimal(p), Decimal(q)) for p, q in asks], Decimal(0))


def test_an_order_fills_only_after_the_queue_ahead_traded() -> None:
    market = _market([("100", "1"), ("100.5", "2"), ("101", "9")])
    order = _resting(Side.SELL, "100.5", "1")
    queues = Queues()
    queues.join(order, market)
    assert queues.ahead["q1"] == Decimal(2)
    assert queues.trade(market, Side.BUY, Decimal("2.5"), [order]) == []  # 1 + 1.5 of 2 ahead
    assert queues.ahead["q1"] == Decimal("0.5")
    fills = queues.trade(market, Side.BUY, Decimal("0.8"), [order])
    assert [(qty, price) for _, qty, price in fills] == [(Decimal("0.3"), Decimal("100.5"))]


def test_a_trade_through_our_price_fills_us_up_to_its_size() -> None:
    market = _market([("100", "1"), ("100.5", "2"), ("101", "9")])
    order = _resting(Side.SELL, "100.5", "1")
    queues = Queues()
    queues.join(order, market)
    fills = queues.trade(market, Side.BUY, Decimal("5"), [order])
    assert [(qty, price) for _, qty, price in fills] == [(Decimal(1), Decimal("100.5"))]
    assert market.asks[0] == BookLevel(Decimal(101), Decimal(8))  # the rest went on through


def test_a_shrunk_level_shrinks_the_queue_ahead_and_newcomers_stand_behind() -> None:
    market = _market([("100", "4"), ("101", "9")])
    order = _resting(Side.SELL, "100", "1")
    queues = Queues()
    queues.join(order, market)
    before = (market.bids, market.asks)
    market.asks = [BookLevel(Decimal(100), Decimal(1)), BookLevel(Decimal(101), Decimal(9))]
    queues.book_changed(market, before, [order])
    assert queues.ahead["q1"] == Decimal(1)
    before = (market.bids, market.asks)
    market.asks = [BookLevel(Decimal(100), Decimal(7)), BookLevel(Decimal(101), Decimal(9))]
    queues.book_changed(market, before, [order])
    assert queues.ahead["q1"] == Decimal(1)


@pytest.mark.parametrize(("ahead", "expected"), [("2", "1.765"), ("8", "4.236")])
def test_the_power_queue_takes_cancellations_from_both_sides(ahead: str,
                                                             expected: str) -> None:
    """hftbacktest's ProbQueueModel, power 2: a level of 10 shrinking to 6 loses
    back^2 / (back^2 + front^2) of the 4 behind us and the rest ahead (rounded up to
    the lot); the risk-averse model keeps the whole queue ahead while it fits."""
    for power, want in ((2.0, Decimal(expected)), (None, min(Decimal(ahead), Decimal(6)))):
        market = _market([("100", "10"), ("101", "9")])
        order = _resting(Side.SELL, "100", "1")
        queues = Queues(power)
        queues.join(order, market)
        queues.ahead["q1"] = Decimal(ahead)
        before = (market.bids, market.asks)
        market.asks = [BookLevel(Decimal(100), Decimal(6)), BookLevel(Decimal(101), Decimal(9))]
        queues.book_changed(market, before, [order])
        assert queues.ahead["q1"] == want


@settings(max_examples=examples(2))
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]),
                          st.integers(min_value=1, max_value=3000)), max_size=40),
       st.integers(min_value=0, max_value=2))
def test_no_fill_before_the_volume_ahead_traded(trades: list[tuple[Side, int]],
                                                level: int) -> None:
    """Whatever the trades, our sell fills only once the outside volume that was ahead
    of it (every better level, and its own level's queue) has traded."""
    count_example("random market: queue position")
    market = _market([("100", "1"), ("100.5", "2"), ("101", "3")])
    price = ("100", "100.5", "101")[level]
    order = _resting(Side.SELL, price, "1.5")
    queues = Queues()
    queues.join(order, market)
    ahead = sum((lvl.qty for lvl in market.asks if lvl.price <= Decimal(price)), Decimal(0))
    traded = Decimal(0)
    for side, lots in trades:
        before = sum((lvl.qty for lvl in market.asks), Decimal(0))
        fills = queues.trade(market, side, RULES.lot * lots, [order])
        outside = before - sum((lvl.qty for lvl in market.asks), Decimal(0))
        traded += outside
        if fills:
            assert traded >= ahead
            assert side is Side.BUY
            _, qty, fill_price = fills[0]
            assert fill_price == Decimal(price) and qty <= order.remaining
            return


# ------------------------------------------------------------------------- whole runs


@pytest.mark.parametrize("name", ["random_calm", "random_volatile"])
def test_a_random_scenario_is_the_same_on_every_run(name: str) -> None:
    first, second = (simulate(scenarios.load_builtin(name)) for _ in range(2))
    assert first.result.to_dict() == second.result.to_dict()
    assert [str(step.event) for step in first.steps] == [str(step.event) for step in
                                                           second.steps]
    assert not first.violations


def test_another_seed_is_another_market() -> None:
    text = scenarios.builtin_text("random_calm")
    runs = [simulate(scenarios.parse(text.replace("seed = 7", f"seed = {seed}"), "x"))
            for seed in (7, 8)]
    books = [[str(step.event) for step in run.steps if "BookUpdate" in str(step.event)]
             for run in runs]
    assert books[0] != books[1]


def test_the_market_stands_still_after_its_horizon() -> None:
    """Bounded events: past the horizon no step and no trade is drawn."""
    path = PricePath(seed=1, step_s=0.5, sigma_bps=1.0, horizon_s=2.0)
    assert path.steps == 4


# ------------------------------------------------------------------------- scenario tables


def _text(old: str, new: str) -> str:
    text = scenarios.builtin_text("random_calm")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("seed = 7\n", "", "random_market.seed: expected a whole number"),
    ('sigma_annual = "0.3"', 'sigma_annual = "0.3"\nsigma_bps = "1"',
     "random_market.sigma_bps: expected exactly one of sigma_bps"),
    ('sigma_annual = "0.3"', 'sigma_annual = 0.3',
     'sigma_annual: expected a decimal written as a string'),
    ('correlation = "0.95"', 'correlation = "1.5"', "random_market.correlation: expected a "
     "value in [0, 1]"),
    ("step_ms = 250", "step_ms = 250\nhorizon_ms = 100", "random_market.horizon_ms: expected "
     "at least step_ms"),
    ("step_ms = 250", 'step_ms = 250\nprocess = "levy"', "random_market.process: expected"),
    ("step_ms = 250", "step_ms = 1\nhorizon_ms = 86400000", "random_market.horizon_ms: "
     "expected at most 1,000,000 steps"),
    ("step_ms = 250", "step_ms = 250\nsped = 1", "unknown key(s) sped"),
    ('trade_rate_per_s = "2"', 'trade_rate_per_s = "-2"',
     "venues.alpha.random_market.trade_rate_per_s: expected a value in [0, 1000]"),
    ("levels = 20", "levels = 0", "venues.alpha.random_market.levels: expected a whole number"),
    ('mid = "60000"\n', "", "venues.alpha.random_market.mid: expected a value"),
    ('taker_fee = "0.0005"\n\n[venues.alpha.random', 'taker_fee = "0.0005"\n'
     'bids = [["1", "1"]]\n\n[venues.alpha.random', "venues.alpha.market.bids: expected no "
     "bids: venues.alpha.random_market generates the book"),
    ("[config]", '[[venues.alpha.books]]\nat_ms = 1\nbids = [["1", "1"]]\nasks = [["2", "1"]]'
     "\n\n[config]", "venues.alpha.books: expected no scripted books"),
])
def test_bad_random_market_tables_are_refused(write: Callable[..., Path], old: str, new: str,
                                              expected: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        scenarios.load(write(_text(old, new)))
    assert expected in str(refused.value)


def test_a_venue_model_needs_the_path_and_the_path_a_venue(write: Callable[..., Path]) -> None:
    text = scenarios.builtin_text("random_calm")
    top = text[text.index("[random_market]"):text.index("[venues.alpha]")]
    with pytest.raises(ScenarioError, match="expected no random_market here unless"):
        scenarios.load(write(text.replace(top, "")))
    plain = scenarios.builtin_text("one_leg_fills_first") + "\n" + top
    with pytest.raises(ScenarioError, match=r"random_market: expected a \[venues\.NAME"):
        scenarios.load(write(plain))


def test_the_draws_do_not_depend_on_the_process_hash_seed() -> None:
    """Seeds are strings hashed by SHA-512, not by ``hash()``: another process, with
    another ``PYTHONHASHSEED``, draws the same market (a rebuild after a crash and a
    benchmark rerun rely on it)."""
    code = ("from decimal import Decimal; from venues.market import MarketRules; "
            "from venues.sim.random_market import *; "
            "r = MarketRules(lot=Decimal('0.001'), tick=Decimal('0.5'), min_qty=Decimal(0)); "
            "g = MarketGenerator(RandomMarket(PricePath(seed=9, step_s=0.25, sigma_bps=1.0, "
            "correlation=0.5), VenueFlow(mid=Decimal(60000), trade_size_mean=Decimal(1))), "
            "'alpha', r); [g.advance() for _ in range(5)]; print(repr(g.x_bps), g.trades())")
    outputs = set()
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed,
                   PYTHONPATH=str(Path(__file__).parent.parent))
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert len(outputs) == 1 and "Trade(" in next(iter(outputs))
