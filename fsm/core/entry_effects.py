"""The entry table's effects: what an entry does when a row is taken.

Each public method is named by a row of ``fsm.core.tables.entry`` (``effects``); it
records orders in the ledger and appends the commands to send. Order quantities come
from this entry's own fills, never from venue positions; only whether an order may be
reduce-only is read from the account (``fsm.core.entry_account``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from fsm.core.commands import AmendOrder, RaiseAlert, ReadBook, StartTimer
from fsm.core.entry_account import EntryAccount
from fsm.core.ids import client_order_id
from fsm.core.members import BUY, HEDGE, IOC, LIMIT, MARKET, MARKET_HEDGE, OTHER, QUOTE, SIDE_OF
from fsm.core.orders import OrderRecord
from fsm.core.pricing import aggressive_price, round_down
from fsm.core.quotes import plan_quotes
from fsm.core.spec import OrderState
from fsm.core.tables.events import (
    HEDGE_TIMER,
    QUOTE_TIMER,
    REFILL_TIMER,
)
from venues.market import (
    Leg,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)


class EntryEffects(EntryAccount):
    """Effects of the entry table, named as its rows name them."""

    def _place(
        self, leg: Leg, purpose: Purpose, side: Side, kind: OrderKind,
        qty: Decimal, price: Decimal | None, tif: TimeInForce, reduce_only: bool = False,
    ) -> None:
        budget = reference = None
        if purpose is not QUOTE or tif is IOC:  # marketable: within budget
            budget, reference, price = self._within_budget(leg, purpose, side, price)
            kind = LIMIT
        spec_leg = self.request.leg(leg)
        attempt = self.ledger.next_attempt(leg, purpose)
        command = PlaceOrder(
            client_id=client_order_id(self.entry_id, leg, purpose, attempt),
            venue=spec_leg.venue, symbol=spec_leg.symbol, leg=leg, purpose=purpose,
            side=side, kind=kind, qty=qty, price=price, time_in_force=tif,
            reduce_only=reduce_only, book_age_s=self.book_age(leg),
            budget_bps=budget, budget_reference=reference,
        )
        if command.client_id in self.ledger.orders:
            self.ledger.resend(command, self._now)
        else:
            self.ledger.add(command, attempt, self._now)
        self._out.append(command)

    def _within_budget(self, leg: Leg, purpose: Purpose, side: Side, price: Decimal | None
                       ) -> tuple[Decimal, Decimal, Decimal]:
        """The budget (bps), the mid it is measured from (the freshest book held) and the
        protective price: ``price`` where it is tighter, else the budget's worst price."""
        reference = self.mid(leg)
        budget, protective = self.budget_limit(leg, purpose, side, reference)
        if purpose is HEDGE and leg in self.refill_reference:
            # after a thin-book wait: never past the price the refill was judged at
            frozen = self.budget_limit(leg, purpose, side, self.refill_reference[leg])[1]
            price = frozen if price is None else _tighter(side, price, frozen)
        if price is None:
            return budget, reference, protective
        return budget, reference, _tighter(side, price, protective)

    def _cancel(self, record: OrderRecord | None) -> None:
        if record is not None and record.live:
            self._out.extend(self.ledger.request_cancel(record.client_id, self._now))

    def place_quotes(self, *_: Any) -> None:
        """Quote every leg the plan starts as maker (both, by default)."""
        for leg, quote in plan_quotes(self.request, self.config, self.rules, self.books).items():
            if self.plan is not None and self.plan.takes(leg):
                continue
            self._place(leg, Purpose.QUOTE, leg.side, OrderKind.LIMIT, quote.qty, quote.price,
                        TimeInForce.GTC)

    def place_opening_takers(self, *_: Any) -> None:
        """Every leg the plan starts as taker: its quote is an IOC at the hedge budget's
        worst price from the arrival book (what today's marketable orders carry)."""
        assert self.plan is not None
        for leg, quote in plan_quotes(self.request, self.config, self.rules, self.books).items():
            if self.plan.takes(leg):
                self._place(leg, Purpose.QUOTE, leg.side, OrderKind.LIMIT, quote.qty, None,
                            TimeInForce.IOC)

    def start_hedge_timer(self, *_: Any) -> None:
        """The adaptive hedge: the leg left behind waits at most the plan's tau*."""
        assert self.plan is not None and self.first_leg is not None
        self.moments.setdefault("hedge_wait_started", self._now)
        self._out.append(StartTimer(HEDGE_TIMER, self.plan.hedge_wait_s(self.first_leg.other)))

    def start_quote_timer(self, *_: Any) -> None:
        self._out.append(StartTimer(QUOTE_TIMER, self.config.quote_timeout_s))

    def choose_first_leg(self, *_: Any) -> None:
        self.first_leg = self._trigger_leg()
        self.moments["trigger"] = self._now

    def cancel_sibling_quote(self, *_: Any) -> None:
        assert self.first_leg is not None
        sibling = self.quote(OTHER[self.first_leg])
        if sibling is not None and sibling.live:
            self.moments.setdefault("sibling_cancel_sent", self._now)
        self._cancel(sibling)

    def amend_sibling_to_cross(self, *_: Any) -> None:
        """Turn the resting sibling quote into the hedge: through the touch, imbalance-sized.

        The new total is what the quote has filled plus the hedge quantity, so the venue
        can never fill it beyond the leading leg; the price is the aggressive hedge price,
        never past the leg's hedge budget.
        """
        assert self.first_leg is not None
        lag = self.first_leg.other
        sibling = self.quote(lag)
        assert sibling is not None
        budget, reference, price = self._within_budget(lag, Purpose.HEDGE, lag.side,
                                                       self._crossing_price(lag))
        self.moments.setdefault("sibling_amend_sent", self._now)
        self.moments.setdefault("first_hedge_sent", self._now)
        age = self.book_age(lag)
        self._out.extend(
            attrs.evolve(command, book_age_s=age, budget_bps=budget, budget_reference=reference)
            if isinstance(command, AmendOrder) else command
            for command in self.ledger.request_amend(
                sibling.client_id, price, sibling.filled + self.hedge_qty(), self._now))

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

    def cancel_leading_quote(self, *_: Any) -> None:
        lag = self.lagging_leg()
        assert lag is not None
        quote = self.quote(lag.other)
        if quote is not None and quote.live and not quote.cancel_wanted:
            self.moments.setdefault("leading_quote_pulled", self._now)
        self._cancel(quote)

    def start_refill_wait(self, *_: Any) -> None:
        """Freeze the mid refills are judged from (the last hedge's, else the book's) and
        arm the refill timer, once per entry: it bounds every wait together."""
        lag = self.lagging_leg()
        assert lag is not None
        if lag not in self.refill_reference:
            hedge = self._latest(Purpose.HEDGE)
            reference = (hedge.command.budget_reference if hedge is not None
                         and hedge.command.leg is lag else None)
            self.refill_reference[lag] = reference or self.mid(lag)
        if not self.refill_started:
            self.refill_started = True
            self._out.append(StartTimer(REFILL_TIMER, self.config.refill_timeout_s))

    def place_hedge(self, *_: Any) -> None:
        lag = self.lagging_leg()
        assert lag is not None
        self.hedge_attempts += 1
        self.moments.setdefault("first_hedge_sent", self._now)
        qty = self.hedge_qty()
        if self.config.hedge_order is MARKET_HEDGE:
            self._place(lag, HEDGE, SIDE_OF[lag], MARKET, qty, None, IOC)
            return
        self._place(lag, HEDGE, SIDE_OF[lag], LIMIT, qty, self._crossing_price(lag), IOC)

    def read_book(self, *_: Any) -> None:
        """Ask for the lagging leg's book afresh: the one held is too old to price from, or
        it holds nothing within the budget (then the read is the first look at a refill)."""
        lag = self.lagging_leg()
        assert lag is not None
        spec_leg = self.request.leg(lag)
        self.book_reads_out += 1
        fresh = self.book_age(lag) <= self.config.max_book_age_s
        self._out.append(ReadBook(lag, spec_leg.venue, spec_leg.symbol, refill=fresh))

    def _crossing_price(self, leg: Leg) -> Decimal:
        """An aggressive limit through the touch, capped by the slippage limit measured
        from the leg's own quote price (what the entry meant to pay)."""
        quote = self.quote(leg)
        book = self.books[leg]
        reference = quote.command.price if quote and quote.command.price else self.mid(leg)
        return aggressive_price(
            book, SIDE_OF[leg], self.config.hedge_limit_offset_pct, reference,
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
                    TimeInForce.IOC, reduce_only=self._reduce_only_now(lead, side, qty))

    def place_flatten(self, *_: Any) -> None:
        self.rollback_rounds += 1
        for leg, side, qty in self._flatten_plan():
            self._place(leg, Purpose.ROLLBACK, side, OrderKind.MARKET,
                        qty, None, TimeInForce.IOC,
                        reduce_only=self._reduce_only_now(leg, side, qty))

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

    def raise_unbalanced_alert(self, *_: Any) -> None:
        """Why the entry is not ``complete``: the net, what each venue holds for it, and
        that nothing more could be traded to close the gap."""
        holds = ", ".join(f"{venue} {qty}" for venue, qty in self.residuals().items())
        self._out.append(RaiseAlert(
            f"entry {self.entry_id} ended unbalanced: net exposure {self.imbalance()} is "
            f"more than one lot ({self.tolerance()}) and nothing tradable can close it; "
            f"this entry holds {holds}",
            {"net": self.imbalance(), **self.residuals()},
        ))


def _tighter(side: Side, price: Decimal, other: Decimal) -> Decimal:
    """The more protective of two limits for a taker on ``side``."""
    return min(price, other) if side is BUY else max(price, other)
