"""The plan in the entry (issue 16 item 2): a leg that starts as taker, the adaptive hedge,
the breaker's conservative mode, and the plan in results; the rows of the planner block
of ``fsm.core.tables.entry`` driven through the model and the shipped scenarios."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from loguru import logger

import fsm
from fsm.cli.main import main
from fsm.core import events as ev
from fsm.core import pricing
from fsm.core.commands import CancelOrder, Command, StartTimer
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from tests import simkit
from tests.conftest import assert_safe, run_builtin
from tests.scenariokit import CONFIG, load_error, mutate
from venues.market import Leg, PlaceOrder, Purpose, TimeInForce

D = Decimal
MID = D("60000.25")  # simkit.BOOK's


def start(config: EntryConfig, conservative: bool = False) -> tuple[EntryModel, list[Command]]:
    request = attrs.evolve(simkit.request(), conservative=conservative)  # as a breaker marks it
    model = EntryModel("p1", request, config)
    out = model.handle(ev.Start(0.0, {Leg.LONG: simkit.BOOK, Leg.SHORT: simkit.BOOK},
                                {Leg.LONG: simkit.RULES, Leg.SHORT: simkit.RULES}))
    return model, out


def places(out: list[Command]) -> list[PlaceOrder]:
    return [c for c in out if isinstance(c, PlaceOrder)]


def test_the_default_config_quotes_both_legs_as_before() -> None:
    model, out = start(EntryConfig())
    assert [(p.leg, p.time_in_force) for p in places(out)] == [
        (Leg.LONG, TimeInForce.GTC), (Leg.SHORT, TimeInForce.GTC)]
    assert model.plan is None  # today's behaviour: the planner is not even asked


def test_a_taker_start_is_an_ioc_at_its_hedge_budget_price() -> None:
    _, out = start(EntryConfig(plan="taker_maker"))
    taker, maker = places(out)  # the taker goes first
    assert (taker.leg, taker.purpose, taker.time_in_force) == (
        Leg.LONG, Purpose.QUOTE, TimeInForce.IOC)
    # 60000.25 * 1.005 = 60300.25125, down to the tick: the hedge budget's worst price
    assert (taker.price, taker.budget_bps, taker.budget_reference) == (D("60300.0"), D(50), MID)
    assert (maker.leg, maker.time_in_force, maker.budget_bps) == (
        Leg.SHORT, TimeInForce.GTC, None)


def test_conservative_mode_sends_both_legs_as_takers_whatever_the_config() -> None:
    model, out = start(EntryConfig(), conservative=True)
    assert [p.time_in_force for p in places(out)] == [TimeInForce.IOC, TimeInForce.IOC]
    assert model.plan is not None and model.plan.chosen_by == "conservative"


def test_dual_taker_cancels_nothing_and_completes() -> None:
    run = run_builtin("plan_dual_taker")
    assert_safe(run)
    assert run.result.final_state == "complete"
    assert not [c for s in run.steps for c in s.commands if isinstance(c, CancelOrder)]
    assert "active.first_leg_filled.taking" in [s.state for s in run.steps]
    assert {o.purpose for o in run.result.orders} == {"quote"}
    assert run.result.to_dict()["plan"]["name"] == "taker_taker"


def test_maker_taker_start_the_maker_fills_as_the_hedge_no_hedge_order() -> None:
    run = run_builtin("plan_maker_taker_start")
    assert_safe(run)
    assert [o.purpose for o in run.result.orders] == ["quote", "quote"]
    assert {name: leg.liquidity for name, leg in run.result.economics.legs.items()} == {
        "long": "maker", "short": "taker"}


def _hedge_wait(run_steps: tuple[object, ...]) -> tuple[float, float]:
    """(when the hedge wait started, when the quote left behind was cancelled), in s."""
    started = cancelled = None
    for step in run_steps:
        for command in step.commands:  # type: ignore[attr-defined]
            if isinstance(command, StartTimer) and command.name == "hedge_wait":
                started = step.event.at  # type: ignore[attr-defined]
            if isinstance(command, CancelOrder) and cancelled is None:
                cancelled = step.event.at  # type: ignore[attr-defined]
    assert started is not None and cancelled is not None
    return started, cancelled


def test_the_adaptive_hedge_waits_tau_star_before_cancel_then_market() -> None:
    run = run_builtin("plan_adaptive_hedge_expires")
    assert_safe(run)
    plan = run.result.plan
    assert plan is not None
    tau = plan.hedge_wait_s(Leg.SHORT)
    assert tau == pytest.approx(1.778)
    started, cancelled = _hedge_wait(run.steps)
    assert cancelled - started == pytest.approx(tau)
    hedge = [o for o in run.result.orders if o.purpose == "hedge"]
    assert len(hedge) == 1 and hedge[0].filled == D("0.5")


def test_the_invariant_catches_a_taker_start_without_protection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Break the rule (the opening IOC leaves with no budget) and invariant 9 says so."""
    monkeypatch.setattr(pricing, "budget_price",
                        lambda side, reference, budget: reference * (1 + side.sign))
    run = run_builtin("plan_dual_taker")
    assert [v for v in run.violations if v.startswith("budgets: aesim1Lq1 is limited at")]


# ------------------------------------------------------------------ bad plan config


@pytest.mark.parametrize(("line", "expected"), [
    ('plan = "maker"', "EntryConfig.plan: got 'maker', expected one of 'auto', 'maker_maker'"),
    ('plan_hedge = "later"', "EntryConfig.plan_hedge: got 'later', expected one of"),
    ('plan_volatility_bp = "0"', "EntryConfig.plan_volatility_bp: got 0, expected a value "
     "in (0, 1000]"),
    ('plan_fill_probability = "1"', "EntryConfig.plan_fill_probability: got 1, expected a "
     "value in (0, 0.999]"),
    ("plan_fill_probability_by_venue = { alpha = 1.5 }",
     "plan_fill_probability_by_venue: alpha: got 1.5, expected a value in (0, 0.999]"),
    ('plan_fill_probability_by_venue = { gamma = "0.5" }',
     "config.plan_fill_probability_by_venue.gamma: expected one of alpha, beta; got 'gamma'"),
])
def test_a_bad_plan_setting_in_a_scenario_is_named(write: Callable[..., Path], line: str,
                                                  expected: str) -> None:
    assert expected in load_error(write(mutate(CONFIG, CONFIG + line + "\n")))


def test_a_bad_plan_flag_exits_2_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["enter", "--plan-fill-probability-by-venue", "okx=2"])
    assert exit_.value.code == 2
    assert ("argument --plan-fill-probability-by-venue: okx: got '2', expected a value in "
            "(0, 0.999]") in capsys.readouterr().err


def test_the_fill_probability_flag_reads_venue_equals_probability() -> None:
    config = EntryConfig(plan_fill_probability_by_venue="okx=0.3, bybit=0.6")
    assert config.fill_probability("okx") == D("0.3")
    assert config.fill_probability("bybit") == D("0.6")
    assert config.fill_probability("binanceusdm") == D("0.8")


# ------------------------------------------------------------------ shown: log, README


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    handler = fsm.enable_logging("INFO", sink=lines.append)
    assert handler is not None
    try:
        yield lines
    finally:
        logger.remove(handler)
        logger.disable("fsm")
        logger.disable("venues")


def test_the_plan_is_logged_when_the_entry_starts(log_lines: list[str]) -> None:
    run = run_builtin("plan_dual_taker")
    assert run.result.plan is not None
    [line] = [line for line in log_lines if "plan taker_taker" in line]
    assert "entry_id=sim1 |" in line and run.result.plan.summary() in line


PLANNED = ("plan_maker_taker_start", "plan_dual_taker", "plan_adaptive_hedge_expires")


@pytest.mark.parametrize("name", PLANNED)
def test_the_readme_examples_are_what_the_code_prints(name: str) -> None:
    """The Planner section's worked examples are pasted from these runs: a change to the
    model that moves a figure fails here until the README is pasted again."""
    plan = run_builtin(name).result.plan
    assert plan is not None
    assert plan.summary() in (Path(__file__).parents[1] / "README.md").read_text()
