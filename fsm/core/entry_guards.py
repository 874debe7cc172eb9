"""The entry table's guards: pure questions about an entry, asked by its rows.

Each method is named by a row of ``fsm.core.tables.entry`` (``guards`` / ``unless``) and
answers from the entry's facts alone; the runtime asks each at most once per trigger.
The guards on every reaction loop over the orders plainly (``noqa: SIM110``): ``any``
or ``all`` over a generator costs about twice the loop, on every trigger.
"""

from __future__ import annotations

from typing import Any

from fsm.core import spec
from fsm.core.entry_facts import EntryFacts
from fsm.core.members import AMEND_TO_CROSS, BLOCKED, HEDGE, SIDE_OF, UNRESOLVED
from fsm.core.pricing import round_down
from fsm.core.spec import OrderState
from venues.market import (
    Leg,
    Purpose,
)


class EntryGuards(EntryFacts):
    """Guards of the entry table, named as its rows name them."""

    def trigger_fill_reached(self, *_: Any) -> bool:
        return self._trigger_leg() is not None

    def sibling_amendable(self, *_: Any) -> bool:
        """Amend-to-cross is asked for, and the sibling quote rests where amends exist."""
        if self.config.hedge_mode is not AMEND_TO_CROSS:
            return False
        lead = self._trigger_leg()
        if lead is None or self.lagging_leg() is not lead.other:
            return False
        sibling = self.quote(lead.other)
        return (
            sibling is not None
            and sibling.state in spec.RESTING
            and self.rules[lead.other].supports_amend
            and self._needs_hedge()
        )

    def sibling_settled(self, *_: Any) -> bool:
        assert self.first_leg is not None
        sibling = self.quote(self.first_leg.other)
        return sibling is None or sibling.terminal

    def amend_answered(self, *_: Any) -> bool:
        assert self.first_leg is not None
        sibling = self.quote(self.first_leg.other)
        return sibling is not None and sibling.amend in spec.AMEND_ANSWERED

    def a_quote_ended(self, *_: Any) -> bool:
        for quote in self._quotes():  # noqa: SIM110 (see the module docstring)
            if quote.terminal:
                return True
        return False

    def quotes_settled(self, *_: Any) -> bool:
        for quote in self._quotes():  # noqa: SIM110 (see the module docstring)
            if not quote.terminal:
                return False
        return True

    def anything_filled(self, *_: Any) -> bool:
        for record in self.ledger.orders.values():  # noqa: SIM110 (see the module docstring)
            if record.filled > 0:
                return True
        return False

    def cancel_in_flight(self, *_: Any) -> bool:
        for record in self.ledger.orders.values():  # noqa: SIM110 (see the module docstring)
            if record.cancel_wanted and record.live:
                return True
        return False

    def cancels_settled(self, *_: Any) -> bool:
        return not self.cancel_in_flight()

    def hedge_venue_quote_live(self, *_: Any) -> bool:
        lag = self.lagging_leg()
        if lag is None or not self._needs_hedge():
            return False
        quote = self.quote(lag)
        return quote is not None and quote.live

    def imbalance_hedgeable(self, *_: Any) -> bool:
        lag = self.lagging_leg()
        if lag is None or not self._needs_hedge():
            return False
        quote = self.quote(lag)
        blocked = quote is not None and quote.live
        hedge = self._latest(HEDGE)
        return not blocked and (hedge is None or hedge.terminal)

    def maker_still_quoting(self, *_: Any) -> bool:
        for quote in self._quotes():  # noqa: SIM110 (see the module docstring)
            if quote.live and not quote.cancel_wanted:
                return True
        return False

    def dust_trimmable(self, *_: Any) -> bool:
        lag = self.lagging_leg()
        if lag is None or not self.orders_settled():
            return False
        if self.trim_attempts >= 1 + self.config.hedge_retry_budget:
            return False
        lead = lag.other
        qty = round_down(abs(self.imbalance()), self.rules[lead].lot)
        return self._tradable(lead, lead.side.opposite, qty)

    def orders_settled(self, *_: Any) -> bool:
        for record in self.ledger.orders.values():  # noqa: SIM110 (see the module docstring)
            if not record.terminal:
                return False
        return True

    def hedge_settled(self, *_: Any) -> bool:
        hedge = self._latest(HEDGE)
        return hedge is None or hedge.terminal

    def hedge_budget_spent(self, *_: Any) -> bool:
        return self.hedge_attempts >= 1 + self.config.hedge_retry_budget and self._needs_hedge()

    def trim_settled(self, *_: Any) -> bool:
        trim = self._latest(Purpose.TRIM)
        return trim is None or trim.terminal

    def reconcile_needed(self, *_: Any) -> bool:
        return not self.maker_still_quoting() or self._needs_hedge()

    def cancel_budget_spent(self, *_: Any) -> bool:
        for record in self.ledger.orders.values():  # noqa: SIM110 (see the module docstring)
            if record.cancel_budget_spent():
                return True
        return False

    def order_unresolved(self, *_: Any) -> bool:
        for record in self.ledger.orders.values():  # noqa: SIM110 (see the module docstring)
            if record.state is UNRESOLVED:
                return True
        return False

    def waiting_over(self, *_: Any) -> bool:
        """Nothing more can be learned: every order is terminal, unresolved with its last
        cancel answered, or live where the venue keeps refusing (or never gets) the cancel."""
        return all(
            r.terminal or (r.state is OrderState.UNRESOLVED and not r.last_cancel_out)
            or r.cancel_budget_spent()
            for r in self.ledger
        )

    def hedge_unsendable(self, *_: Any) -> bool:
        """The last hedge never left (venue unavailable through every send retry)."""
        hedge = self._latest(Purpose.HEDGE)
        return hedge is not None and hedge.unsendable and self._needs_hedge()

    def exposure_flattenable(self, *_: Any) -> bool:
        return bool(self._flatten_plan())

    def exposure_beyond_lot(self, *_: Any) -> bool:
        return any(abs(self.position(leg)) > self.rules[leg].lot for leg in self.rules)

    def rollback_budget_left(self, *_: Any) -> bool:
        return self.rollback_rounds < 1 + self.config.rollback_retry_budget

    # -- endings (issue 13): an imbalance that cannot be hedged never grows, a part
    # hedged is kept, and ``complete`` means balanced within one lot
    def hedge_blocked(self, *_: Any) -> bool:
        """The last hedge did not get through: a send failed (``unsent``, waiting to be
        sent again) or the venue refused it (``rejected``, unsendable included)."""
        hedge = self._latest(HEDGE)
        return hedge is not None and hedge.state in BLOCKED

    def leading_quote_resting(self, *_: Any) -> bool:
        """The leg ahead still quotes, and no cancel of it is on its way."""
        lag = self.lagging_leg()
        if lag is None:
            return False
        quote = self.quote(lag.other)
        return quote is not None and quote.live and not quote.cancel_wanted

    def part_hedged(self, *_: Any) -> bool:
        """The lagging leg holds something: part of the imbalance was hedged."""
        lag = self.lagging_leg()
        return lag is not None and self.position(lag) > 0

    def lead_trimmable(self, *_: Any) -> bool:
        """The imbalance can come off the leading leg (the same test as for dust: every
        order terminal, a trim budget left, and the trim tradable on the lead's venue)."""
        return self.dust_trimmable()

    def imbalance_beyond_lot(self, *_: Any) -> bool:
        return abs(self.imbalance()) > self.tolerance()

    # -- books (issue 14): nothing is priced from a book older than max_book_age_s
    def hedge_book_stale(self, *_: Any) -> bool:
        """The lagging leg's book arrived longer ago than ``max_book_age_s``."""
        lag = self.lagging_leg()
        return lag is not None and self.book_age(lag) > self.config.max_book_age_s

    def book_read_pending(self, *_: Any) -> bool:
        """Another ``ReadBook`` is still unanswered: its answer, not this one, decides."""
        return self.book_reads_out > 0

    def book_read_budget_left(self, *_: Any) -> bool:
        """Book reads failed in a row fewer times than the hedge budget allows attempts."""
        return self.book_reads_failed < 1 + self.config.hedge_retry_budget

    # -- the thin-book wait: what the budget cannot take now waits for a refill
    def hedge_book_thin(self, *_: Any) -> bool:
        """The imbalance needs a hedge, and the lagging venue's book holds no tradable size
        of it within the hedge budget (``hedge_room``: what our own IOCs took is gone)."""
        lag = self.lagging_leg()
        if lag is None or not self._needs_hedge():
            return False
        room, wanted = self.hedge_room(lag), self.hedge_qty()
        if room >= wanted:  # all of it fits: ``wanted`` is whole lots, and tradable (above)
            return False
        return not self._tradable(lag, SIDE_OF[lag], round_down(room, self.rules[lag].lot))

    def refill_time_left(self, *_: Any) -> bool:
        """The refill timer has not fired: a thin book may still be waited for."""
        return not self.refill_over
    # -- planner (issue 16): a taker start and the adaptive hedge (``fsm.core.planner``)
    def plan_takes_at_start(self, *_: Any) -> bool:
        """The plan starts a leg as taker (an IOC at its budget price)."""
        return self.plan is not None and (self.plan.takes(Leg.LONG) or self.plan.takes(Leg.SHORT))

    def sibling_taking(self, *_: Any) -> bool:
        """The leg other than the trigger's went as a taker IOC and has not ended yet."""
        lead = self._trigger_leg()
        if lead is None or self.plan is None or not self.plan.takes(lead.other):
            return False
        sibling = self.quote(lead.other)
        return sibling is not None and sibling.live

    def hedge_may_wait(self, *_: Any) -> bool:
        """The plan lets the other leg's quote wait as the hedge (tau* > 0), and it still
        rests with no cancel on its way."""
        lead = self._trigger_leg()
        if lead is None or self.plan is None or self.plan.hedge_wait_s(lead.other) <= 0:
            return False
        sibling = self.quote(lead.other)
        return sibling is not None and sibling.live and not sibling.cancel_wanted
