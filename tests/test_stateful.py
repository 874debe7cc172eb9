"""A stateful test: hypothesis drives one entry model rule by rule against fake venues.

Each rule is one thing a venue can do next (deliver a fill, deliver it twice, confirm
a cancel, answer it not found, refuse it, lose an answer, answer a query, fire the
timer, ...). After every rule the invariants are checked against venue truth; at the
end the world is allowed to calm down and the entry must have finished safely.
Hypothesis shrinks a failure to the shortest sequence of rules that breaks it.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fsm.core.commands import (
    CancelOrder,
    QueryOrder,
)
from tests.conftest import count_example, examples
from tests.desk_checks import check_settled, check_truth
from tests.fakevenue import Desk
from tests.test_properties_core import core_configs, positions, quantities
from venues.market import Leg, PlaceOrder

index = st.integers(0, 7)
share = st.integers(1, 4)


class EntryAgainstVenues(RuleBasedStateMachine):
    desk: Desk

    @initialize(qty=quantities, config=core_configs, start=positions)
    def open_entry(self, qty: Decimal, config: object, start: dict[Leg, Decimal]) -> None:
        self.desk = Desk(qty, config, start)  # type: ignore[arg-type]

    def _pending(self, kind: type) -> list[int]:
        return [i for i, c in enumerate(self.desk.requests) if isinstance(c, kind)]

    def _answer(self, kind: type, which: int, outcome: int, part: int = 4) -> None:
        pending = self._pending(kind)
        self.desk.answer(pending[which % len(pending)], outcome, part)

    # -- answers to the entry's requests
    @precondition(lambda self: self._pending(PlaceOrder))
    @rule(which=index, outcome=st.sampled_from([0, 0, 0, 0, 0, 1, 2, 3, 4]),
          part=st.integers(0, 4))
    def answer_place(self, which: int, outcome: int, part: int) -> None:
        """0 accepted, 1 rejected, 2 no answer but placed, 3 no answer and lost, 4 not sent."""
        self._answer(PlaceOrder, which, outcome, part)

    @precondition(lambda self: self._pending(CancelOrder))
    @rule(which=index)
    def cancel_confirmed(self, which: int) -> None:
        self._answer(CancelOrder, which, 0)

    @precondition(lambda self: self._pending(CancelOrder))
    @rule(which=index, part=share)
    def fill_then_cancel_confirmed(self, which: int, part: int) -> None:
        self._answer(CancelOrder, which, 1, part)

    @precondition(lambda self: self._pending(CancelOrder))
    @rule(which=index)
    def cancel_not_found(self, which: int) -> None:
        """The order filled completely as the cancel arrived; the venue no longer knows it."""
        self._answer(CancelOrder, which, 2)

    @precondition(lambda self: self._pending(CancelOrder))
    @rule(which=index)
    def cancel_rejected(self, which: int) -> None:
        self._answer(CancelOrder, which, 3)

    @precondition(lambda self: self._pending(CancelOrder))
    @rule(which=index, reached=st.booleans())
    def cancel_timeout(self, which: int, reached: bool) -> None:
        self._answer(CancelOrder, which, 5 if reached else 4)

    @precondition(lambda self: self._pending(CancelOrder))
    @rule(which=index)
    def cancel_unavailable(self, which: int) -> None:
        self._answer(CancelOrder, which, 6)

    @precondition(lambda self: self._pending(QueryOrder))
    @rule(which=index)
    def query_unavailable(self, which: int) -> None:
        self._answer(QueryOrder, which, 3)

    @precondition(lambda self: self.desk.retry_timers)
    @rule(which=index)
    def backoff_over(self, which: int) -> None:
        self.desk.retry(which)

    @precondition(lambda self: self._pending(QueryOrder))
    @rule(which=index)
    def query_answered(self, which: int) -> None:
        self._answer(QueryOrder, which, 0)

    @precondition(lambda self: self._pending(QueryOrder))
    @rule(which=index)
    def query_unanswered(self, which: int) -> None:
        self._answer(QueryOrder, which, 2)

    # -- what the venues push, and the world around
    @precondition(lambda self: self.desk.pushes)
    @rule(which=index)
    def deliver_report(self, which: int) -> None:
        """Any pushed report, not only the oldest: streams reorder and lag."""
        self.desk.deliver(which)

    @precondition(lambda self: self.desk.delivered_fills)
    @rule(which=index)
    def duplicate_fill(self, which: int) -> None:
        self.desk.duplicate(which)

    @rule(which=index, part=share)
    def maker_fill(self, which: int, part: int) -> None:
        self.desk.maker_fill(which, part)

    # The timer and a kill end the interesting part of an entry: each fires only on one
    # draw in eight, so most runs get as far as hedging first.
    @precondition(lambda self: self.desk.timer_armed)
    @rule(now=st.integers(0, 7))
    def quote_timer(self, now: int) -> None:
        if now == 0:
            self.desk.timer()

    @rule(leg=st.integers(0, 1), shift=st.integers(-20, 20))
    def book_moves(self, leg: int, shift: int) -> None:
        self.desk.move_book(leg, shift)

    @precondition(lambda self: not self.desk.model.terminal)
    @rule(now=st.integers(0, 7))
    def kill(self, now: int) -> None:
        if now == 0:
            self.desk.kill()

    # -- after every rule
    @invariant()
    def safe_against_venue_truth(self) -> None:
        check_truth(self.desk)

    def teardown(self) -> None:
        desk = getattr(self, "desk", None)
        if desk is None:
            return
        count_example("stateful: rule sequences", len(desk.log))
        try:
            desk.settle()
            check_settled(desk)
        finally:
            desk.close()


EntryAgainstVenues.TestCase.settings = settings(
    max_examples=examples(4), stateful_step_count=40,
)
TestEntryAgainstVenues = EntryAgainstVenues.TestCase
