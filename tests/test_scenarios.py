"""Every shipped scenario, run through the real engine on simulated venues in virtual time."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from fsm.core.config import EntryConfig
from fsm.core.result import EntryResult
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from tests.conftest import assert_safe, run_builtin

D = Decimal


def _orders(result: EntryResult, purpose: str) -> list:  # type: ignore[type-arg]
    return [o for o in result.orders if o.purpose == purpose]


@pytest.mark.parametrize("name", scenarios.entry_names())
def test_every_shipped_scenario_is_safe(name: str) -> None:
    run = run_builtin(name)
    assert_safe(run)
    result = run.result
    # Positions moved by exactly this entry's own fills: anything held before is untouched.
    # (Not on a venue where a stuck entry left an order it could not resolve: its alert
    # names the order as possibly filled.)
    unresolved = {o.venue for o in result.orders
                  if o.status not in ("filled", "canceled", "rejected")}
    for leg_name, leg in result.legs.items():
        if leg.venue in unresolved:
            continue
        moved = result.positions[leg.venue]["end"] - result.positions[leg.venue]["start"]
        assert moved == (leg.filled if leg_name == "long" else -leg.filled)


@pytest.mark.parametrize("name", scenarios.entry_names())
def test_scenarios_are_deterministic(name: str) -> None:
    first, second = run_builtin(name), run_builtin(name)
    assert first.result.to_dict() == second.result.to_dict()
    assert [o.client_id for o in first.result.orders] == [
        o.client_id for o in second.result.orders]


def test_one_leg_fills_first_reacts_within_physics() -> None:
    """The seed's request: one leg fills, the other is crossed promptly (virtual time)."""
    run = run_builtin("one_leg_fills_first")
    result, t = run.result, run.result.timings
    latency_ms = 25.0
    assert result.final_state == "complete"
    assert [o.client_id for o in result.orders] == ["aesim1Lq1", "aesim1Sq1", "aesim1Sh1"]
    assert t.reaction_ms == 0.0                      # cancel leaves with the fill report
    assert t.cancel_confirm_ms == 2 * latency_ms      # one round trip
    assert t.hedge_sent_ms == 2 * latency_ms          # hedge leaves on the confirmation
    assert t.hedge_completion_ms == 4 * latency_ms    # cancel round trip + hedge round trip
    assert t.unhedged_ms == 4 * latency_ms
    hedge = _orders(result, "hedge")[0]
    assert (hedge.side, hedge.kind, hedge.qty) == ("sell", "limit", D("0.5"))


def test_quote_prices_sit_one_bp_behind_the_touch() -> None:
    result = run_builtin("one_leg_fills_first").result
    buy, sell = _orders(result, "quote")
    # ask 60000.5 * (1 - 0.0001) = 59994.49.. rounded down to the 0.5 tick; bid 60000 * 1.0001
    assert (buy.side, buy.price) == ("buy", D("59994.0"))
    assert (sell.side, sell.price) == ("sell", D("60006.0"))


def test_fill_during_cancel_hedges_only_the_remainder() -> None:
    result = run_builtin("fill_during_cancel").result
    assert [(o.client_id, o.status, o.filled) for o in result.orders] == [
        ("aesim1Lq1", "filled", D("0.5")), ("aesim1Sq1", "canceled", D("0.2")),
        ("aesim1Sh1", "filled", D("0.3"))]


def test_cancel_not_found_is_queried_not_assumed() -> None:
    run = run_builtin("cancel_not_found_filled")
    assert not _orders(run.result, "hedge")
    events = [type(s.event).__name__ for s in run.steps]
    assert "NotFound" in events and "StatusReport" in events


def test_cancel_rejected_then_retried_before_hedging() -> None:
    run = run_builtin("cancel_rejected")
    cancels = [c for s in run.steps for c in s.commands if type(c).__name__ == "CancelOrder"]
    assert len(cancels) == 2
    hedge = _orders(run.result, "hedge")[0]
    quote = run.result.orders[1]
    assert quote.terminal_ms is not None and quote.terminal_ms <= hedge.submitted_ms


def test_hedge_timeout_live_is_not_hedged_twice() -> None:
    result = run_builtin("hedge_timeout_live").result
    assert len(_orders(result, "hedge")) == 1
    assert result.legs["short"].filled == D("0.5")


def test_lost_hedge_is_resent_under_the_same_client_id() -> None:
    run = run_builtin("hedge_timeout_lost")
    places = [c.client_id for s in run.steps for c in s.commands
              if type(c).__name__ == "PlaceOrder" and c.purpose.value == "hedge"]
    assert places == ["aesim1Sh1", "aesim1Sh1"]


def test_hedge_rejected_rolls_back_exactly_what_it_opened() -> None:
    result = run_builtin("pre_existing_position_rollback").result
    assert result.final_state == "rolled_back"
    assert result.positions["alpha"] == {"start": D("2.0"), "end": D("2.0")}
    rollback = _orders(result, "rollback")[0]
    assert (rollback.side, rollback.qty, rollback.reduce_only) == ("sell", D("0.5"), True)
    assert len(_orders(result, "hedge")) == 4   # first try + retry budget of 3


def test_partial_hedge_is_completed_by_a_second_attempt() -> None:
    hedges = _orders(run_builtin("hedge_partial").result, "hedge")
    assert [(h.client_id, h.filled) for h in hedges] == [("aesim1Sh1", D("0.2")),
                                                          ("aesim1Sh2", D("0.3"))]


def test_duplicate_fill_reports_are_counted_once() -> None:
    run = run_builtin("duplicate_fill_reports")
    reports = [s for s in run.steps if type(s.event).__name__ == "FillReport"]
    assert len(reports) > len(run.result.fills)   # duplicates did arrive
    assert _orders(run.result, "hedge")[0].qty == D("0.2")


def test_out_of_order_reports_size_the_hedge_from_the_cancel_answer() -> None:
    run = run_builtin("out_of_order_reports")
    hedge = _orders(run.result, "hedge")[0]
    assert hedge.qty == D("0.3")
    # No trade report of the short quote had arrived when the hedge left.
    assert not [f for f in run.result.fills
                if f.client_id == "aesim1Sq1" and f.at_ms <= hedge.submitted_ms]


def test_maker_keeps_quoting_and_each_fill_is_hedged() -> None:
    result = run_builtin("maker_keeps_quoting").result
    assert [h.qty for h in _orders(result, "hedge")] == [D("0.1"), D("0.15"), D("0.1")]
    assert result.legs["long"].filled == result.legs["short"].filled == D("0.35")


def test_imbalance_flip_cancels_the_maker_before_hedging_it() -> None:
    result = run_builtin("imbalance_flips").result
    hedge = _orders(result, "hedge")[0]
    long_quote = result.orders[0]
    assert (hedge.leg, hedge.qty) == ("long", D("0.3"))
    assert long_quote.terminal_ms is not None and long_quote.terminal_ms <= hedge.submitted_ms


def test_dust_is_trimmed_reduce_only() -> None:
    result = run_builtin("dust_trim").result
    trim = _orders(result, "trim")[0]
    assert (trim.side, trim.qty, trim.reduce_only) == ("sell", D("0.005"), True)
    assert result.net_exposure == 0


def test_scenario_runs_twice_from_one_load() -> None:
    loaded = scenarios.load_builtin("fill_during_cancel")
    assert simulate(loaded).result.to_dict() == simulate(loaded).result.to_dict()


# -- amend-to-cross -------------------------------------------------------------------


def test_amend_to_cross_hedges_in_one_round_trip() -> None:
    """The sibling quote becomes the hedge: no cancel, no new order, 2L unhedged."""
    run = run_builtin("amend_to_cross")
    result, t = run.result, run.result.timings
    latency_ms = 25.0
    assert result.final_state == "complete"
    assert [o.client_id for o in result.orders] == ["aesim1Lq1", "aesim1Sq1"]
    short = result.orders[1]
    assert (short.status, short.filled) == ("filled", D("0.5"))
    amends = [c for s in run.steps for c in s.commands if type(c).__name__ == "AmendOrder"]
    # bid 60000 crossed by the 5 bp hedge offset: 59970, inside the 0.5 % cap from 60006
    assert [(a.client_id, a.qty, a.price) for a in amends] == [("aesim1Sq1", D("0.5"),
                                                                D("59970.0"))]
    assert t.reaction_ms == 0.0
    assert t.hedge_completion_ms == 2 * latency_ms
    assert t.unhedged_ms == 2 * latency_ms
    assert "active.first_leg_filled.amending" in [step.dest for step in result.path]
    assert not [e for e in run.steps if type(e.event).__name__ == "Canceled"]
    assert not [c for s in run.steps for c in s.commands if type(c).__name__ == "CancelOrder"]


def test_amend_is_sized_to_the_imbalance_not_the_target() -> None:
    """A partial first fill: the sibling is amended down to what the leading leg holds."""
    text = scenarios.builtin_text("amend_to_cross")
    text = text.replace('[[venues.alpha.fills]]\nat_ms = 200\n',
                        '[[venues.alpha.fills]]\nat_ms = 200\nqty = "0.2"\n')
    run = simulate(scenarios.parse(text, "partial"))
    assert_safe(run)
    commands = [c for s in run.steps for c in s.commands if type(c).__name__ == "AmendOrder"]
    assert [(c.qty, c.client_id) for c in commands] == [(D("0.2"), "aesim1Sq1")]
    assert run.result.legs["short"].filled == D("0.2")
    assert not _orders(run.result, "hedge")


def test_amend_refused_falls_back_to_cancel_then_hedge() -> None:
    result = run_builtin("amend_rejected_falls_back").result
    assert [o.client_id for o in result.orders] == ["aesim1Lq1", "aesim1Sq1", "aesim1Sh1"]
    assert result.orders[1].status == "canceled"
    hedge = result.orders[2]
    assert hedge.submitted_ms >= result.orders[1].terminal_ms  # cancel confirmed first


def test_amend_answer_lost_is_resolved_by_cancel_and_query_without_a_hedge() -> None:
    run = run_builtin("amend_answer_lost")
    assert not _orders(run.result, "hedge")
    kinds = [type(c).__name__ for s in run.steps for c in s.commands]
    assert kinds.count("CancelOrder") == 1 and kinds.count("QueryOrder") == 1
    assert run.result.legs["short"].filled == D("0.5")


def test_amend_partial_cross_cancels_the_rest_then_hedges_it() -> None:
    result = run_builtin("amend_partial_cross").result
    hedge = _orders(result, "hedge")[0]
    assert hedge.qty == D("0.3")
    assert result.orders[1].filled == D("0.2")
    assert hedge.submitted_ms >= result.orders[1].terminal_ms


def test_amend_mode_without_venue_support_cancels_then_hedges() -> None:
    text = scenarios.builtin_text("amend_to_cross")
    run = simulate(scenarios.parse(text.replace("supports_amend = true\n", ""), "no-amend"))
    assert_safe(run)
    assert [o.client_id for o in run.result.orders] == ["aesim1Lq1", "aesim1Sq1", "aesim1Sh1"]
    assert run.result.timings.unhedged_ms == 100.0


# --------------------------------------------------------------------------- faults

def _sent(run: object, kind: str, client_id: str) -> list[float]:
    """When the entry sent ``kind`` (PlaceOrder, CancelOrder, QueryOrder) for ``client_id``."""
    return [s.event.at for s in run.steps for c in s.commands  # type: ignore[attr-defined]
            if type(c).__name__ == kind and c.client_id == client_id]


def test_unavailable_venue_is_retried_with_backoff_under_the_same_client_id() -> None:
    run = run_builtin("venue_unavailable_then_back")
    result = run.result
    assert result.final_state == "complete"
    # the cancel went four times: at the fill, then after 50, 100 and 200 ms of backoff
    # (each refusal takes one 50 ms round trip)
    cancels = _sent(run, "CancelOrder", "aesim1Sq1")
    assert [round((b - a) * 1000) for a, b in itertools.pairwise(cancels)] == [100, 150, 250]
    # the hedge went three times, always as aesim1Sh1: one intent, one client id
    hedges = _sent(run, "PlaceOrder", "aesim1Sh1")
    assert [round((b - a) * 1000) for a, b in itertools.pairwise(hedges)] == [100, 150]
    assert [o.client_id for o in result.orders] == ["aesim1Lq1", "aesim1Sq1", "aesim1Sh1"]
    assert abs(result.net_exposure) <= result.tolerance


def test_hedge_venue_down_for_good_rolls_back_on_the_other_venue() -> None:
    run = run_builtin("venue_down_during_hedge")
    result = run.result
    assert result.final_state == "rolled_back"
    assert len(_sent(run, "PlaceOrder", "aesim1Sh1")) == 1 + EntryConfig().send_retry_budget
    assert [(o.client_id, o.status) for o in result.orders] == [
        ("aesim1Lq1", "filled"), ("aesim1Sq1", "canceled"), ("aesim1Sh1", "rejected"),
        ("aesim1Lr1", "filled")]
    # no second hedge intent: the venue is down, trying a new hedge would only wait longer
    assert not [o for o in result.orders if o.client_id == "aesim1Sh2"]
    assert result.positions["alpha"]["end"] == result.positions["beta"]["end"] == 0


def test_rollback_venue_down_too_ends_stuck_naming_the_residuals() -> None:
    run = run_builtin("both_venues_down_stuck")
    result = run.result
    assert result.final_state == "stuck"
    assert result.alerts == (
        "entry sim1 could not roll back: this entry still holds alpha 0.5, beta 0",)
    assert result.positions["alpha"]["end"] == D("0.5")
    assert all(o.status in ("filled", "canceled", "rejected") for o in result.orders)


def test_unresolved_hedge_gives_up_without_flattening() -> None:
    """The hedge filled but nobody can learn it: flattening the long fill would have opened
    a naked short. The entry stops, flattens nothing and names the hedge in its alert."""
    run = run_builtin("hedge_unknown_queries_fail")
    result = run.result
    assert result.final_state == "stuck"
    assert [step.dest for step in result.path][-2:] == ["giving_up", "stuck"]
    assert not [o for o in result.orders if o.purpose == "rollback"]
    hedge = next(o for o in result.orders if o.purpose == "hedge")
    assert hedge.status == "unresolved"
    (alert,) = result.alerts
    assert "aesim1Sh1" in alert and "possibly live" in alert
    assert "alpha 0.5" in alert and "beta 0" in alert
    # the venues' truth: the hedge did fill; the entry's restraint left the book flat
    assert result.positions["alpha"]["end"] + result.positions["beta"]["end"] == 0
    queries = _sent(run, "QueryOrder", "aesim1Sh1")
    assert len(queries) == 3  # query_retry_budget
    assert [round((b - a) * 1000) for a, b in itertools.pairwise(queries)] == [100, 150]
