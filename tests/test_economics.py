"""The economics section of a result, checked against figures worked out by hand.

one_leg_fills_first: alpha's quote buys 0.5 at 59994 resting (maker, 2 bp: 5.9994),
the hedge sells 0.5 at beta's bid 60000 (taker, 5 bp: 15). Both books at arrival are
60000.0 / 60000.5, so the reference (mean mid) is 60000.25.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from fsm.cli.timeline import cost_line
from fsm.core import economics
from fsm.core import events as ev
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.result import EntryResult
from fsm.core.values import EntryRequest, LegSpec
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from fsm.sim.scenario import ScenarioError
from tests.scenariokit import BASE, CONFIG, mutate
from venues.market import Book, BookLevel, Leg, MarketRules, PlaceOrder, Purpose
from venues.protocol import Liquidity

D = Decimal


def run(text: str = BASE) -> EntryResult:
    return simulate(scenarios.parse(text, "test.toml")).result


def test_a_maker_long_and_a_taker_hedge_cost_what_the_fills_say() -> None:
    result = run()
    e = result.economics
    long, short = e.legs["long"], e.legs["short"]
    assert (long.vwap, long.maker_qty, long.taker_qty, long.fees) == (
        D("59994"), D("0.5"), D(0), D("5.9994"))
    assert (short.vwap, short.maker_qty, short.taker_qty, short.fees) == (
        D("60000"), D(0), D("0.5"), D("15"))
    assert (long.liquidity, short.liquidity) == ("maker", "taker")
    assert e.arrival["short"].best_bid == D("60000.0")
    assert e.arrival["long"].spread == D("0.5")
    assert e.reference == D("60000.25")
    # basis: 60000 - 59994 = 6 per unit; at arrival, beta's bid - alpha's ask = -0.5
    assert (e.basis, e.basis_quote, e.arrival_basis) == (D("6"), D("3"), D("-0.5"))
    assert e.basis_bps == (D(6) / D("60000.25") * 10_000).quantize(D("0.000001"))
    assert e.fees_total == D("20.9994")
    assert e.hedge_vwap == D("60000") and e.hedge_slippage_bps == 0
    assert e.rollback_pnl is None
    line = cost_line(result)
    assert line == ("cost: basis +1.0 bp vs -0.1 at arrival; fees 7.0 bp (long maker, short "
                    "taker); hedge slippage 0.0 bp; unhedged 100 ms")


def test_a_rollback_reports_the_round_trips_realized_pnl() -> None:
    result = simulate(scenarios.load_builtin("hedge_rejected_rollback")).result
    e = result.economics
    # bought 0.5 at 59994 (fee 5.9994), sold it back at 60000 (fee 15): 3 - 20.9994
    assert e.legs["long"].rollback_pnl == D("-17.9994") == e.rollback_pnl
    assert e.basis is None and e.hedge_vwap is None
    assert cost_line(result).endswith("rollback P&L -17.9994 quote")


def test_a_config_override_prices_the_expected_fees_and_names_its_source() -> None:
    text = mutate(CONFIG, CONFIG + '\n[config.fees.beta]\nmaker = "0"\ntaker = "0.0003"\n')
    e = run(text).economics
    assert (e.legs["short"].taker_rate, e.legs["short"].rates_source) == (D("0.0003"), "config")
    assert e.legs["short"].expected_fees == D("9")  # 0.5 x 60000 x 3 bp
    assert e.legs["short"].fees == D("15")  # what the venue charged is still the fact
    assert e.legs["long"].rates_source == "venue"


@pytest.mark.parametrize(("table", "message"), [
    ('[config.fees.beta]\nmaker = "0"\ntaker = "3"\n',
     "EntryConfig.fees: beta: taker: got 3, expected a fee rate between -1 and 1"),
    ('[config.fees.beta]\nmaker = "0"\nrebate = "0.0003"\n',
     "EntryConfig.fees: beta: unknown key(s) rebate; expected some of maker, symbols, taker"),
])
def test_a_bad_fee_override_in_a_scenario_is_refused_naming_it(table: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenarios.parse(mutate(CONFIG, CONFIG + "\n" + table), "test.toml")


@pytest.mark.parametrize(("table", "message"), [
    ('[config.fees.gamma]\nmaker = "0"\ntaker = "0.0003"\n',
     "config.fees.gamma: expected one of alpha, beta; got 'gamma'"),
    ('[config.fees.beta.symbols."ETH/USDT:USDT"]\nmaker = "0"\ntaker = "0.0003"\n',
     "config.fees.beta.symbols: expected 'BTC/USDT:USDT' (the venue's market); "
     "got 'ETH/USDT:USDT'"),
])
def test_a_fee_override_for_what_the_scenario_lacks_is_refused(table: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenarios.parse(mutate(CONFIG, CONFIG + "\n" + table), "test.toml")


def test_a_simulated_run_reports_the_unhedged_time_the_venues_executed() -> None:
    result = simulate(scenarios.load_builtin("lagging_stream_timings")).result
    e = result.economics
    assert (e.unhedged_ms, e.unhedged_source) == (result.timings.venue_unhedged_ms, "venues")
    assert e.unhedged_ms != result.timings.unhedged_ms  # 500 executed against 100 known
    assert cost_line(result).endswith(f"unhedged {e.unhedged_ms:g} ms")


def test_a_fee_in_another_currency_is_kept_apart_from_the_totals() -> None:
    """binance charges in BNB with the discount on: adding BNB to USDT would be wrong."""
    book = Book(bids=(BookLevel("60000", "1"),), asks=(BookLevel("60001", "1"),))
    rules = MarketRules(lot="0.001", tick="0.5", min_qty="0.001", maker_fee="0.0002",
                        taker_fee="0.0005")
    request = EntryRequest(LegSpec("alpha", "BTC/USDT:USDT", D("0.5")),
                           LegSpec("beta", "BTC/USDT:USDT", D("0.5")), entry_id="f1")
    model = EntryModel("f1", request, EntryConfig())
    sent = model.handle(ev.Start(0.0, {leg: book for leg in Leg}, {leg: rules for leg in Leg},
                                 {leg: D(0) for leg in Leg}))
    quote = next(c for c in sent if isinstance(c, PlaceOrder) and c.leg is Leg.LONG
                 and c.purpose is Purpose.QUOTE)
    model.handle(ev.Accepted(0.1, quote.client_id))
    model.handle(ev.FillReport(0.2, quote.client_id, "t1", D("0.2"), quote.price or D(0),
                               D("0.01"), Liquidity.MAKER, "BNB"))
    model.handle(ev.FillReport(0.3, quote.client_id, "t2", D("0.3"), quote.price or D(0),
                               D("3"), Liquidity.MAKER, "USDT"))
    cost = economics.build(model).legs["long"]
    assert (cost.fees, cost.other_fees, cost.fee_currencies) == (
        D("3"), {"BNB": D("0.01")}, ("BNB", "USDT"))
    assert cost.maker_qty == D("0.5")


def test_a_quote_amended_through_the_touch_counts_as_hedge() -> None:
    """amend_partial_cross: the amended quote takes 0.2 at 60000, a hedge 0.3 at 59900;
    against beta's arrival bid 60000 the hedge's 59940 is 10 bp worse."""
    e = simulate(scenarios.load_builtin("amend_partial_cross")).result.economics
    assert (e.hedge_vwap, e.hedge_slippage_bps) == (D("59940"), D("10"))
