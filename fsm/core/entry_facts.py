"""What an entry knows: its orders, books and rules, and the facts derived from them.

The base of the entry model (``fsm.core.entry``): the state its guards read and its
effects change, and the quantities both ask for (positions from this entry's own fills,
the imbalance, the lagging leg, what a hedge or a flatten would be). Nothing here
decides; the guards (``fsm.core.entry_guards``) and effects (``fsm.core.entry_effects``)
named in the entry table do.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import attrs

from fsm.core.commands import Command, RaiseAlert
from fsm.core.config import EntryConfig, RetryPolicy
from fsm.core.ledger import OrderLedger
from fsm.core.members import BUY, HEDGE, LONG, SELL, SHORT, SIDE_OF
from fsm.core.orders import OrderRecord
from fsm.core.planner import Plan
from fsm.core.pricing import protective_price, round_down
from fsm.core.values import EntryRequest
from venues.depth import quantity_up_to
from venues.market import (
    Book,
    Leg,
    MarketRules,
    Purpose,
    Side,
)


@functools.lru_cache(maxsize=16)
def _retry_policy(config: EntryConfig) -> RetryPolicy:
    """One policy value per config, shared by its entries (frozen: sharing is safe)."""
    return config.retry_policy()


@attrs.frozen
class Transition:
    """One transition taken, as listeners and the result's path see it."""

    entry_id: str
    at: float
    trigger: str
    source: str
    dest: str
    row: int  # index into fsm.core.spec.ENTRY_TRANSITIONS


class EntryFacts:
    """The entry's state and the facts its guards and effects share."""

    def __init__(
        self,
        entry_id: str,
        request: EntryRequest,
        config: EntryConfig,
    ) -> None:
        self.entry_id = entry_id
        self.request = request
        self.config = config
        self.ledger = OrderLedger(_retry_policy(config))
        self.books: dict[Leg, Book] = {}
        # When each leg's book arrived (engine clock) and the venue's own stamp of it: a
        # book older than ``max_book_age_s`` prices nothing (``hedge_book_stale``).
        self.book_at: dict[Leg, float] = {}
        self.book_venue_at: dict[Leg, float | None] = {}
        self.book_reads_failed = 0  # book reads failed in a row (reset by any fresh book)
        self.book_reads_out = 0  # ``ReadBook`` commands not answered yet
        # The thin-book wait (``waiting_for_book``): the refill timer is armed once per
        # entry and bounds every wait together; once it fired, a thin book rolls back. A
        # wait judges refills against the mid its hedge was priced from (per leg): a book
        # drained on one side moves its own mid toward the far levels, and must not
        # thereby count as refilled.
        self.refill_started = False
        self.refill_over = False
        self.refill_reference: dict[Leg, Decimal] = {}
        # as at Start: what the entry's cost is measured against (fsm.core.economics)
        self.arrival_books: dict[Leg, Book] = {}
        self.rules: dict[Leg, MarketRules] = {}
        self.start_positions: dict[Leg, Decimal] = {Leg.LONG: Decimal(0), Leg.SHORT: Decimal(0)}
        self.first_leg: Leg | None = None
        # How the legs start and the leg left behind is hedged (``fsm.core.planner``),
        # decided at ``start`` from the arrival books; None before it, and for an entry
        # whose config asks for today's behaviour (``fsm.core.planner.planning``).
        self.plan: Plan | None = None
        self.stop_reason: str | None = None
        self.hedge_attempts = 0
        self.trim_attempts = 0
        self.rollback_rounds = 0
        self.path: list[Transition] = []
        # Tuples, empty until something happens (most live entries): an empty tuple is
        # shared and not tracked by the gc, where each empty list is one more object.
        self.alerts: tuple[RaiseAlert, ...] = ()
        self.ignored: tuple[str, ...] = ()  # read and emptied by the shell after each event
        self.exposure: tuple[tuple[float, Decimal], ...] = ()
        self.moments: dict[str, float] = {}
        self.reference_price = Decimal(0)
        self._now = 0.0
        self._out: list[Command] = []  # commands of the event being handled
        self._last_fill_leg: Leg | None = None
        self._positions: dict[Leg, Decimal] = {}
        self._imbalance: Decimal | None = None
        # Facts a reaction asks for several times, kept until what they are read from
        # changes (see ``_fills_changed``, ``keep_book``, ``_rules_changed``): plain
        # attributes, not a dict, so a quoting entry keeps no more objects tracked.
        self._lag: Leg | None = None  # set with ``_imbalance``
        self._hedge_qty: Decimal | None = None  # fills and lots
        self._needs: bool | None = None  # fills, lots and the books' far touches
        self._mids: dict[Leg, Decimal] = {}  # each leg's book's mid, until the next book
        # The last ``budget_limit`` asked, by its arguments (the reference by identity:
        # equal Decimals of other exponents may round to other representations).
        self._limit: tuple[Leg, Purpose, Side, Decimal, tuple[Decimal, Decimal]] | None = None
        # While the look-ahead chooses a row (``_choosing``) its guards change nothing, so
        # what several of them ask is kept for that one choice, never for the effects:
        # the leg that reached the trigger fill (``_trigger_leg``).
        self._choosing = False
        self._lead: Leg | None = None
        self._lead_known = False

    def keep_book(self, leg: Leg, book: Book | None, at: float,
                  venue_at: float | None = None) -> None:
        """Remember ``leg``'s latest book and when it arrived; None: a read that failed."""
        if book is None:
            self.book_reads_failed += 1
            return
        self.books[leg] = book
        self.book_at[leg] = at
        self.book_venue_at[leg] = venue_at
        self.book_reads_failed = 0
        self._mids.pop(leg, None)
        self._needs = None  # a hedge's tradability is judged at the far touch

    def mid(self, leg: Leg) -> Decimal:
        """The mid of ``leg``'s book (computed once per book: a hedge prices from it
        two or three times)."""
        mid = self._mids.get(leg)
        if mid is None:
            mid = self._mids[leg] = self.books[leg].mid
        return mid

    def book_age(self, leg: Leg) -> float:
        """How long ago ``leg``'s book arrived (infinite: never)."""
        at = self.book_at.get(leg)
        return float("inf") if at is None else self._now - at

    def quote(self, leg: Leg) -> OrderRecord | None:
        """The leg's first quote (the ledger's index: guards ask on every trigger)."""
        return self.ledger.first_quote.get(leg)

    def _quotes(self) -> list[OrderRecord]:
        """Every quote, in arrival order (the ledger's own list: do not change it)."""
        return self.ledger.quotes

    def _latest(self, purpose: Purpose) -> OrderRecord | None:
        return self.ledger.latest.get(purpose)

    def position(self, leg: Leg) -> Decimal:
        """This entry's size on ``leg``, in the leg's direction, from its own fills.

        Guards ask for it many times per event, so it is computed once per change of
        the ledger's fills (only ``ledger.apply`` changes them; see ``_fills_changed``).
        """
        cached = self._positions.get(leg)
        if cached is None:
            self._count_positions()
            cached = self._positions[leg]
        return cached

    def _count_positions(self) -> None:
        """Both legs' positions, in one pass over the orders (the imbalance asks for both
        at once after every fill)."""
        long = short = Decimal(0)
        for record in self.ledger.orders.values():  # in order: Decimal sums keep
            command = record.command  # the exponent the additions give
            filled = record.filled
            if command.leg is LONG:
                long += filled if command.side is BUY else -filled
            else:
                short += filled if command.side is SELL else -filled
        self._positions[LONG] = long
        self._positions[SHORT] = short

    def imbalance(self) -> Decimal:
        """Net exposure: long size minus short size (positive: the long leg is ahead).

        Kept with the positions: a hedge decision asks for it half a dozen times."""
        imbalance = self._imbalance
        if imbalance is None:
            positions = self._positions  # ``position`` of each leg, written out: both
            if not positions:  # legs are counted at once, and forgotten at once
                self._count_positions()
            imbalance = self._imbalance = positions[LONG] - positions[SHORT]
            self._lag = None if imbalance == 0 else SHORT if imbalance > 0 else LONG
        return imbalance

    def _fills_changed(self) -> None:
        """The ledger's fills changed: positions (and the imbalance, the lagging leg and
        the hedge it needs) are computed afresh."""
        self._positions.clear()
        self._imbalance = None
        self._hedge_qty = None
        self._needs = None

    def _rules_changed(self) -> None:
        """New market rules (at ``start``): what was read from lots and ticks is stale."""
        self._hedge_qty = None
        self._needs = None
        self._limit = None

    def tolerance(self) -> Decimal:
        """One lot: the larger lot of the two venues."""
        if not self.rules:
            return Decimal(0)
        return max(rules.lot for rules in self.rules.values())

    def lagging_leg(self) -> Leg | None:
        """The leg behind (None: balanced); kept with the imbalance (``imbalance``)."""
        if self._imbalance is None:
            self.imbalance()
        return self._lag

    def hedge_qty(self) -> Decimal:
        """The imbalance in the lagging leg's lots (a reaction asks three or four times)."""
        qty = self._hedge_qty
        if qty is None:
            lag = self.lagging_leg()
            qty = Decimal(0) if lag is None else round_down(
                abs(self.imbalance()), self.rules[lag].lot)
            self._hedge_qty = qty
        return qty

    def _tradable(self, leg: Leg, side: Side, qty: Decimal) -> bool:
        return self.rules[leg].tradable(qty, self.books[leg].far_touch(side))

    def budget_limit(self, leg: Leg, purpose: Purpose, side: Side,
                     reference: Decimal) -> tuple[Decimal, Decimal]:
        """The leg's budget (bps) for ``purpose`` and the worst price it allows from
        ``reference``, rounded to the tick toward it.

        The last answer is kept (``_limit``): a hedge asks twice for the same limit, once
        to judge the book (``hedge_room``) and once to price the order (``_within_budget``).
        """
        kept = self._limit
        if (kept is not None and kept[3] is reference and kept[0] is leg
                and kept[1] is purpose and kept[2] is side):
            return kept[4]
        budget = self.config.budget_bps(purpose, self.request.leg(leg).budget_override(purpose))
        limit = budget, protective_price(side, reference, budget, self.rules[leg].tick)
        self._limit = (leg, purpose, side, reference, limit)
        return limit

    def hedge_reference(self, leg: Leg) -> Decimal:
        """The mid a hedge budget on ``leg`` is judged from: the freshest book's, unless a
        thin-book wait froze the one its hedge was priced from."""
        return self.refill_reference.get(leg) or self.mid(leg)

    def hedge_room(self, leg: Leg) -> Decimal:
        """What the leg's book can still take within the hedge budget, as far as we know.

        The book's size up to the budget's price, less what our own hedges sent since the
        book arrived have taken from it: a book seen before an IOC that drained it shows
        what is gone. (A book that arrived after the hedge was sent is taken as it is.)
        """
        side = SIDE_OF[leg]
        limit = self.budget_limit(leg, HEDGE, side, self.hedge_reference(leg))[1]
        room = quantity_up_to(self.books[leg], side, limit)
        since = self.book_at.get(leg, float("-inf"))
        for record in self.ledger.orders.values():
            command = record.command
            if command.purpose is HEDGE and command.leg is leg \
                    and record.submitted_at >= since:
                room -= record.filled
        return room

    def _needs_hedge(self) -> bool:
        """Whether the imbalance is a tradable hedge on the lagging leg (kept: see
        ``_needs``; half the guards of a hedge decision ask)."""
        needs = self._needs
        if needs is None:
            lag = self.lagging_leg()
            needs = self._needs = (
                lag is not None and self._tradable(lag, SIDE_OF[lag], self.hedge_qty()))
        return needs

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

    def _trigger_leg(self) -> Leg | None:
        """The leg whose quote filled to the trigger ratio (the last filled, if both did).

        The guards of a fill ask three or four times: kept while the look-ahead chooses.
        """
        if self._lead_known:
            return self._lead
        lead = self._find_trigger_leg()
        if self._choosing:
            self._lead, self._lead_known = lead, True
        return lead

    def _find_trigger_leg(self) -> Leg | None:
        ratio = self.config.hedge_trigger_fill_ratio
        reached = []
        for quote in self._quotes():
            filled = quote.filled  # a property: read once
            if filled > 0 and filled >= ratio * quote.qty:
                reached.append(quote.command.leg)
        if self._last_fill_leg in reached:
            return self._last_fill_leg
        return reached[0] if reached else None

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

    def residuals(self) -> dict[str, Decimal]:
        return {self.request.leg(leg).venue: self.position(leg) for leg in (Leg.LONG, Leg.SHORT)}
