"""The ledger of one entry's orders: bookkeeping per event, then the triggers the event table names.

Fills are deduplicated by (venue, trade id): websocket and REST may both report a
trade. Which order trigger an event fires, and which entry triggers follow, is the
event table's (``fsm.core.tables.events``); this module keeps the facts the guards read
(acknowledged, the venue's cumulative filled figure, which request a "not found"
answered) and tells the entry what changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import attrs

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.commands import Command
from fsm.core.config import RetryPolicy
from fsm.core.members import FILL, HEDGE, NEW_TRADE, QUOTE, REJECTED_STATUS, REQUEST_CANCEL
from fsm.core.orders import OrderRecord
from fsm.core.spec import AmendState, OrderTrigger
from fsm.core.tables.events import (
    AMEND_ANSWERS,
    STATUS_TRIGGERS,
    EventRule,
    rule_for,
)
from fsm.core.values import Fill
from venues.market import Leg, PlaceOrder, Purpose

RESTARTED = "the answer was lost when the process stopped"
# ``history``'s first entry (``.value`` of an enum member is a property: two Python calls).
_INITIAL = spec.ORDER_INITIAL.value


# Which events answer a cancel request: these always, those when they are about one. Read
# by exact class (events are final attrs classes), one set lookup on every order event.
_CANCEL_ANSWERS = frozenset({ev.Canceled, ev.CancelRejected})
_CANCEL_ANSWERS_BY_OPERATION = frozenset({ev.NotFound, ev.OutcomeUnknown, ev.Unavailable})


def _answers_cancel(event: ev.OrderEvent) -> bool:
    """Whether ``event`` can be the answer to a cancel request."""
    kind = type(event)
    if kind in _CANCEL_ANSWERS:
        return True
    if kind in _CANCEL_ANSWERS_BY_OPERATION:
        return getattr(event, "operation", None) is ev.Operation.CANCEL
    return False


@attrs.define
class Change:
    """What one event did to the ledger, so the entry knows which trigger to fire."""

    new_fills: list[Fill] = attrs.field(factory=list)
    filled_more: bool = False
    state_changed: bool = False
    amend_answered: bool = False
    commands: list[Command] = attrs.field(factory=list)


@attrs.define
class OrderLedger:
    """All orders of one entry and every fill they received, in arrival order."""

    policy: RetryPolicy
    orders: dict[str, OrderRecord] = attrs.field(factory=dict)
    # A tuple, and a dict used as a set: both untracked by the garbage collector while
    # empty (an entry quoting has no fills), where a list or a set is always tracked.
    fills: tuple[Fill, ...] = ()
    _seen: dict[tuple[str, str], None] = attrs.field(factory=dict)
    # Indexes the guards read on every trigger instead of scanning ``orders``; kept by
    # ``add``, the only place an order joins the ledger (``resend`` keeps the record).
    quotes: list[OrderRecord] = attrs.field(factory=list, init=False)  # in arrival order
    first_quote: dict[Leg, OrderRecord] = attrs.field(factory=dict, init=False)
    latest: dict[Purpose, OrderRecord] = attrs.field(factory=dict, init=False)

    def __iter__(self) -> Iterator[OrderRecord]:
        return iter(self.orders.values())

    def add(self, command: PlaceOrder, attempt: int, at: float) -> OrderRecord:
        if command.client_id in self.orders:
            raise ValueError(f"client order id {command.client_id} is already in use")
        record = OrderRecord(
            command, attempt, at, self.policy,
            history=((at, _INITIAL),),
        )
        self.orders[command.client_id] = record
        self.latest[command.purpose] = record
        if command.purpose is QUOTE:
            self.quotes.append(record)
            self.first_quote.setdefault(command.leg, record)
        return record

    def next_attempt(self, leg: Leg, purpose: Purpose) -> int:
        """The attempt number of the next order for this intent.

        An order lost in flight is the same intent as its retry: it keeps its number and
        so its client id. Anything else that ended moves to the next number.
        """
        latest = None
        for record in self.orders.values():
            command = record.command  # its fields, not the record's ``purpose`` property
            if command.leg is leg and command.purpose is purpose:
                latest = record
        if latest is None:
            return 1
        return latest.attempt if latest.lost_in_flight() else latest.attempt + 1

    def resend(self, command: PlaceOrder, at: float) -> OrderRecord:
        """Send a lost order's intent again, same client id, possibly a new size."""
        record = self.orders[command.client_id]
        record.fire(OrderTrigger.RESEND, at)
        record.command = command
        record.submitted_at = at
        record.terminal_at = None
        record.queries = 0
        record.sends = 0
        record.unsendable = False
        record.create_answered = False
        return record

    def request_cancel(self, client_id: str, at: float) -> list[Command]:
        record = self.orders[client_id]
        record.cancel_wanted = True
        return record.fire(REQUEST_CANCEL, at)

    def request_amend(
        self, client_id: str, price: Decimal, qty: Decimal, at: float
    ) -> list[Command]:
        record = self.orders[client_id]
        record.amend_target = (price, qty)
        return record.fire(OrderTrigger.REQUEST_AMEND, at)

    def recover(self, at: float, rule: EventRule) -> Change:
        """After a restart: every order is asked about again (the ``restart`` rows).

        What the dead process sent has landed or never will (``recover`` waits out a
        grace period first), so a query's "not found" now means never placed. An amend
        still awaiting its answer has lost it.
        """
        change = Change()
        for record in list(self.orders.values()):
            record.create_answered = True
            if record.amend is AmendState.SENT:
                lost = ev.OutcomeUnknown(at, record.client_id, ev.Operation.AMEND, RESTARTED)
                change.commands += self.apply(lost, rule_for(lost)).commands
                change.amend_answered = True
            before = record.state
            for trigger in rule.order:
                change.commands += record.fire(trigger, at)
            change.state_changed |= record.state != before
        return change

    def retry_due(self, client_id: str, at: float, rule: EventRule) -> Change:
        """An order's backoff timer fired: re-send what its state needs, if still pending."""
        record = self.orders[client_id]
        change = Change()
        if record.retry_pending:
            record.retry_pending = False
            before = record.state
            for trigger in rule.order:
                change.commands += record.fire(trigger, at)
            change.state_changed = record.state != before
        return change

    def apply(self, event: ev.OrderEvent, rule: EventRule) -> Change:
        """Bookkeeping for one event about one order, then the order triggers ``rule`` lists."""
        record = self.orders[event.client_id]
        before_state, before_filled = record.state, record.filled
        last_cancel_out = record.last_cancel_out
        if _answers_cancel(event):
            record.last_cancel_out = False
        change = Change()
        new_trade = False
        status: ev.StatusReport | None = None
        # The cases name unrelated classes, so their order does not matter: the reactions'
        # events come first (each failed class pattern costs about 40 ns).
        match event:
            case ev.FillReport():
                new_trade = self._record_fill(record, event, change)
            case ev.StatusReport():
                status = event
            case ev.Canceled():
                record.acknowledged = True
                # ``max`` written out (the held figure on a tie): a call costs more
                if event.filled is not None and event.filled > record.venue_filled:
                    record.venue_filled = event.filled
            case ev.Accepted():
                record.create_answered = True
                record.acknowledged = True
                record.venue_order_id = event.venue_order_id or record.venue_order_id
            case ev.Rejected():
                record.create_answered = True
            case ev.Amended():
                # The venue now holds the amended order: later fills complete it at its new size.
                record.command = attrs.evolve(record.command, price=event.price, qty=event.qty)
                status = ev.StatusReport(event.at, event.client_id, event.status, event.filled)
            case ev.NotFound():
                record.not_found_by = event.operation
            case ev.OutcomeUnknown() if (event.operation is ev.Operation.PLACE
                                         and not record.create_answered):
                record.create_answered = True
                record.queries = 0  # asked before the create could land: they prove nothing
            case ev.Unavailable() if event.operation is ev.Operation.PLACE:
                record.create_answered = True
        for trigger in rule.order:
            change.commands += record.fire(trigger, event.at)
            change.amend_answered |= trigger in AMEND_ANSWERS
        if rule.fill_when is NEW_TRADE and new_trade:
            change.commands += record.fire(FILL, event.at)
        if rule.status and status is not None:
            change.commands += self._apply_status(record, status, change)
        change.filled_more = record.filled > before_filled
        change.state_changed = (
            record.state != before_state or record.last_cancel_out != last_cancel_out
        )
        return change

    def _record_fill(self, record: OrderRecord, report: ev.FillReport, change: Change) -> bool:
        command = record.command  # its fields, not the record's properties: calls
        key = (command.venue, report.trade_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        fill = Fill(
            venue=command.venue, client_id=command.client_id, trade_id=report.trade_id,
            qty=report.qty, price=report.price, fee=report.fee, at=report.at,
            hedge=command.purpose is HEDGE, liquidity=report.liquidity,
            fee_currency=report.fee_currency,
        )
        record.fills[report.trade_id] = fill
        record.fills_total += fill.qty
        record.acknowledged = True
        self.fills += (fill,)
        change.new_fills.append(fill)
        return True

    def _apply_status(
        self, record: OrderRecord, report: ev.StatusReport, change: Change
    ) -> list[Command]:
        before = record.filled
        for fill in report.fills:
            self._record_fill(record, fill, change)
        if report.filled > record.venue_filled:  # ``max``, as for ``Canceled``
            record.venue_filled = report.filled
        commands: list[Command] = []
        if report.status is not REJECTED_STATUS:
            record.acknowledged = True
        if record.filled > before:  # FillFact.FILLED_MORE
            commands += record.fire(FILL, report.at)
        trigger = STATUS_TRIGGERS.get(report.status)
        if trigger is not None:
            commands += record.fire(trigger, report.at)
        return commands
