"""Issue 13, items 6 to 9: how an entry ends when its hedge cannot complete, and its timings.

* part hedged, the hedge venue lost: the leading leg is trimmed to the hedged size on
  the venue that answers, and the entry completes at the smaller size (not a rollback
  that sells everything on one venue and cannot buy back on the other);
* the leading leg's quote is pulled the moment its hedge cannot be sent or is refused;
* ``complete`` means balanced within one lot, anything else ends ``unbalanced``;
* a hedge completion is reported only when one happened, and simulated runs report
  the exposure the venues executed beside the exposure the engine knew.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from fsm.core import events as ev
from fsm.core import invariants
from fsm.core.commands import CancelOrder
from fsm.sim import scenario as scenarios
from fsm.sim.runner import SimulationRun, simulate
from tests.conftest import assert_safe, run_builtin
from tests.scenariokit import mutate

D = Decimal


def _run_text(text: str, name: str) -> SimulationRun:
    return simulate(scenarios.parse(text, f"{name} (test)", name))


def _sent_to(run: SimulationRun, venue: str, purpose: str) -> list[str]:
    return [o.client_id for o in run.result.orders if o.venue == venue and o.purpose == purpose]


# -------------------------------------------------------- item 6: trim to the hedged size

def test_part_hedged_and_hedge_venue_lost_completes_at_the_hedged_size() -> None:
    """Hedge sell 1.2 fills 0.4, then beta is down for good: trim 0.8 off the long leg
    on alpha and complete at 0.4 / 0.4. Before: rollback sold 1.2 on alpha, tried to buy
    back 0.4 on the down venue, and ended stuck net short 0.4 there."""
    run = run_builtin("hedge_venue_lost_trim")
    assert_safe(run)
    result = run.result
    assert result.final_state == "complete"
    assert result.legs["long"].filled == D("0.4")
    assert result.legs["short"].filled == D("0.4")
    trims = [o for o in result.orders if o.purpose == "trim"]
    assert [(o.venue, o.side, o.qty, o.reduce_only, o.filled) for o in trims] == [
        ("alpha", "sell", D("0.8"), True, D("0.8"))]
    assert not [o for o in result.orders if o.purpose == "rollback"]
    assert result.positions["beta"]["end"] == D("-0.4")
    assert result.positions["alpha"]["end"] == D("0.4")


def test_nothing_hedged_and_hedge_venue_lost_still_rolls_back() -> None:
    """The trim row needs part of the imbalance hedged; with nothing hedged there is no
    smaller size to complete at, so the entry rolls back as before."""
    run = run_builtin("venue_down_during_hedge")
    assert_safe(run)
    assert run.result.final_state == "rolled_back"
    assert not [o for o in run.result.orders if o.purpose == "trim"]


# -------------------------------------------------------- item 7: pull the maker quote

def _max_exposure(run: SimulationRun) -> Decimal:
    return max((abs(net) for _, net in run.result.exposure), default=D(0))


def test_maker_quote_pulled_the_moment_its_hedge_cannot_be_sent() -> None:
    """Before: the long quote kept resting through 1.9 s of failed hedge sends and the
    fill of 0.5 at 600 ms grew the naked position from 0.3 to 0.8."""
    run = run_builtin("hedge_unsendable_pulls_maker")
    assert_safe(run)
    result = run.result
    assert _max_exposure(run) == D("0.3")
    assert result.legs["long"].filled == D(0)  # 0.3 filled, 0.3 rolled back
    quote = next(o for o in result.orders if o.client_id == "aesim1Lq1")
    assert quote.filled == D("0.3")
    first_failed_send = next(
        s.event.at for s in run.steps
        if isinstance(s.event, ev.Unavailable) and s.event.client_id == "aesim1Sh1")
    cancel_sent = [s.event.at for s in run.steps
                   if any(isinstance(c, CancelOrder) and c.client_id == "aesim1Lq1"
                          for c in s.commands)]
    assert cancel_sent == [first_failed_send]


def test_maker_quote_pulled_when_its_hedge_is_refused() -> None:
    """A refused hedge is a hedge that cannot be sent too: the maker quote goes at once,
    before the retried hedge, and the later maker fill finds nothing resting."""
    text = mutate('[[venues.alpha.fills]]\nat_ms = 200\nqty = "0.3"\n',
                  '[[venues.alpha.fills]]\nat_ms = 200\nqty = "0.3"\n',
                  scenarios.builtin_text("hedge_unsendable_pulls_maker"))
    text = mutate("[[venues.beta.outages]]\nfrom_ms = 260\n",
                  '[[venues.beta.reactions]]\non = "place"\npurpose = "hedge"\n'
                  'action = "reject"\ntimes = 1\n', text)
    text = mutate('final_state = "rolled_back"', 'final_state = "complete"', text)
    run = _run_text(text, "hedge_refused_pulls_maker")
    assert_safe(run)
    assert run.result.final_state == "complete"
    assert _max_exposure(run) == D("0.3")
    assert run.result.legs["long"].filled == run.result.legs["short"].filled == D("0.3")


# -------------------------------------------------------- item 8: complete means balanced

def test_residual_beyond_a_lot_that_nothing_can_trade_ends_unbalanced() -> None:
    """Before: ``complete``, exit 0, with 10 lots naked and only an alert."""
    run = run_builtin("hedge_thin_book_unbalanced")
    assert_safe(run)
    result = run.result
    assert result.final_state == "unbalanced"
    assert not result.succeeded
    assert result.net_exposure == D("0.01")
    alert = result.alerts[-1]
    assert "unbalanced" in alert and "alpha 0.5" in alert and "beta 0.49" in alert


def test_trim_venue_down_for_good_ends_unbalanced() -> None:
    """Dust of 11 lots (below the short venue's minimum) must come off the long leg, whose
    venue is down for good: every trim fails, and the entry is unbalanced, not complete."""
    text = scenarios.builtin_text("dust_trim")
    head, beta = text.split("[venues.beta]")
    beta = mutate('lot = "0.01"', 'lot = "0.001"', beta)
    beta = mutate('min_qty = "0.01"', 'min_qty = "0.02"', beta)
    beta = mutate("[config]", '[[venues.beta.reactions]]\non = "place"\npurpose = "hedge"\n'
                  'action = "partial"\nqty = "0.3"\n\n[[venues.alpha.outages]]\n'
                  "from_ms = 300\n\n[config]", beta)
    text = head + "[venues.beta]" + beta
    text = mutate('qty = "0.305"', 'qty = "0.311"', text)
    text = mutate('qty = "0.5" }', 'qty = "0.311" }', text, count=2)
    text = mutate('final_state = "complete"', 'final_state = "unbalanced"', text)
    run = _run_text(text, "trim_venue_down_unbalanced")
    assert_safe(run)
    assert run.result.final_state == "unbalanced"
    assert run.result.net_exposure == D("0.011")
    assert _sent_to(run, "alpha", "trim")  # it tried


def test_invariant_refuses_complete_beyond_a_lot() -> None:
    result = run_builtin("hedge_thin_book_unbalanced").result
    assert not [v for v in invariants.check(result) if v.startswith("complete")]
    forged = attrs.evolve(result, final_state="complete")
    assert [v for v in invariants.check(forged) if v.startswith("complete: net 0.01")]


# -------------------------------------------------------- item 9: honest timings

@pytest.mark.parametrize("name", scenarios.entry_names())
def test_no_hedge_completion_unless_the_entry_ended_hedged(name: str) -> None:
    result = run_builtin(name).result
    t = result.timings
    if result.final_state != "complete":
        assert t.hedge_completion_ms is None, (result.final_state, t)
    assert t.venue_unhedged_ms is not None  # simulated: the venues' side is known


@pytest.mark.parametrize("name", ["venue_down_during_hedge", "hedge_rejected_rollback",
                                  "both_venues_down_stuck", "hedge_thin_book_unbalanced"])
def test_rolled_back_stuck_or_unbalanced_report_no_hedge_completion(name: str) -> None:
    """Before: 1900 ms and 250 ms of "hedge completion" for hedges that filled nothing."""
    assert run_builtin(name).result.timings.hedge_completion_ms is None


def test_a_lagging_stream_shows_what_the_venues_executed() -> None:
    """The long fill is executed at 200 ms and reported 400 ms later: the engine knew of
    100 ms unhedged, the venues executed 500 ms."""
    run = run_builtin("lagging_stream_timings")
    t = run.result.timings
    assert (t.unhedged_ms, t.venue_unhedged_ms) == (100.0, 500.0)
    assert t.venue_unhedged_notional_seconds == 5 * t.unhedged_notional_seconds
    assert "venue_unhedged_ms" in run.result.to_dict()["timings"]


def test_venue_side_matches_the_engine_when_reports_are_instant() -> None:
    t = run_builtin("one_leg_fills_first").result.timings
    assert t.venue_unhedged_ms == t.unhedged_ms
    assert t.venue_unhedged_notional_seconds == t.unhedged_notional_seconds
