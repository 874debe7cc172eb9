"""The entry model: events in, commands out. No clock, no awaits, no venue calls.

``EntryModel.handle(event)`` updates the order ledger, fires the entry triggers the
event means (the event table, ``fsm.core.tables.events``) through the compiled machine
(``fsm.core.runtime``), lets decision states ``evaluate`` until nothing more applies,
and returns the commands the transitions emitted. Same events in, same commands out,
always.

The guards and effects named in ``fsm.core.spec.ENTRY_TRANSITIONS`` are the methods of
``fsm.core.entry_guards`` and ``fsm.core.entry_effects``, over the facts of
``fsm.core.entry_facts``; they are the only behaviour of an entry. Quantities are
settled per leg from this entry's own deduplicated fills, never from venue positions:
a strategy may already hold a position on the same symbol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.commands import Command, RaiseAlert
from fsm.core.config import EntryConfig
from fsm.core.entry_effects import EntryEffects
from fsm.core.entry_facts import Transition
from fsm.core.entry_guards import EntryGuards
from fsm.core.fees import rates_for
from fsm.core.ledger import Change
from fsm.core.orders import OrderRecord
from fsm.core.planner import plan_entry, planning
from fsm.core.runtime import CompiledRow, EntryRuntime, entry_runtime
from fsm.core.spec import EntryTrigger
from fsm.core.tables.events import (
    FOLLOWS_BY_CHANGE,
    REFILL_TIMER,
    RETRY_TIMER_PREFIX,
    rule_for,
)
from fsm.core.values import EntryRequest
from venues.market import Leg

__all__ = ["EVALUATING", "MAX_EVALUATIONS", "TERMINAL", "EntryModel", "Transition"]

MAX_EVALUATIONS = 32
# What ``_out`` holds between events: no list per idle entry for the gc to traverse, and
# an effect run outside ``handle`` or ``trigger`` fails loudly instead of emitting.
_AT_REST = cast("list[Command]", ())
TERMINAL = spec.terminal_names(spec.ENTRY_STATES)
EVALUATING = frozenset(
    name for name in spec.leaf_names(spec.ENTRY_STATES)
    if spec.rows_for(spec.ENTRY_TRANSITIONS, name, EntryTrigger.EVALUATE)
)



class EntryModel(EntryGuards, EntryEffects):
    """One hedged entry's decisions. Drive it with ``handle``; read its ledger and path."""

    state: str

    def __init__(
        self,
        entry_id: str,
        request: EntryRequest,
        config: EntryConfig,
        runtime: EntryRuntime | None = None,
    ) -> None:
        super().__init__(entry_id, request, config)
        self._from_state: str = spec.ENTRY_INITIAL.value
        self._truth: dict[str, bool] = {}  # guard answers, for the trigger being fired
        # ``evaluate`` found nothing to do and nothing changed since (see ``_fire``).
        self._settled = False
        self._runtime = runtime if runtime is not None else entry_runtime()
        self.state = spec.ENTRY_INITIAL.value  # all transitions needs (see fsm.core.runtime)

    # ------------------------------------------------------------------ driving
    def handle(self, event: ev.Event) -> list[Command]:
        """Consume one event; return the commands it caused, in order."""
        self._now = event.at
        if self.state in TERMINAL:  # a late answer or report: the entry has decided
            self.ignored += (f"{type(event).__name__} after the entry ended {self.state}",)
            return []
        self._out = []
        self._settled = False  # the bookkeeping below changes what the guards read
        for trigger in self._absorb(event):
            if self.state in TERMINAL:
                break
            self._fire(trigger)
        out, self._out = self._out, _AT_REST
        for command in out:
            if isinstance(command, RaiseAlert):
                self.alerts += (command,)
        self._truth.clear()  # an empty dict is one the next full gc stops tracking
        return out

    def detach(self) -> None:
        """Nothing to release: no machine holds a reference to the model (kept so callers
        need not know how the runtime binds models)."""

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def trigger(self, trigger: str) -> bool:
        """Fire one trigger through ``transitions`` as it stands, guards asked afresh."""
        self._truth.clear()
        self._out = []  # effects may emit: nothing collects them here (``handle`` does)
        self._from_state = self.state
        self._settled = False
        return self._runtime.fire(self, trigger)

    def holds(self, guard: str) -> bool:
        """A guard's answer, evaluated at most once per trigger (see ``_lookahead``)."""
        truth = self._truth.get(guard)
        if truth is None:
            # ``str()``: a StrEnum name would make CPython give the model a dict object
            # (attributes are kept inline only while looked up by exact str).
            truth = self._truth[guard] = bool(getattr(self, str(guard))())
        return truth

    def _fire(self, trigger: str) -> None:
        """``trigger``, then ``evaluate`` until nothing more applies.

        A trigger that did nothing (``_step`` False: no row ran, no effect, no state
        change) after an ``evaluate`` that did nothing leaves the facts as they were, so
        evaluating again would find nothing again: it is skipped. The second trigger of a
        fill that also ended its order (``fill`` then ``order_update``) is the usual case.
        """
        if not self._step(trigger) and self._settled:
            return
        self._settled = False
        for _ in range(MAX_EVALUATIONS):
            if self.state not in EVALUATING or not self._step("evaluate"):
                self._settled = True
                return
        raise RuntimeError(f"entry {self.entry_id}: evaluate did not settle in {self.state}")

    def _step(self, trigger: str) -> bool:
        """One trigger: the row the spec's first-enabled rule takes here, executed if it
        does something (see ``_lookahead``); False: it would do nothing."""
        row = self._lookahead(trigger)
        if row is None or not row.acts:
            return False
        self._from_state = self.state
        self._execute(trigger, row)
        return True

    def _execute(self, trigger: str, row: CompiledRow) -> None:
        """Execute the chosen row by table dispatch (``EntryRuntime.execute``): the runtime
        form the measurements of ``fsm.core.runtime`` chose; ``transitions`` is the oracle
        it is tested against. The benchmark overrides this to time the other forms."""
        self._runtime.execute(self, trigger, row)

    def _acts(self, trigger: str) -> bool:
        """Whether ``trigger`` would do anything here: the first enabled row changes the
        state or has effects (a state without rows for it: True, ``trigger`` refuses it)."""
        if not self._runtime.has_rows(self.state, trigger):
            self._truth.clear()
            return True
        row = self._lookahead(trigger)
        return row is not None and row.acts

    def _lookahead(self, trigger: str) -> CompiledRow | None:
        """The row the spec's first-enabled rule takes for ``trigger`` (None: no row is
        enabled). Starts the trigger: guard answers are forgotten, then each guard asked
        is remembered until the next trigger.

        Most events are answered by no row or by an internal row without effects ("note
        the order's new state", an ``evaluate`` with nothing to decide); those execute
        nothing. A state with no row for the trigger is a bug of the caller or the table:
        ``transitions`` refuses it (``MachineError``), as it always has.
        """
        truth = self._truth
        truth.clear()
        choices = self._runtime.choices.get((self.state, trigger))
        if choices is None:
            self._runtime.fire(self, trigger)  # raises MachineError
            raise AssertionError(f"transitions took {trigger} in {self.state}, no row has it")
        # ``spec.first_enabled`` over the compiled rows, with ``holds`` written out: every
        # event of every entry passes here, asking about a dozen guards on a reaction, and
        # a call per guard cost more than most of the (one-line) guards.
        # ``tests/test_runtime_matches_spec.py`` checks it takes the row the spec names.
        self._choosing, self._lead_known = True, False  # see EntryFacts._choosing
        try:
            for guards, unless, row in choices:
                for name in guards:
                    holds = truth.get(name)
                    if holds is None:
                        holds = truth[name] = bool(getattr(self, name)())
                    if not holds:
                        break
                else:
                    for name in unless:
                        holds = truth.get(name)
                        if holds is None:
                            holds = truth[name] = bool(getattr(self, name)())
                        if holds:
                            break
                    else:
                        return row
            return None
        finally:
            self._choosing = self._lead_known = False

    def _absorb(self, event: ev.Event) -> tuple[EntryTrigger, ...]:
        """Bookkeeping for one event; returns the entry triggers it means, in order.

        Which triggers an event fires is the event table's (``fsm.core.tables.events``);
        this only keeps what the guards read (books, rules, reasons, fills).
        """
        rule = rule_for(event)
        match event:
            case ev.Start():
                for leg, book in event.books.items():
                    self.keep_book(leg, book, event.at)
                self.arrival_books = dict(event.books)
                self.rules = dict(event.rules)
                self._rules_changed()
                self.start_positions.update(event.positions)
                self.reference_price = sum(
                    (book.mid for book in self.books.values()), Decimal(0)
                ) / max(len(self.books), 1)
                self.moments["start"] = event.at
                if planning(self.config, self.request.conservative):  # else: both quote as before
                    self.plan = plan_entry(
                        self.request, self.config, self.rules, self.books,
                        {leg: rates_for(self.request.leg(leg).venue,
                                        self.request.leg(leg).symbol,
                                        self.rules.get(leg), self.config.fees)
                         for leg in (Leg.LONG, Leg.SHORT)},
                        conservative=self.request.conservative)
            case ev.BookUpdate():
                self.keep_book(event.leg, event.book, event.at, event.venue_at)
            case ev.BookRead():
                self.book_reads_out = max(self.book_reads_out - 1, 0)
                self.keep_book(event.leg, event.book, event.at)
            case ev.AccountRead():
                self.absorb_account(event)
            case ev.TimerFired() if rule.order:  # an order's backoff timer
                cid = event.name.removeprefix(RETRY_TIMER_PREFIX)
                retried = self.ledger.orders.get(cid)
                if retried is None:
                    self.ignored += (f"timer {event.name} of nothing",)
                    return ()
                return self._changed(retried, self.ledger.retry_due(cid, event.at, rule),
                                     event.at)
            case ev.TimerFired() if event.name == REFILL_TIMER:
                self.refill_over = True  # every later thin book rolls back at once
            case ev.TimerFired() if rule.entry == ():
                self.ignored += (f"timer {event.name} of nothing",)
            case ev.Kill():
                self.stop_reason = f"kill: {event.reason}"
            case ev.VenueFatal() | ev.FatalAnswer():
                self.stop_reason = f"{event.venue}: {event.reason}"
            case ev.Recovered():
                for leg, book in event.books.items():
                    self.keep_book(leg, book, event.at)
                self.moments["recovered"] = event.at
                self.book_reads_out = 0  # the reads in flight lost their answers
                change = self.ledger.recover(event.at, rule)
                self._fills_changed()
                self._out.extend(change.commands)
        if rule.entry is not None:
            return rule.entry
        assert isinstance(event, ev.OrderEvent)
        record = self.ledger.orders.get(event.client_id)
        if record is None:
            self.ignored += (f"{type(event).__name__} for unknown order {event.client_id}",)
            return rule.then
        return self._changed(record, self.ledger.apply(event, rule), event.at) + rule.then

    def _changed(
        self, record: OrderRecord, change: Change, at: float
    ) -> tuple[EntryTrigger, ...]:
        """The entry triggers one change of the ledger means (``ENTRY_FOLLOWS``, read off
        once per combination of changes: ``FOLLOWS_BY_CHANGE``).

        One event can do two things: a query's answer may bring fills and a new state
        (an unknown order found live, part filled, its cancel budget spent). Both
        triggers fire, fill first, so neither the fill nor the state change goes unseen.
        """
        self._out.extend(change.commands)
        if change.filled_more:  # positions move only with fills: ``filled`` only grows
            self._fills_changed()
            self._last_fill_leg = record.command.leg
            self.moments.setdefault("first_fill", at)
            self.exposure += ((at, self.imbalance()),)
        return FOLLOWS_BY_CHANGE[
            (change.filled_more, change.state_changed, change.amend_answered)]

    # ------------------------------------------------------------------ row hook
    def took(self, row: int, trigger: str, moves: bool) -> None:
        """The runtime (or ``transitions``) executed ``row``; one that moves is a step of
        the path."""
        if moves:
            self.path.append(
                Transition(self.entry_id, self._now, trigger, self._from_state, self.state, row)
            )
