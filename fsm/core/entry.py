"""The entry model: events in, commands out. No clock, no awaits, no venue calls.

``EntryModel.handle(event)`` updates the order ledger, fires the entry trigger the
event means (see ``fsm.core.spec``), lets decision states ``evaluate`` until nothing more
applies, and returns the commands the transitions emitted. Same events in, same
commands out, always.

The guards and effects named in ``fsm.core.spec.ENTRY_TRANSITIONS`` are the methods below;
they are the only behaviour of an entry. Quantities are settled per leg from this
entry's own deduplicated fills, never from venue positions: a strategy may already
hold a position on the same symbol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from fsm.core import events as ev
from fsm.core import spec
from fsm.core.commands import (
    Command,
    RaiseAlert,
    StartTimer,
)
from fsm.core.config import EntryConfig, HedgeMode, HedgeOrder
from fsm.core.ids import client_order_id
from fsm.core.ledger import Change, OrderLedger
from fsm.core.orders import OrderRecord
from fsm.core.pricing import aggressive_price, round_down
from fsm.core.quotes import plan_quotes
from fsm.core.runtime import EntryRuntime, entry_runtime
from fsm.core.spec import EntryTrigger, OrderState
from fsm.core.tables.events import (
    ENTRY_FOLLOWS,
    QUOTE_TIMER,
    RETRY_TIMER_PREFIX,
    OrderChange,
    rule_for,
)
from fsm.core.values import EntryRequest
from venues.market import (
    Book,
    Leg,
    MarketRules,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)

MAX_EVALUATIONS = 32
TERMINAL = spec.terminal_names(spec.ENTRY_STATES)
EVALUATING = frozenset(
    name for name in spec.leaf_names(spec.ENTRY_STATES)
    if spec.rows_for(spec.ENTRY_TRANSITIONS, name, EntryTrigger.EVALUATE)
)


@attrs.frozen
class Transition:
    """One transition taken, as listeners and the result's path see it."""

    entry_id: str
    at: float
    trigger: str
    source: str
    dest: str
    row: int  # index into fsm.core.spec.ENTRY_TRANSITIONS


class EntryModel:
    """One hedged entry's decisions. Drive it with ``handle``; read its ledger and path."""

    state: str

    def __init__(
        self,
        entry_id: str,
        request: EntryRequest,
        config: EntryConfig,
        runtime: EntryRuntime | None = None,
    ) -> None:
        self.entry_id = entry_id
        self.request = request
        self.config = config
        self.ledger = OrderLedger(config.retry_policy())
        self.books: dict[Leg, Book] = {}
        self.rules: dict[Leg, MarketRules] = {}
        self.start_positions: dict[Leg, Decimal] = {Leg.LONG: Decimal(0), Leg.SHORT: Decimal(0)}
        self.first_leg: Leg | None = None
        self.stop_reason: str | None = None
        self.hedge_attempts = 0
        self.trim_attempts = 0
        self.rollback_rounds = 0
        self.path: list[Transition] = []
        self.alerts: list[RaiseAlert] = []
        self.ignored: list[str] = []
        self.exposure: list[tuple[float, Decimal]] = []
        self.moments: dict[str, float] = {}
        self.reference_price = Decimal(0)
        self._now = 0.0
        self._out: list[Command] = []
        self._last_fill_leg: Leg | None = None
        self._positions: dict[Leg, Decimal] = {}
        self._from_state: str = spec.ENTRY_INITIAL.value
        self._truth: dict[str, bool] = {}  # guard answers, for the trigger being fired
        self._runtime = runtime if runtime is not None else entry_runtime()
        self.state = spec.ENTRY_INITIAL.value  # all transitions needs (see fsm.core.runtime)

    # ------------------------------------------------------------------ driving
    def handle(self, event: ev.Event) -> list[Command]:
        """Consume one event; return the commands it caused, in order."""
        self._now = event.at
        if self.terminal:  # a late answer or report: the entry has decided, nothing follows
            self.ignored.append(f"{type(event).__name__} after the entry ended {self.state}")
            return []
        self._out = []
        for trigger in self._absorb(event):
            if self.terminal:
                break
            self._fire(trigger)
        out, self._out = self._out, []
        self.alerts.extend(c for c in out if isinstance(c, RaiseAlert))
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
        self._from_state = self.state
        return self._runtime.fire(self, trigger)

    def holds(self, guard: str) -> bool:
        """A guard's answer, evaluated at most once per trigger (see ``_acts``)."""
        truth = self._truth.get(guard)
        if truth is None:
            truth = self._truth[guard] = bool(getattr(self, guard)())
        return truth

    def _fire(self, trigger: str) -> None:
        self._step(trigger)
        for _ in range(MAX_EVALUATIONS):
            if self.state not in EVALUATING or not self._step("evaluate"):
                return
        raise RuntimeError(f"entry {self.entry_id}: evaluate did not settle in {self.state}")

    def _step(self, trigger: str) -> bool:
        """One trigger: ``transitions`` executes it if a row would do something here."""
        if not self._acts(trigger):
            return False
        self._from_state = self.state
        self._runtime.fire(self, trigger)
        return True

    def _acts(self, trigger: str) -> bool:
        """Whether ``trigger`` would do anything here: the first enabled row changes the
        state or has effects. Starts the trigger: guard answers are forgotten, then each
        guard asked is remembered, so ``transitions`` (fired next, if this is True) reads
        the same answers instead of evaluating the guards again.

        Most events are answered by no row or by an internal row without effects ("note
        the order's new state", an ``evaluate`` with nothing to decide); those are not
        handed to ``transitions`` at all. A (state, trigger) pair with no row still goes
        to ``transitions``, which refuses it.
        """
        self._truth.clear()
        if not self._runtime.has_rows(self.state, trigger):
            return True
        row = self._runtime.choose(self.state, trigger, self.holds)
        return row is not None and (row.dest is not None or bool(row.effects))

    def _absorb(self, event: ev.Event) -> tuple[EntryTrigger, ...]:
        """Bookkeeping for one event; returns the entry triggers it means, in order.

        Which triggers an event fires is the event table's (``fsm.core.tables.events``);
        this only keeps what the guards read (books, rules, reasons, fills).
        """
        rule = rule_for(event)
        match event:
            case ev.Start():
                self.books = dict(event.books)
                self.rules = dict(event.rules)
                self.start_positions.update(event.positions)
                self.reference_price = sum(
                    (book.mid for book in self.books.values()), Decimal(0)
                ) / max(len(self.books), 1)
                self.moments["start"] = event.at
            case ev.BookUpdate():
                self.books[event.leg] = event.book
            case ev.TimerFired() if rule.order:  # an order's backoff timer
                cid = event.name.removeprefix(RETRY_TIMER_PREFIX)
                retried = self.ledger.orders.get(cid)
                if retried is None:
                    self.ignored.append(f"timer {event.name} of nothing")
                    return ()
                return self._changed(retried, self.ledger.retry_due(cid, event.at, rule),
                                     event.at)
            case ev.TimerFired() if rule.entry == ():
                self.ignored.append(f"timer {event.name} of nothing")
            case ev.Kill():
                self.stop_reason = f"kill: {event.reason}"
            case ev.VenueFatal() | ev.FatalAnswer():
                self.stop_reason = f"{event.venue}: {event.reason}"
            case ev.Recovered():
                self.books.update(event.books)
                self.moments["recovered"] = event.at
                change = self.ledger.recover(event.at, rule)
                self._positions.clear()
                self._out.extend(change.commands)
        if rule.entry is not None:
            return rule.entry
        assert isinstance(event, ev.OrderEvent)
        record = self.ledger.orders.get(event.client_id)
        if record is None:
            self.ignored.append(f"{type(event).__name__} for unknown order {event.client_id}")
            return rule.then
        return self._changed(record, self.ledger.apply(event, rule), event.at) + rule.then

    def _changed(
        self, record: OrderRecord, change: Change, at: float
    ) -> tuple[EntryTrigger, ...]:
        """The entry triggers one change of the ledger means (``ENTRY_FOLLOWS``).

        One event can do two things: a query's answer may bring fills and a new state
        (an unknown order found live, part filled, its cancel budget spent). Both
        triggers fire, fill first, so neither the fill nor the state change goes unseen.
        """
        self._positions.clear()
        self._out.extend(change.commands)
        if change.filled_more:
            self._last_fill_leg = record.command.leg
            self.moments.setdefault("first_fill", at)
            self.exposure.append((at, self.imbalance()))
        happened = {
            OrderChange.FILLED_MORE: change.filled_more,
            OrderChange.STATE_CHANGED: change.state_changed,
            OrderChange.AMEND_ANSWERED: change.amend_answered,
        }
        return tuple(follow.trigger for follow in ENTRY_FOLLOWS
                     if any(happened[c] for c in follow.changes))

    # ------------------------------------------------------------ transitions hooks
    def took(self, row: int, trigger: str, moves: bool) -> None:
        """``transitions`` executed ``row``; one that moves is a step of the path."""
        if moves:
            self.path.append(
                Transition(self.entry_id, self._now, trigger, self._from_state, self.state, row)
            )

    # ------------------------------------------------------------------- facts
    def quote(self, leg: Leg) -> OrderRecord | None:
        for record in self.ledger:
            if record.purpose is Purpose.QUOTE and record.command.leg is leg:
                return record
        return None

    def _quotes(self) -> list[OrderRecord]:
        return [r for r in self.ledger if r.purpose is Purpose.QUOTE]

    def _latest(self, purpose: Purpose) -> OrderRecord | None:
        found = None
        for record in self.ledger:
            if record.purpose is purpose:
                found = record
        return found

    def position(self, leg: Leg) -> Decimal:
        """This entry's size on ``leg``, in the leg's direction, from its own fills.

        Guards ask for it many times per event, so it is computed once per change of
        the ledger's fills (only ``ledger.apply`` changes them; see ``_absorb``).
        """
        cached = self._positions.get(leg)
        if cached is None:
            cached = self._positions[leg] = sum(
                (r.filled if r.command.side is leg.side else -r.filled
                 for r in self.ledger if r.command.leg is leg),
                Decimal(0),
            )
        return cached

    def imbalance(self) -> Decimal:
        """Net exposure: long size minus short size (positive: the long leg is ahead)."""
        return self.position(Leg.LONG) - self.position(Leg.SHORT)

    def tolerance(self) -> Decimal:
        """One lot: the larger lot of the two venues."""
        if not self.rules:
            return Decimal(0)
        return max(rules.lot for rules in self.rules.values())

    def lagging_leg(self) -> Leg | None:
        imbalance = self.imbalance()
        if imbalance == 0:
            return None
        return Leg.SHORT if imbalance > 0 else Leg.LONG

    def hedge_qty(self) -> Decimal:
        lag = self.lagging_leg()
        if lag is None:
            return Decimal(0)
        return round_down(abs(self.imbalance()), self.rules[lag].lot)

    def _tradable(self, leg: Leg, side: Side, qty: Decimal) -> bool:
        return self.rules[leg].tradable(qty, self.books[leg].far_touch(side))

    def _needs_hedge(self) -> bool:
        lag = self.lagging_leg()
        return lag is not None and self._tradable(lag, lag.side, self.hedge_qty())

    def _venue_position(self, leg: Leg) -> Decimal:
        """The venue's position as this entry knows it: before the entry plus its fills."""
        signed = self.position(leg) if leg is Leg.LONG else -self.position(leg)
        return self.start_positions[leg] + signed

    def _reduces_only(self, leg: Leg, side: Side, qty: Decimal) -> bool:
        """Whether an order may be sent reduce-only: it only shrinks the venue position.

        An entry that reduced an opposite pre-existing position cannot be undone with a
        reduce-only order (the venue would refuse it): it is sent as a plain order.
        """
        position = self._venue_position(leg)
        return position * side.sign < 0 and abs(position) >= qty

    # ------------------------------------------------------------------ guards
    def trigger_fill_reached(self, *_: Any) -> bool:
        return self._trigger_leg() is not None

    def _trigger_leg(self) -> Leg | None:
        ratio = self.config.hedge_trigger_fill_ratio
        reached = [
            q.command.leg for q in self._quotes() if q.filled > 0 and q.filled >= ratio * q.qty
        ]
        if self._last_fill_leg in reached:
            return self._last_fill_leg
        return reached[0] if reached else None

    def sibling_amendable(self, *_: Any) -> bool:
        """Amend-to-cross is asked for, and the sibling quote rests where amends exist."""
        if self.config.hedge_mode is not HedgeMode.AMEND_TO_CROSS:
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
        return any(q.terminal for q in self._quotes())

    def quotes_settled(self, *_: Any) -> bool:
        return all(q.terminal for q in self._quotes())

    def anything_filled(self, *_: Any) -> bool:
        return any(r.filled > 0 for r in self.ledger)

    def cancel_in_flight(self, *_: Any) -> bool:
        return any(r.cancel_wanted and r.live for r in self.ledger)

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
        hedge = self._latest(Purpose.HEDGE)
        return not blocked and (hedge is None or hedge.terminal)

    def maker_still_quoting(self, *_: Any) -> bool:
        return any(q.live and not q.cancel_wanted for q in self._quotes())

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
        return all(r.terminal for r in self.ledger)

    def hedge_settled(self, *_: Any) -> bool:
        hedge = self._latest(Purpose.HEDGE)
        return hedge is None or hedge.terminal

    def hedge_budget_spent(self, *_: Any) -> bool:
        return self.hedge_attempts >= 1 + self.config.hedge_retry_budget and self._needs_hedge()

    def trim_settled(self, *_: Any) -> bool:
        trim = self._latest(Purpose.TRIM)
        return trim is None or trim.terminal

    def reconcile_needed(self, *_: Any) -> bool:
        return not self.maker_still_quoting() or self._needs_hedge()

    def cancel_budget_spent(self, *_: Any) -> bool:
        return any(r.cancel_budget_spent() for r in self.ledger)

    def order_unresolved(self, *_: Any) -> bool:
        return any(r.state is OrderState.UNRESOLVED for r in self.ledger)

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

    def _flatten_plan(self) -> list[tuple[Leg, Side, Decimal]]:
        plan = []
        for leg in (Leg.LONG, Leg.SHORT):
            size = self.position(leg)
            if size == 0:
                continue
            side = leg.side.opposite if size > 0 else leg.side
            qty = round_down(abs(size), self.rules[leg].lot)
            if self._tradable(leg, side, qty):
                plan.append((leg, side, qty))
        return plan

    def exposure_flattenable(self, *_: Any) -> bool:
        return bool(self._flatten_plan())

    def exposure_beyond_lot(self, *_: Any) -> bool:
        return any(abs(self.position(leg)) > self.rules[leg].lot for leg in self.rules)

    def rollback_budget_left(self, *_: Any) -> bool:
        return self.rollback_rounds < 1 + self.config.rollback_retry_budget

    # ----------------------------------------------------------------- effects
    def _place(
        self, leg: Leg, purpose: Purpose, side: Side, kind: OrderKind,
        qty: Decimal, price: Decimal | None, tif: TimeInForce, reduce_only: bool = False,
    ) -> None:
        spec_leg = self.request.leg(leg)
        attempt = self.ledger.next_attempt(leg, purpose)
        command = PlaceOrder(
            client_id=client_order_id(self.entry_id, leg, purpose, attempt),
            venue=spec_leg.venue, symbol=spec_leg.symbol, leg=leg, purpose=purpose,
            side=side, kind=kind, qty=qty, price=price, time_in_force=tif,
            reduce_only=reduce_only,
        )
        if command.client_id in self.ledger.orders:
            self.ledger.resend(command, self._now)
        else:
            self.ledger.add(command, attempt, self._now)
        self._out.append(command)

    def _cancel(self, record: OrderRecord | None) -> None:
        if record is not None and record.live:
            self._out.extend(self.ledger.request_cancel(record.client_id, self._now))

    def place_quotes(self, *_: Any) -> None:
        for leg, quote in plan_quotes(self.request, self.config, self.rules, self.books).items():
            self._place(leg, Purpose.QUOTE, leg.side, OrderKind.LIMIT, quote.qty, quote.price,
                        TimeInForce.GTC)

    def start_quote_timer(self, *_: Any) -> None:
        self._out.append(StartTimer(QUOTE_TIMER, self.config.quote_timeout_s))

    def choose_first_leg(self, *_: Any) -> None:
        self.first_leg = self._trigger_leg()
        self.moments["trigger"] = self._now

    def cancel_sibling_quote(self, *_: Any) -> None:
        assert self.first_leg is not None
        sibling = self.quote(self.first_leg.other)
        if sibling is not None and sibling.live:
            self.moments.setdefault("sibling_cancel_sent", self._now)
        self._cancel(sibling)

    def amend_sibling_to_cross(self, *_: Any) -> None:
        """Turn the resting sibling quote into the hedge: through the touch, imbalance-sized.

        The new total is what the quote has filled plus the hedge quantity, so the venue
        can never fill it beyond the leading leg; the price is the aggressive hedge price.
        """
        assert self.first_leg is not None
        lag = self.first_leg.other
        sibling = self.quote(lag)
        assert sibling is not None
        price = self._crossing_price(lag)
        self.moments.setdefault("sibling_amend_sent", self._now)
        self.moments.setdefault("first_hedge_sent", self._now)
        self._out.extend(self.ledger.request_amend(
            sibling.client_id, price, sibling.filled + self.hedge_qty(), self._now
        ))

    def cancel_live_quotes(self, *_: Any) -> None:
        for quote in self._quotes():
            self._cancel(quote)

    def cancel_live_orders(self, *_: Any) -> None:
        for record in list(self.ledger):
            self._cancel(record)

    def cancel_hedge_venue_quote(self, *_: Any) -> None:
        lag = self.lagging_leg()
        assert lag is not None
        self._cancel(self.quote(lag))

    def place_hedge(self, *_: Any) -> None:
        lag = self.lagging_leg()
        assert lag is not None
        self.hedge_attempts += 1
        self.moments.setdefault("first_hedge_sent", self._now)
        qty = self.hedge_qty()
        if self.config.hedge_order is HedgeOrder.MARKET:
            self._place(lag, Purpose.HEDGE, lag.side, OrderKind.MARKET,
                        qty, None, TimeInForce.IOC)
            return
        self._place(lag, Purpose.HEDGE, lag.side, OrderKind.LIMIT,
                    qty, self._crossing_price(lag), TimeInForce.IOC)

    def _crossing_price(self, leg: Leg) -> Decimal:
        """An aggressive limit through the touch, capped by the slippage limit measured
        from the leg's own quote price (what the entry meant to pay)."""
        quote = self.quote(leg)
        book = self.books[leg]
        reference = quote.command.price if quote and quote.command.price else book.mid
        return aggressive_price(
            book, leg.side, self.config.hedge_limit_offset_pct, reference,
            self.config.hedge_max_slippage_pct, self.rules[leg].tick,
        )

    def place_trim(self, *_: Any) -> None:
        lag = self.lagging_leg()
        assert lag is not None
        lead = lag.other
        self.trim_attempts += 1
        side = lead.side.opposite
        qty = round_down(abs(self.imbalance()), self.rules[lead].lot)
        self._place(lead, Purpose.TRIM, side, OrderKind.MARKET, qty, None,
                    TimeInForce.IOC, reduce_only=self._reduces_only(lead, side, qty))

    def place_flatten(self, *_: Any) -> None:
        self.rollback_rounds += 1
        for leg, side, qty in self._flatten_plan():
            self._place(leg, Purpose.ROLLBACK, side, OrderKind.MARKET,
                        qty, None, TimeInForce.IOC,
                        reduce_only=self._reduces_only(leg, side, qty))

    def residuals(self) -> dict[str, Decimal]:
        return {self.request.leg(leg).venue: self.position(leg) for leg in (Leg.LONG, Leg.SHORT)}

    def report_residual(self, *_: Any) -> None:
        imbalance = self.imbalance()
        if abs(imbalance) > self.tolerance():
            self._out.append(RaiseAlert(
                f"entry {self.entry_id} completed with net exposure {imbalance} "
                f"(more than one lot, {self.tolerance()})",
                {"net": imbalance, **self.residuals()},
            ))

    def raise_residual_alert(self, *_: Any) -> None:
        unresolved = [r for r in self.ledger if r.state is OrderState.UNRESOLVED]
        live = [r.client_id for r in self.ledger if r.live and r.state is not OrderState.UNRESOLVED]
        holds = ", ".join(f"{venue} {qty}" for venue, qty in self.residuals().items())
        if unresolved:
            head = (f"entry {self.entry_id} gave up: outcome unknown after every query of "
                    + ", ".join(
                        f"{r.client_id} ({r.purpose.value} {r.command.side.value} {r.qty} on "
                        f"{r.command.venue}, {r.queries} quer{'y' if r.queries == 1 else 'ies'}; "
                        f"possibly live, filled "
                        f"between {r.filled} and {r.qty})" for r in unresolved)
                    + f"; nothing was flattened; this entry's known fills hold {holds}")
        else:
            head = f"entry {self.entry_id} could not roll back: this entry still holds {holds}"
        detail = f"; orders still live: {', '.join(live)}" if live else ""
        self._out.append(RaiseAlert(head + detail, self.residuals()))
