"""The thin-book refill wait: what the hedge budget cannot take now waits for the book.

A hedge IOC at the budget's price takes what the book holds within it; the rest waits
(``waiting_for_book``) for a book event that shows a tradable size within the budget,
judged from the mid the drained hedge was priced from, under ``refill_timeout_s`` in all;
then the entry rolls back under the rollback budget. The shipped pair
``thin_hedge_book_refills`` / ``thin_hedge_book_never_refills`` shows both endings.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from fsm.core.commands import CancelOrder
from fsm.core.config import ConfigError, EntryConfig
from fsm.sim import scenario as scenarios
from fsm.sim.crash import CrashPoint, Where
from fsm.sim.runner import SimulationRun, simulate
from tests.conftest import assert_safe, run_builtin
from tests.test_recovery import check_recovered, crash_and_recover

WAIT = "active.first_leg_filled.waiting_for_book"


def _run_text(name: str, *edits: tuple[str, str]) -> SimulationRun:
    text = scenarios.builtin_text(name)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return simulate(scenarios.parse(text, f"{name} (edited)", name))


def _hedges(run: SimulationRun) -> list[tuple[float, D, D, D]]:
    return [(o.submitted_ms, o.qty, o.price or D(0), o.filled)
            for o in run.result.orders if o.purpose == "hedge"]


def _moves(run: SimulationRun) -> list[tuple[float, str, str, str]]:
    return [(step.at_ms, step.trigger, step.source, step.dest) for step in run.result.path]


def test_a_book_that_refills_takes_the_rest_after_the_refill() -> None:
    """Part now (0.2 at 225 ms), nothing sent into the drained book, the rest (0.3) the
    moment the refilled book is pushed (575 ms), complete."""
    run = run_builtin("thin_hedge_book_refills")
    assert_safe(run)
    assert run.result.final_state == "complete"
    assert _hedges(run) == [(225.0, D("0.5"), D("59700.5"), D("0.2")),
                            (575.0, D("0.3"), D("59700.5"), D("0.3"))]
    moves = _moves(run)
    assert (275.0, "evaluate", "active.first_leg_filled.reconciling", WAIT) in moves
    assert (575.0, "evaluate", WAIT, "active.first_leg_filled.reconciling") in moves


def test_a_book_that_never_refills_rolls_back_when_the_refill_time_is_over() -> None:
    run = run_builtin("thin_hedge_book_never_refills")
    assert_safe(run)
    assert _hedges(run) == [(225.0, D("0.5"), D("59700.5"), D("0.2"))]
    moves = _moves(run)
    assert (275.0, "evaluate", "active.first_leg_filled.reconciling", WAIT) in moves
    assert (1275.0, "refill_timeout", WAIT, "rolling_back.cancelling") in moves
    assert run.result.final_state == "rolled_back"


def test_the_refill_timeout_is_read_from_the_scenario_config() -> None:
    run = _run_text("thin_hedge_book_never_refills",
                    ("quote_timeout_s = 5", "quote_timeout_s = 5\nrefill_timeout_s = 0.4"))
    assert_safe(run)
    assert (675.0, "refill_timeout", WAIT, "rolling_back.cancelling") in _moves(run)


@pytest.mark.parametrize("bad", [0, -1.0, 601.0, "1"])
def test_a_bad_refill_timeout_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"EntryConfig\.refill_timeout_s: got .*, expected "
                       r"seconds in \(0\.0, 600\.0\]"):
        EntryConfig(refill_timeout_s=bad)  # type: ignore[arg-type]


def test_a_thin_book_after_the_refill_time_rolls_back_at_once() -> None:
    """The refill brings only 0.1 within budget; the timer (330 ms) fires while the hedge
    of that 0.1 is in flight, so the book found thin again afterwards is not waited for."""
    run = _run_text(
        "thin_hedge_book_refills",
        ('bids = [["59999.5", "1.0"], ["59999.0", "5.0"], ["59500.0", "20.0"]]',
         'bids = [["59999.5", "0.1"], ["59500.0", "20.0"]]'),
        ("quote_timeout_s = 5", "quote_timeout_s = 5\nrefill_timeout_s = 0.33"),
        ('final_state = "complete"', 'final_state = "rolled_back"'))
    assert_safe(run)
    assert [(h[0], h[3]) for h in _hedges(run)] == [(225.0, D("0.2")), (575.0, D("0.1"))]
    moves = _moves(run)
    assert (625.0, "evaluate", "active.first_leg_filled.reconciling",
            "rolling_back.cancelling") in moves
    assert [m for m in moves if m[3] == WAIT] == [
        (275.0, "evaluate", "active.first_leg_filled.reconciling", WAIT)]
    assert run.result.final_state == "rolled_back"


def test_the_leading_quote_is_pulled_while_the_hedge_waits_for_the_book() -> None:
    """The long quote fills 0.3 of 0.5 and keeps quoting as the maker leg; its hedge finds
    only 0.2 within budget, so the maker quote is cancelled when the wait begins: the
    imbalance must not grow while it cannot be hedged."""
    run = _run_text("thin_hedge_book_never_refills",
                    ('at_ms = 200\npurpose = "quote"', 'at_ms = 200\npurpose = "quote"\n'
                     'qty = "0.3"'))
    assert_safe(run)
    first_wait = next(step for step in run.steps if step.state == WAIT)
    assert [c.client_id for c in first_wait.commands if isinstance(c, CancelOrder)] == [
        "aesim1Lq1"]
    long_quote = next(o for o in run.result.orders if o.client_id == "aesim1Lq1")
    assert long_quote.status == "canceled" and long_quote.filled == D("0.3")


@pytest.mark.parametrize(("name", "downtime_s", "final"), [
    ("thin_hedge_book_never_refills", 0.1, "rolled_back"),
    ("thin_hedge_book_refills", 0.5, "complete"),
])
def test_a_restart_while_waiting_decides_from_the_books_of_now(
        name: str, downtime_s: float, final: str, tmp_path: Path) -> None:
    """Killed right after the wait began (its read and its timer sent): the armed refill
    timer fires at once on recovery, as the quote timer does. The books of now decide: still
    thin, the entry rolls back; refilled meanwhile (the venues carry on through the
    downtime), it hedges the rest from them and completes."""
    scenario = scenarios.load_builtin(name)
    step = next(i for i, s in enumerate(run_builtin(name).steps) if s.state == WAIT)
    recovery = crash_and_recover(scenario, CrashPoint(step, Where.IN_FLIGHT), tmp_path,
                                 downtime_s=downtime_s)
    check_recovered(scenario, recovery)
    (outcome,) = recovery.outcomes
    assert outcome.resumed_in == WAIT
    assert outcome.result is not None and outcome.result.final_state == final
