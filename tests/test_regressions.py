"""Counterexamples the property tests found, kept as plain tests.

Those the scenario format can express ship as scenario files in ``fsm/sim/scenarios/``
(and run with every other shipped scenario); these tests pin the point of each. The
ones it cannot express (requests overtaking each other, events after the end) are
written against the sans-I/O core with the fake venues of the property tests.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fsm.core import events as ev
from fsm.core.config import EntryConfig
from fsm.sim import scenario as scenarios
from tests.conftest import run_builtin
from tests.desk_checks import check_settled, check_truth
from tests.fakevenue import Desk
from tests.strategies import World, run_world
from venues.market import Leg

D = Decimal
FLAT = {Leg.LONG: D(0), Leg.SHORT: D(0)}
DATA = Path(__file__).parent / "data"


def test_a_not_found_cancel_does_not_spend_the_cancel_budget() -> None:
    """No cancel retries: a sibling that filled as its cancel arrived is queried, not unwound."""
    run = run_builtin("cancel_not_found_no_retry_budget")
    assert run.result.final_state == "complete"
    assert [o.purpose for o in run.result.orders] == ["quote", "quote"]  # no hedge, no rollback


def test_a_cancel_not_found_is_not_a_query_not_found() -> None:
    """A quote of unknown outcome that filled as its cancel arrived is hedged, not forgotten."""
    run = run_builtin("cancel_not_found_while_unknown")
    result = run.result
    assert result.final_state == "complete"
    assert "rejected" not in [o.status for o in result.orders]
    assert result.legs["long"].filled == result.legs["short"].filled == D("0.5")


def test_a_create_overtaken_by_its_cancel_and_query_is_not_taken_as_never_placed() -> None:
    """The cancel and the query reach the venue before the create (separate connections).

    Both find nothing; the create then lands, its answer is lost, and the quote fills.
    Taking the query's "not found" as "never placed" while the create was still on its
    way ended the entry rolled back with the quote filled and nobody watching.
    """
    desk = Desk(D("0.002"), EntryConfig(cancel_retry_budget=0, hedge_retry_budget=0,
                                        rollback_retry_budget=0), FLAT)
    desk.checks.append(check_truth)
    desk.kill()                          # cancels both quotes, whose creates are unanswered
    desk.answer(2, 0, 4)                 # cancel of the long quote: not found (not there yet)
    query = desk.requests[-1]
    assert type(query).__name__ == "QueryOrder"
    desk.answer(len(desk.requests) - 1, 0, 4)  # query: not found either
    assert desk.model.ledger.orders["aec1Lq1"].state == "unknown"  # not "rejected"
    desk.answer(0, 2, 0)                 # the create lands at last; its answer is lost
    desk.maker_fill(0, 4)                # and the quote fills
    desk.settle()
    check_settled(desk)
    assert desk.model.state == "rolled_back"


def test_a_finished_entry_ignores_late_events() -> None:
    desk = Desk(D("0.002"), EntryConfig(), FLAT)
    desk.kill()
    desk.settle()
    assert desk.model.terminal
    late = [ev.FillReport(9.0, "aec1Lq1", "late-t1", D("0.001"), D(60000)),
            ev.Accepted(9.0, "aec1Sq1"), ev.NotFound(9.0, "aec1Lq1"), ev.Kill(9.0, "again")]
    for event in late:
        assert desk.model.handle(event) == []
    assert len(desk.model.ignored) >= len(late)


def test_an_order_whose_queries_all_fail_lets_the_entry_end_stuck_with_an_alert() -> None:
    """Found by the property tests: the entry used to wait for ever (an hour of virtual time).

    The quote's create was lost and the one query its budget allows was refused. Now the
    quote becomes unresolved, gets a last cancel (not found: no answer either way), every
    other live order is cancelled, and the entry ends stuck naming the quote.
    """
    outcome = run_world(World(scenarios.load(DATA / "queries_exhausted.toml")))
    run = outcome.run
    assert run.violations == ()
    assert run.result.final_state == "stuck"
    (alert,) = run.result.alerts
    assert "aesim1Sq1" in alert and "possibly live" in alert
    assert "alpha 0" in alert and "beta 0" in alert
    assert {o.client_id: o.status for o in run.result.orders} == {
        "aesim1Lq1": "canceled", "aesim1Sq1": "unresolved"}
    assert run.result.path[-1].at_ms < 1000  # not an hour of virtual time


def test_the_query_budget_counts_per_period_of_uncertainty() -> None:
    """Each time an order's outcome is unknown it gets the whole query budget again."""
    desk = Desk(D("0.002"), EntryConfig(query_retry_budget=2), FLAT)
    desk.answer(0, 2, 0)                     # long quote placed, its answer lost
    assert desk.model.ledger.orders["aec1Lq1"].queries == 1
    query = len(desk.requests) - 1
    desk.answer(query, 2, 0)                 # the query's answer lost too
    desk.retry(0)                            # backoff over: the second (last) query
    desk.answer(len(desk.requests) - 1, 0, 0)  # answered: open
    record = desk.model.ledger.orders["aec1Lq1"]
    assert (record.state, record.queries) == ("open", 0)
    desk.kill()                              # cancel it; the cancel's answer is lost
    desk.answer([type(r).__name__ for r in desk.requests].index("CancelOrder"), 4, 0)
    assert (record.state, record.queries) == ("unknown", 1)  # a fresh budget, not 3 of 2
    assert desk.model.state != "giving_up"
    desk.settle()
    check_settled(desk)


def test_an_unresolved_order_gets_a_last_cancel_whose_answer_resolves_it() -> None:
    """The create's answer is lost (it rests), the one query allowed never leaves: the
    order is unresolved. Its last cancel is answered "cancelled, filled 0", which settles
    it; every order is then known, so the entry rolls back flat instead of ending stuck."""
    desk = Desk(D("0.002"), EntryConfig(query_retry_budget=1), FLAT)
    desk.checks.append(check_truth)
    desk.answer(0, 2, 0)                   # the long quote rests; its answer is lost
    desk.answer(len(desk.requests) - 1, 3, 0)  # the query: venue unavailable
    record = desk.model.ledger.orders["aec1Lq1"]
    assert record.state == "unresolved"
    assert desk.model.state == "giving_up"
    assert [type(r).__name__ for r in desk.requests].count("CancelOrder") == 2
    desk.settle()
    check_settled(desk)
    assert desk.venue["aec1Lq1"].status.value == "canceled"
    assert (record.state, desk.model.state, desk.alerts) == ("canceled", "rolled_back", [])


def test_a_cancel_whose_answers_are_always_lost_is_bounded_by_the_cancel_budget() -> None:
    """Every cancel's answer is lost and every query finds the order still live.

    Each query used to send a fresh cancel with no budget, so the entry cancelled and
    queried for ever. Now the cancel budget counts those cancels too: once spent, the
    order is taken as live and uncancellable and the entry ends stuck, naming it.
    """
    config = EntryConfig(cancel_retry_budget=2)
    desk = Desk(D("0.002"), config, FLAT)
    desk.checks.append(check_truth)
    desk.answer(0, 0, 0)                    # both quotes rest
    desk.answer(0, 0, 0)
    desk.kill()
    cancels = 0
    for _ in range(200):
        if desk.model.terminal or not desk.requests:
            break
        kind = type(desk.requests[0]).__name__
        cancels += kind == "CancelOrder"
        desk.answer(0, 4 if kind == "CancelOrder" else 0, 0)  # cancels lost, queries answered
    assert desk.model.state == "stuck"
    assert cancels <= 2 * (1 + config.cancel_retry_budget)
    (alert,) = desk.alerts
    assert "aec1Lq1" in alert.message and "aec1Sq1" in alert.message


def test_a_query_answer_with_fills_and_a_new_state_fires_both_triggers() -> None:
    """Found by the CI profile (core and stateful tests): one cancel allowed, its answer
    lost; the query then finds the quote live and part filled. That one event brought a
    fill and a state change with the cancel budget spent, but only ``fill`` fired, so the
    entry never noticed it could not cancel and waited in ``withdrawing`` for ever."""
    config = EntryConfig(quote_timeout_s=5.0, hedge_trigger_fill_ratio=D(0),
                         hedge_retry_budget=0, cancel_retry_budget=0, rollback_retry_budget=0,
                         query_retry_budget=1, send_retry_budget=0)
    desk = Desk(D("0.002"), config, FLAT)
    desk.checks.append(check_truth)
    desk.answer(0, 0, 0)                   # both quotes rest
    desk.answer(0, 0, 0)
    desk.maker_fill(0, 1)                  # a quarter of the long quote trades (unreported)
    desk.timer()                           # withdraw: cancel both
    desk.answer(0, 4, 0)                   # the long cancel is lost before the venue
    record = desk.model.ledger.orders["aec1Lq1"]
    assert record.state == "unknown"
    desk.answer(0, 0, 0)                   # the short cancel is confirmed
    desk.answer(0, 0, 0)                   # the query: live, part filled
    assert record.history[-2][1] == "partially_filled"  # found live, cancel budget spent
    assert desk.model.state == "rolling_back.cancelling"  # not left waiting in withdrawing
    desk.settle()
    check_settled(desk)
