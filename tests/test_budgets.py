"""Issue 14, item 3: slippage budgets. Every marketable order has a protective price.

A hedge, trim or rollback is an IOC limit at the worst price its budget (bps against the
mid of the freshest book the entry holds for the leg) allows; a leg's own budget wins
over the config's; the rollback budget is the widest. Invariant 8 checks every such
order's limit against its budget and every venue trade against its order's limit.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from fsm.cli.main import main
from fsm.core import events as ev
from fsm.core import invariants, pricing
from fsm.core.commands import AmendOrder, Command
from fsm.core.config import ConfigError, EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.pretrade import RequestError, check_shape, fit_to_budget
from fsm.core.values import EntryRequest, LegSpec
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from tests import simkit
from tests.conftest import assert_safe, run_builtin
from venues import depth
from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)
from venues.sim import exchange

D = Decimal
MID = D("60000.25")  # simkit.BOOK's


def _hedge(config: EntryConfig, request: EntryRequest | None = None) -> PlaceOrder:
    """The long hedge an entry sends once its short quote filled and the long quote's
    cancel is confirmed (the book is fresh: 1 s old)."""
    model = EntryModel("b1", request or simkit.request(), config)
    quotes = model.handle(ev.Start(0.0, {Leg.LONG: simkit.BOOK, Leg.SHORT: simkit.BOOK},
                                   {Leg.LONG: simkit.RULES, Leg.SHORT: simkit.RULES}))
    long_q, short_q = (c.client_id for c in quotes if isinstance(c, PlaceOrder))
    for cid in (long_q, short_q):
        model.handle(ev.Accepted(0.05, cid))
    model.handle(ev.FillReport(1.0, short_q, "s1", D("0.5"), D("60006")))
    out: list[Command] = model.handle(ev.Canceled(1.05, long_q, D(0)))
    [hedge] = [c for c in out if isinstance(c, PlaceOrder) and c.purpose is Purpose.HEDGE]
    return hedge


def test_a_market_hedge_is_an_ioc_limit_at_its_budget_price() -> None:
    hedge = _hedge(EntryConfig())
    assert (hedge.kind, hedge.time_in_force, hedge.side) == (
        OrderKind.LIMIT, TimeInForce.IOC, Side.BUY)
    # 60000.25 * 1.005 = 60300.25125, down to the tick (toward the mid)
    assert (hedge.price, hedge.budget_bps, hedge.budget_reference) == (D("60300.0"), D(50), MID)


def test_a_legs_own_budget_wins_over_the_config() -> None:
    request = EntryRequest(LegSpec("alpha", simkit.SYMBOL, "0.5", hedge_budget_bps="10"),
                           LegSpec("beta", simkit.SYMBOL, "0.5"), entry_id="t1")
    hedge = _hedge(EntryConfig(hedge_budget_bps="20"), request)
    assert (hedge.price, hedge.budget_bps) == (D("60060.0"), D(10))


def test_an_aggressive_limit_hedge_keeps_the_tighter_of_its_cap_and_its_budget() -> None:
    loose = _hedge(EntryConfig(hedge_order="aggressive_limit"))
    assert loose.price == D("60030.5")  # through the touch by 5 bp: inside the budget
    tight = _hedge(EntryConfig(hedge_order="aggressive_limit", hedge_budget_bps="1"))
    assert tight.price == D("60006.0")  # 60000.25 * 1.0001, down to the tick


def test_budgets_per_purpose_and_the_rollback_widest() -> None:
    config = EntryConfig(hedge_budget_bps="30", trim_budget_bps="40", rollback_budget_bps="90")
    assert [config.budget_bps(p) for p in (Purpose.HEDGE, Purpose.TRIM, Purpose.ROLLBACK)] == [
        D(30), D(40), D(90)]
    assert config.budget_bps(Purpose.ROLLBACK, D(7)) == D(7)
    with pytest.raises(ConfigError, match="rollback_budget_bps: got 30, expected at least"):
        EntryConfig(trim_budget_bps="40", rollback_budget_bps="30")


def test_a_bad_leg_budget_is_refused_before_anything_is_sent() -> None:
    request = EntryRequest(LegSpec("alpha", simkit.SYMBOL, "0.5"),
                           LegSpec("beta", simkit.SYMBOL, "0.5", rollback_budget_bps="0"))
    with pytest.raises(RequestError) as caught:
        check_shape(request)
    assert str(caught.value) == (
        "short leg on beta BTC/USDT:USDT: rollback_budget_bps: got 0, expected a budget in "
        "bps greater than 0 and at most 2000, with at most 12 decimal places")


def test_rollback_orders_carry_the_rollback_budget() -> None:
    run = run_builtin("hedge_rejected_rollback")
    assert_safe(run)
    sent = [c for step in run.steps for c in step.commands if isinstance(c, PlaceOrder)]
    rollbacks = [c for c in sent if c.purpose is Purpose.ROLLBACK]
    assert rollbacks and all(c.budget_bps == D(200) and c.kind is OrderKind.LIMIT
                             and c.time_in_force is TimeInForce.IOC for c in rollbacks)
    for c in rollbacks:
        assert c.price is not None and c.budget_reference is not None
        assert depth.cost_bps(c.side, c.price, c.budget_reference) <= D(200)


# ------------------------------------------------------------------ the invariant

def _order(price: str | None, budget: str | None = "50", side: Side = Side.BUY) -> PlaceOrder:
    return PlaceOrder("aeb1Lh1", "alpha", simkit.SYMBOL, Leg.LONG, Purpose.HEDGE, side,
                      OrderKind.LIMIT, D("0.5"), None if price is None else D(price),
                      TimeInForce.IOC, budget_bps=None if budget is None else D(budget),
                      budget_reference=MID)


def test_the_budget_invariant_names_each_breach() -> None:
    assert invariants.within_budgets([_order("60300.0")], [("aeb1Lh1", D("60300.0"))]) == []
    assert invariants.within_budgets([_order(None)]) == [
        "budgets: hedge aeb1Lh1 has no protective price (price None, budget 50 bps from "
        "60000.25)"]
    assert invariants.within_budgets([_order("60301.0")]) == [
        "budgets: aeb1Lh1 is limited at 60301.0, beyond its budget of 50 bps from 60000.25"]
    assert invariants.within_budgets([_order("60100.0")], [("aeb1Lh1", D("60100.5"))]) == [
        "budgets: aeb1Lh1 filled at 60100.5, outside its limit 60100.0 (50 bps from "
        "60000.25)"]
    quote = PlaceOrder("aeb1Lq1", "alpha", simkit.SYMBOL, Leg.LONG, Purpose.QUOTE, Side.BUY,
                       OrderKind.LIMIT, D("0.5"), D("59999"))
    assert invariants.within_budgets([quote]) == []


def test_an_amend_to_cross_is_bounded_like_a_hedge() -> None:
    """An amend that crosses is marketable: its price and the quote's fills are judged
    against the budget it records (the quote's earlier maker fills are inside it)."""
    quote = PlaceOrder("aeb1Sq1", "beta", simkit.SYMBOL, Leg.SHORT, Purpose.QUOTE, Side.SELL,
                       OrderKind.LIMIT, D("0.5"), D("60006.0"))

    def amend(price: str, budget: str | None = "50") -> AmendOrder:
        return AmendOrder("aeb1Sq1", "beta", simkit.SYMBOL, D(price), D("0.5"), 0.0,
                          None if budget is None else D(budget), MID)

    fills = [("aeb1Sq1", D("60006.0")), ("aeb1Sq1", D("59999.5"))]
    assert invariants.within_budgets([quote, amend("59700.5")], fills) == []
    assert invariants.within_budgets([quote, amend("59700.5", None)]) == [
        "budgets: amend aeb1Sq1 has no protective price (price 59700.5, budget None bps "
        "from 60000.25)"]
    assert invariants.within_budgets([quote, amend("59699.5")]) == [
        "budgets: aeb1Sq1 is limited at 59699.5, beyond its budget of 50 bps from 60000.25"]
    assert invariants.within_budgets([quote, amend("60000.0")], fills) == [
        "budgets: aeb1Sq1 filled at 59999.5, outside its limit 60000.0 (50 bps from "
        "60000.25)"]
    # a quote placed across the touch (a negative offset) may fill below the amend's
    # limit before the amend lands: judged against its own price, the looser of the two
    crossing = attrs.evolve(quote, price=D("59988.0"))
    early = [("aeb1Sq1", D("59999.5")), ("aeb1Sq1", D("59988.0"))]
    assert invariants.within_budgets([crossing, amend("59999.5")], early) == []
    assert invariants.within_budgets([crossing, amend("59999.5")],
                                     [("aeb1Sq1", D("59987.5"))]) == [
        "budgets: aeb1Sq1 filled at 59987.5, outside its limit 59988.0 (50 bps from "
        "60000.25)"]


def test_the_shipped_amends_record_their_budget() -> None:
    run = run_builtin("amend_to_cross")
    assert_safe(run)
    amends = [c for step in run.steps for c in step.commands if isinstance(c, AmendOrder)]
    assert amends and all(a.budget_bps == D(50) and a.budget_reference is not None
                          for a in amends)


def test_the_invariant_catches_a_market_order_without_protection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Break the rule (the "market" hedge leaves unprotected, as before budgets) and the
    shipped run breaks invariant 9 (budgets)."""
    monkeypatch.setattr(pricing, "budget_price",
                        lambda side, reference, budget: reference * (1 + side.sign))
    run = run_builtin("one_leg_fills_first")
    assert [v for v in run.violations if v.startswith("budgets: aesim1Sh1 is limited at")]


# ------------------------------------------------------------------ pre-trade

def _thin(bid_qty: str = "0.3") -> Book:
    """Bids: ``bid_qty`` at the touch, the rest 83 bp below the mid (outside 50 bp)."""
    return Book((BookLevel("60000.0", bid_qty), BookLevel("59500.0", "20")),
                (BookLevel("60000.5", "2"), BookLevel("60010.0", "20")))


def _fit(short_book: Book, rules: MarketRules = simkit.RULES,
         config: EntryConfig | None = None) -> EntryRequest:
    return fit_to_budget(simkit.request("0.5"), config or EntryConfig(),
                         {Leg.LONG: simkit.RULES, Leg.SHORT: rules},
                         {Leg.LONG: simkit.BOOK, Leg.SHORT: short_book})


def test_a_size_within_budget_is_entered_as_asked() -> None:
    request = simkit.request("0.5")
    assert _fit(simkit.BOOK) == request
    # the thin book holds all 0.5 once the budget reaches its second level (83.4 bp)
    assert _fit(_thin(), config=EntryConfig(hedge_budget_bps="90")) == request


def test_a_size_the_hedge_book_cannot_take_within_budget_is_downsized() -> None:
    fitted = _fit(_thin())
    assert (fitted.long.qty, fitted.short.qty, fitted.downsized_from) == (
        D("0.3"), D("0.3"), D("0.5"))


def test_a_downsize_below_a_venue_minimum_is_refused_naming_venue_size_and_impact() -> None:
    rules = MarketRules(lot="0.001", tick="0.5", min_qty="0.4", min_notional="5")
    with pytest.raises(RequestError) as caught:
        _fit(_thin(), rules)
    assert str(caught.value).startswith(
        "short leg on beta BTC/USDT:USDT: 0.5 cannot be hedged within the hedge budget of "
        "50 bp at the arrival book (projected impact 33.4 bp on average, 83.4 bp at the last "
        "level); 0.3 could be, but: short leg on beta BTC/USDT:USDT: quantity 0.3 rounds "
        "to 0.3 at lot 0.001, below the minimum quantity 0.4")


def test_nothing_within_budget_is_refused() -> None:
    # one wide level each side: the bid is 84 bp below the mid
    empty_touch = Book((BookLevel("59000.0", "20"),), (BookLevel("60000.5", "2"),))
    with pytest.raises(RequestError, match="cannot be hedged within the hedge budget of 50 bp"
                       r".*; nothing can be$"):
        _fit(empty_touch)


def test_pretrade_downsized_scenario_enters_the_smaller_size_and_says_so() -> None:
    run = run_builtin("pretrade_downsized")
    assert_safe(run)
    result = run.result
    assert (result.final_state, result.downsized_from) == ("complete", D("0.5"))
    assert [leg.filled for leg in result.legs.values()] == [D("0.3"), D("0.3")]
    assert result.to_dict()["downsized_from"] == "0.5"
    assert "downsized_from" not in run_builtin("one_leg_fills_first").result.to_dict()


def test_thin_hedge_book_never_refills_rolls_back_under_the_rollback_budget() -> None:
    """The hedge takes what its budget allows (0.2 at the touch, not the bid 83 bp away);
    nothing is sent into the drained book; after the refill wait the rollback goes out at
    its wider 200 bp (from beta's mid as read during the wait)."""
    run = run_builtin("thin_hedge_book_never_refills")
    assert_safe(run)
    hedges = [(o.price, o.filled) for o in run.result.orders if o.purpose == "hedge"]
    assert hedges == [(D("59700.5"), D("0.2"))]
    assert [(o.price, o.filled) for o in run.result.orders if o.purpose == "rollback"] == [
        (D("58800.5"), D("0.5")), (D("60945.0"), D("0.2"))]
    assert run.result.final_state == "rolled_back"


@pytest.mark.usefixtures("restore_logging")
def test_pretrade_refused_impact_exits_2_naming_venue_size_and_impact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A shipped scenario whose outcome is the refusal (``[expect] refused = true``): its
    record on stdout, exit 2 as for any refused request, nothing sent."""
    assert main(["simulate", "--scenario", "pretrade_refused_impact"]) == 2
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith(
        "\n\nrefused before anything was sent: short leg on beta BTC/USDT:USDT: 0.5 cannot be "
        "hedged within the hedge budget of 50 bp at the arrival book (projected impact 33.4 bp "
        "on average, 83.4 bp at the last level); 0.3 could be, but: short leg on beta "
        "BTC/USDT:USDT: quantity 0.3 rounds to 0.3 at lot 0.001, below the minimum quantity "
        "0.4\n")
    assert main(["simulate", "--scenario", "pretrade_refused_impact", "--json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert (answer["final_state"], answer["violations"]) == (None, [])
    assert answer["refused"].startswith("short leg on beta BTC/USDT:USDT: 0.5 cannot be hedged")


@pytest.mark.usefixtures("restore_logging")
def test_the_same_refusal_unexpected_is_bad_input_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Without ``refused = true`` the same file is a request the checks refuse: exit 2, the
    reason on stderr and nothing on stdout."""
    text = scenarios.builtin_text("pretrade_refused_impact").replace("refused = true", "")
    path = tmp_path / "refused.toml"
    path.write_text(text)
    assert main(["simulate", "--scenario", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("atomic-entry: short leg on beta BTC/USDT:USDT: 0.5 cannot be hedged")


def test_the_refusal_scenario_sends_nothing_and_runs_no_entry() -> None:
    assert "pretrade_refused_impact" in scenarios.builtin_names()
    assert "pretrade_refused_impact" not in scenarios.entry_names()
    with pytest.raises(RequestError):
        simulate(scenarios.load_builtin("pretrade_refused_impact"))


def test_refused_and_a_final_state_together_are_refused() -> None:
    text = scenarios.builtin_text("pretrade_refused_impact").replace(
        "refused = true", 'refused = true\nfinal_state = "complete"')
    with pytest.raises(scenarios.ScenarioError, match=r"expect\.refused: expected no "
                       "final_state beside it"):
        scenarios.parse(text, "x.toml")
    with pytest.raises(scenarios.ScenarioError, match=r"expect\.refused: expected true or false"):
        scenarios.parse(text.replace("refused = true", 'refused = "yes"'), "x.toml")


def test_the_invariant_catches_a_venue_that_ignores_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Break the venue (the simulator sweeps past an IOC's limit) and the venues' own
    trades break invariant 9 (budgets): the hedge takes the bid 83 bp away, past its 59700.5."""
    real_take = exchange.take
    monkeypatch.setattr(exchange, "take", lambda opposite, side, limit, qty: real_take(
        opposite, side, None, qty))
    run = run_builtin("thin_hedge_book_never_refills")
    assert "budgets: aesim1Sh1 filled at 59500.0, outside its limit 59700.5 (50 bps from " \
        "60000.25)" in run.violations


def test_amend_to_cross_stays_within_the_hedge_budget() -> None:
    """The sibling quote amended through the touch is a hedge too: capped by its budget."""
    rules = MarketRules(lot="0.001", tick="0.5", min_qty="0.001", supports_amend=True)
    model = EntryModel("b1", simkit.request(), EntryConfig(hedge_mode="amend_to_cross",
                                                           hedge_budget_bps="1"))
    quotes = model.handle(ev.Start(0.0, {Leg.LONG: simkit.BOOK, Leg.SHORT: simkit.BOOK},
                                   {Leg.LONG: rules, Leg.SHORT: rules}))
    for quote in quotes:
        if isinstance(quote, PlaceOrder):
            model.handle(ev.Accepted(0.05, quote.client_id))
    out = model.handle(ev.FillReport(1.0, quotes[1].client_id, "s1", D("0.5"), D("60006")))
    [amend] = [c for c in out if isinstance(c, AmendOrder)]
    assert amend.price == D("60006.0")  # 60000.25 * 1.0001 down to the tick, not 60030.5
