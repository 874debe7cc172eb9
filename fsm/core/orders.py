"""One order of an entry and the interpreter of the order table it runs.

Each order runs ``ORDER_TRANSITIONS`` through a few lines of table lookup rather than
a ``transitions`` machine of its own: an entry places several orders, and a machine
model per order would cost about 14 KiB and 0.1 ms to attach. The rows, guards and
effects are the same ones the diagrams and the review tables show.

An order's filled quantity is the larger of its deduplicated fills and the venue's own
cumulative figure, so a cancel confirmation that says "filled 0.3" is believed before
the trade report that explains it arrives, and never counted twice. The ledger of all
of an entry's orders is ``fsm.core.ledger``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Generic, TypeVar

import attrs

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.commands import (
    AmendOrder,
    CancelOrder,
    CancelTimer,
    Command,
    QueryOrder,
    StartTimer,
)
from fsm.core.config import RetryPolicy
from fsm.core.spec import (
    AmendState,
    OrderEffect,
    OrderGuard,
    OrderState,
    OrderTrigger,
    Row,
)
from fsm.core.tables.events import (
    RETRY_TIMER_PREFIX,
)
from fsm.core.values import (
    Fill,
    average_price,
)
from venues.market import (
    PlaceOrder,
    Purpose,
)

TERMINAL = spec.terminal_names(spec.ORDER_STATES)
S = TypeVar("S", OrderState, AmendState)
_LIFECYCLE_TRIGGERS = frozenset(row.trigger for row in spec.ORDER_TRANSITIONS)
_AMEND_TRIGGERS = frozenset(row.trigger for row in spec.AMEND_TRANSITIONS)


@attrs.frozen
class _Step(Generic[S]):
    """One row of the order table as ``fire`` takes it, read off the row once at import:
    names as plain strings (an enum name makes ``getattr`` take its slow path), the
    index recorded, and the ``ON_STATE_CHANGE`` effects the row runs from its source."""

    guards: tuple[str, ...]
    unless: tuple[str, ...]
    index: int  # into its table, to record which row each transition took
    dest: S | None
    effects: tuple[str, ...]
    on_change: tuple[str, ...] = ()  # run before the row's own effects
    named: str = ""  # ``dest.value``, as ``history`` records it
    terminal: bool = False  # ``dest`` is terminal


def _compile(
    table: tuple[Row[S, OrderTrigger, OrderGuard, OrderEffect], ...], lifecycle: bool
) -> dict[tuple[S, OrderTrigger], tuple[_Step[S], ...]]:
    """(source, trigger) -> its rows in table order, as ``_Step``s."""
    steps: dict[tuple[S, OrderTrigger], list[_Step[S]]] = {}
    for index, row in enumerate(table):
        moves = lifecycle and row.dest is not None and row.dest != row.source
        steps.setdefault((row.source, row.trigger), []).append(_Step(
            tuple(g.value for g in row.guards), tuple(u.value for u in row.unless), index,
            row.dest, tuple(e.value for e in row.effects),
            on_change=tuple(
                rule.effect.value for rule in spec.ON_STATE_CHANGE
                if moves and (not rule.leaving or (
                    row.source in rule.leaving and row.dest not in rule.leaving))),
            named="" if row.dest is None else row.dest.value,
            terminal=lifecycle and row.dest in TERMINAL))
    return {key: tuple(found) for key, found in steps.items()}


_STEPS: dict[tuple[OrderState, OrderTrigger], tuple[_Step[OrderState], ...]] = _compile(
    spec.ORDER_TRANSITIONS, lifecycle=True)
_AMEND_STEPS: dict[tuple[AmendState, OrderTrigger], tuple[_Step[AmendState], ...]] = _compile(
    spec.AMEND_TRANSITIONS, lifecycle=False)
# The (source, trigger) pairs whose first row has no guards and no ``unless``: the row
# ``spec.first_enabled`` takes whatever the order's facts, so ``fire`` takes it without
# asking (most of a reaction's order triggers; the fill of a quote asks ``is_complete``).
_UNGUARDED: dict[tuple[OrderState, OrderTrigger], _Step[OrderState]] = {
    key: steps[0] for key, steps in _STEPS.items()
    if not steps[0].guards and not steps[0].unless}


def retry_timer(client_id: str) -> str:
    """The stable name of an order's backoff timer: at most one is armed per order."""
    return f"{RETRY_TIMER_PREFIX}{client_id}"


class InvalidOrderTransition(RuntimeError):
    """A (state, trigger) pair the order table does not define: a bug in the table."""


@attrs.define(eq=False)
class OrderRecord:
    """One order of an entry: what was sent, what the venue said, what filled."""

    command: PlaceOrder
    attempt: int
    submitted_at: float
    policy: RetryPolicy
    state: OrderState = spec.ORDER_INITIAL
    fills: dict[str, Fill] = attrs.field(factory=dict)
    fills_total: Decimal = Decimal(0)  # the sum of ``fills``, kept as they are recorded
    venue_filled: Decimal = Decimal(0)
    acknowledged: bool = False
    cancel_wanted: bool = False
    cancel_attempts: int = 0
    amend_target: tuple[Decimal, Decimal] | None = None  # (price, total qty) asked for
    amend: AmendState = spec.AMEND_INITIAL  # the amend region of the order table
    queries: int = 0  # queries sent in the current period of uncertainty
    sends: int = 0  # re-sends of the current create or cancel after "venue unavailable"
    retry_pending: bool = False  # the backoff timer ``retry_timer(client_id)`` is armed
    cancel_unreachable: bool = False  # every send of the last cancel failed: the venue is down
    unsendable: bool = False  # refused only because the create never left, retries spent
    last_cancel_out: bool = False  # the last-resort cancel of an unresolved order is unanswered
    terminal_at: float | None = None
    venue_order_id: str | None = None
    not_found_by: ev.Operation | None = None  # the request the last "not found" answered
    create_answered: bool = False  # the create got its answer (or its timeout)
    # (at, state value) of every state taken, the first one included.
    history: tuple[tuple[float, str], ...] = ()
    # Every row taken, in order, as (at, index): into ORDER_TRANSITIONS for ``rows``,
    # into AMEND_TRANSITIONS for ``amend_rows`` (row coverage is counted from these).
    # These three are tuples of numbers and strings, which a full garbage collection stops
    # tracking (lists, and tuples holding enum members, stay tracked): with thousands of
    # live entries every tracked object lengthens each collection.
    rows: tuple[tuple[float, int], ...] = ()
    amend_rows: tuple[tuple[float, int], ...] = ()

    @property
    def client_id(self) -> str:
        return self.command.client_id

    @property
    def purpose(self) -> Purpose:
        return self.command.purpose

    @property
    def qty(self) -> Decimal:
        return self.command.qty

    @property
    def filled(self) -> Decimal:
        """The larger of the two figures (the fills' on a tie, as ``max``): a comparison
        rather than ``max``, a call that costs more than the rest (asked about ten times
        per fill)."""
        fills, venue = self.fills_total, self.venue_filled
        return fills if fills >= venue else venue

    @property
    def average_price(self) -> Decimal | None:
        return average_price(self.fills.values())

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def live(self) -> bool:
        """Not terminal: it may still fill."""
        return self.state not in TERMINAL

    # -- guards named in ORDER_TRANSITIONS
    def has_fills(self) -> bool:
        return self.filled > 0

    def is_complete(self) -> bool:
        return self.filled >= self.qty

    def was_acknowledged(self) -> bool:
        return self.acknowledged

    def create_in_flight(self) -> bool:
        """The create has had neither an answer nor a timeout: it may still reach the venue.

        Requests travel on separate connections and can overtake each other, so a cancel
        or a query can find nothing simply because the create has not arrived yet.
        """
        return not self.create_answered

    def answers_cancel(self) -> bool:
        """The "not found" being handled answers a cancel, not a query."""
        return self.not_found_by is ev.Operation.CANCEL

    def lost_in_flight(self) -> bool:
        """Refused only because a query after a lost answer found nothing."""
        return (
            self.state is OrderState.REJECTED and not self.acknowledged
            and any(state == OrderState.UNKNOWN for _, state in self.history)
        )

    def query_budget_left(self) -> bool:
        return self.queries < self.policy.query_budget

    def send_budget_left(self) -> bool:
        return self.sends < self.policy.send_budget

    def cancel_budget_left(self) -> bool:
        return self.cancel_attempts < self.policy.cancel_budget

    def cancel_budget_spent(self) -> bool:
        """The venue refused the last cancel the budget allowed: the order rests, no cancel goes.

        Only a refusal spends the budget. A cancel still in flight, or answered "not
        found" or lost (the order is then ``unknown`` and being queried), is no reason
        to give up on the entry: the query tells whether it filled.
        """
        return (
            self.cancel_wanted and self.state in spec.RESTING
            and (not self.cancel_budget_left() or self.cancel_unreachable)
        )

    # -- effects named in ORDER_TRANSITIONS (each returns the command it sends, if any)
    def send_cancel(self) -> Command:
        """A fresh cancel request: it counts against the cancel budget (refusals)."""
        self.cancel_attempts += 1
        self.sends = 0
        self.cancel_unreachable = False
        command = self.command  # its ``client_id``, not the property: a call per fill
        return CancelOrder(command.client_id, command.venue, command.symbol)

    def send_cancel_again(self) -> Command:
        """The same cancel, which never left: a send retry, not a new attempt."""
        return CancelOrder(self.client_id, self.command.venue, self.command.symbol)

    def send_place(self) -> Command:
        """The same create, which never left: same command, same client order id."""
        self.create_answered = False
        return self.command

    def _backoff(self, retry: int) -> Command | None:
        if self.retry_pending:  # one timer per order; the armed one will do
            return None
        self.retry_pending = True
        delay = self.policy.delay(retry)
        return StartTimer(retry_timer(self.client_id), delay)

    def retry_later(self) -> Command | None:
        """Arm the backoff timer for a create or cancel that never left."""
        if not self.retry_pending:
            self.sends += 1
        return self._backoff(self.sends)

    def query_later(self) -> Command | None:
        """Arm the backoff timer for the next query (the n-th failure waits base * 2**(n-1))."""
        return self._backoff(max(1, self.queries))

    def give_up_cancel(self) -> None:
        self.cancel_unreachable = True

    def note_unsendable(self) -> None:
        self.unsendable = True

    def cancel_last(self) -> Command:
        """A last cancel for an order nobody could query: harmless if nothing rests, and its
        answer (cancelled, with the filled size) may still resolve the order."""
        self.cancel_wanted = True
        self.last_cancel_out = True
        return CancelOrder(self.client_id, self.command.venue, self.command.symbol)

    def ask_afresh(self) -> Command:
        """A new period of uncertainty (after a restart): a fresh query budget, and the
        last cancel, if any, is no longer awaited (its answer went to the dead process)."""
        self.queries = 0
        self.last_cancel_out = False
        return self.query_order()

    def send_amend(self) -> Command:
        assert self.amend_target is not None
        price, qty = self.amend_target
        return AmendOrder(self.client_id, self.command.venue, self.command.symbol, price, qty)

    def query_order(self) -> Command:
        self.queries += 1
        return QueryOrder(self.client_id, self.command.venue, self.command.symbol)

    def _holds(self, guard: str) -> bool:
        value = getattr(self, guard)
        return bool(value() if callable(value) else value)

    def void_retry(self) -> Command | None:
        if not self.retry_pending:
            return None
        self.retry_pending = False
        return CancelTimer(retry_timer(self.client_id))

    def end_uncertainty(self) -> None:
        self.queries = 0

    def _run(self, effects: tuple[str, ...], commands: list[Command]) -> None:
        for effect in effects:
            command = getattr(self, effect)()
            if command is not None:
                commands.append(command)

    def fire(self, trigger: OrderTrigger, at: float) -> list[Command]:
        """Apply one order trigger to both regions of the order table.

        The lifecycle region must take a row for its triggers; the amend region is
        offered the trigger once the lifecycle accepted it (or when the trigger is the
        amend region's alone) and may have no row for it. A row that changes the state
        first runs the ``ON_STATE_CHANGE`` effects that apply (``_Step.on_change``).
        """
        commands: list[Command] = []
        lifecycle = trigger in _LIFECYCLE_TRIGGERS
        if lifecycle:
            key = (self.state, trigger)
            row = _UNGUARDED.get(key)
            if row is None:
                row = spec.first_enabled(_STEPS.get(key, ()), self._holds)
                if row is None:
                    raise InvalidOrderTransition(
                        f"order {self.client_id}: {trigger} in {self.state}")
            # ``_run`` written out twice: a call per effect list cost as much as the
            # (one-line) effects, and a reaction's order triggers pass here.
            for effect in row.on_change:
                command = getattr(self, effect)()
                if command is not None:
                    commands.append(command)
            self.rows += ((at, row.index),)
            for effect in row.effects:
                command = getattr(self, effect)()
                if command is not None:
                    commands.append(command)
            if row.dest is not None:
                self.state = row.dest
                self.history += ((at, row.named),)
                if row.terminal and self.terminal_at is None:
                    self.terminal_at = at
        if trigger not in _AMEND_TRIGGERS:
            return commands
        amend = spec.first_enabled(_AMEND_STEPS.get((self.amend, trigger), ()), self._holds)
        if amend is None and not lifecycle:
            raise InvalidOrderTransition(f"order {self.client_id}: {trigger} in {self.amend}")
        if amend is not None:
            self.amend_rows += ((at, amend.index),)
            self._run(amend.effects, commands)
            if amend.dest is not None:
                self.amend = amend.dest
        return commands
