"""A small venue model for driving ``EntryModel`` directly: no asyncio, no engine.

``Desk`` holds one entry model and the truth of the two venues it trades on. Every
command the model emits becomes a pending request or timer; each *action* (answer a
request one of several ways, deliver a pushed report, possibly out of order or twice,
fill a resting order, fire the timer, move a book, kill) produces the event a real
venue would, and feeds it to the model. Because every answer is truthful, whatever
the model concludes can be checked against venue truth after every single event.

The property tests draw sequences of actions (``ACTIONS`` by name, with a few integer
choices each); the stateful test turns each action into a rule. The invariants they
check after each event are in ``tests.desk_checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs

from fsm.core import events as ev
from fsm.core.commands import (
    CancelOrder,
    CancelTimer,
    Command,
    QueryOrder,
    RaiseAlert,
    ReadAccount,
    StartTimer,
)
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.pricing import round_down
from fsm.core.tables.events import QUOTE_TIMER
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from tests.desk_checks import check_commands
from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
    OrderKind,
    PlaceOrder,
    Purpose,
    TimeInForce,
)
from venues.protocol import FillUpdate
from venues.sim.matching import SimOrder

D = Decimal
SYMBOL = "BTC/USDT:USDT"
LOT = D("0.001")
RULES = MarketRules(lot=LOT, tick=D("0.5"), min_qty=LOT, min_notional=D(5))
VENUES = {Leg.LONG: "alpha", Leg.SHORT: "beta"}


def book(shift: int = 0) -> Book:
    mid = D(60000) + shift
    return Book((BookLevel(mid - D("0.5"), D(5)),), (BookLevel(mid + D("0.5"), D(5)),))


@attrs.define
class VenueOrder(SimOrder):
    """One order as the venue holds it: the simulated venue's own record (its fill and
    status rules), plus the command it came from (the leg, which the checks group by).

    Unlike the simulated venue, this desk matches nothing: which orders fill, by how
    much and when is each drawn action's choice, so the property tests reach the
    interleavings a book would make rare.
    """

    command: PlaceOrder = attrs.field(kw_only=True)

    @classmethod
    def of(cls, command: PlaceOrder) -> VenueOrder:
        return cls.placed(command, f"v-{command.client_id}", command=command)


def _report(fill: FillUpdate, at: float) -> ev.FillReport:
    return ev.FillReport(at, fill.client_id, fill.trade_id, fill.qty, fill.price, fill.fee)


class Desk:
    """One entry model and the venues it trades on; see the module docstring."""

    def __init__(self, qty: Decimal, config: EntryConfig, positions: dict[Leg, Decimal]) -> None:
        request = EntryRequest(LegSpec(VENUES[Leg.LONG], SYMBOL, qty),
                               LegSpec(VENUES[Leg.SHORT], SYMBOL, qty), entry_id="c1")
        self.model = EntryModel("c1", request, config)
        self.now = 0.0
        self.venue: dict[str, VenueOrder] = {}         # the venues' truth, by client id
        self.requests: list[Command] = []               # sent, not yet answered
        self.pushes: list[ev.Event] = []                # pushed by a venue, not yet delivered
        self.delivered_fills: list[ev.FillReport] = []  # for duplicates
        self.timer_armed = False
        self.retry_timers: list[str] = []               # armed backoff timers, by name
        self.trades = 0
        self.alerts: list[RaiseAlert] = []
        self.log: list[tuple[ev.Event, list[Command]]] = []
        self.start_positions = positions
        self.checks: list[Callable[[Desk, list[Command]], None]] = [check_commands]
        self._placed: dict[str, tuple[Leg, Purpose]] = {}
        self.feed(ev.Start(self.now, {leg: book() for leg in Leg},
                           {leg: RULES for leg in Leg}, dict(positions)))

    # ------------------------------------------------------------------ plumbing
    def _tick(self) -> float:
        self.now = round(self.now + 0.01, 6)
        return self.now

    def feed(self, event: ev.Event) -> list[Command]:
        commands = self.model.handle(event)
        self.log.append((event, commands))
        for check in self.checks:
            check(self, commands)
        for command in commands:
            if isinstance(command, PlaceOrder | CancelOrder | QueryOrder | ReadAccount):
                self.requests.append(command)
            elif isinstance(command, StartTimer) and command.name == QUOTE_TIMER:
                self.timer_armed = True
            elif isinstance(command, StartTimer):
                assert command.delay_s > 0, command
                if command.name not in self.retry_timers:
                    self.retry_timers.append(command.name)
            elif isinstance(command, CancelTimer) and command.name in self.retry_timers:
                self.retry_timers.remove(command.name)
            elif isinstance(command, RaiseAlert):
                self.alerts.append(command)
        return commands

    def _trade(self, order: VenueOrder, qty: Decimal) -> None:
        """The venue executes ``qty`` of ``order`` and pushes the report (and the status)."""
        qty = min(qty, order.remaining)
        if qty <= 0:
            return
        self.trades += 1
        price = order.command.price or D(60000)
        trade_id = f"{order.command.venue}-t{self.trades}"
        fill = FillUpdate(venue=order.command.venue, symbol=order.symbol,
                          client_id=order.client_id, trade_id=trade_id, qty=qty, price=price,
                          fee=D(0))
        completed = order.add_fill(fill)
        self.pushes.append(_report(fill, 0.0))
        if completed:
            self._push_status(order)

    def _push_status(self, order: VenueOrder) -> None:
        self.pushes.append(ev.StatusReport(0.0, order.command.client_id, order.status,
                                           order.filled))

    def _end(self, order: VenueOrder) -> None:
        if order.live:
            order.cancel()
            self._push_status(order)

    def _portion(self, order: VenueOrder, share: int) -> Decimal:
        """``share`` quarters of what is left, at least one lot."""
        return max(LOT, round_down(order.remaining * share / 4, LOT))

    def _pick(self, items: list[object], index: int) -> int | None:
        return index % len(items) if items else None

    # ------------------------------------------------------------------ actions
    def answer(self, index: int, outcome: int, share: int) -> None:
        """Answer one pending request; ``outcome`` picks how (each kind has its menu)."""
        i = self._pick(self.requests, index)  # type: ignore[arg-type]
        if i is None:
            return
        command = self.requests.pop(i)
        at = self._tick()
        if isinstance(command, ReadAccount):  # the account is this entry's venues alone
            self.feed(ev.AccountRead(at, {leg: ev.AccountLeg(self.venue_position(leg))
                                          for leg in command.legs}, command.fresh))
            return
        cid = command.client_id
        order = self.venue.get(cid)
        match command:
            case PlaceOrder():
                self._answer_place(command, order, outcome % 5, share, at)
            case CancelOrder():
                self._answer_cancel(cid, order, outcome % 7, share, at)
            case QueryOrder():
                if outcome % 4 == 2:
                    self.feed(ev.OutcomeUnknown(at, cid, ev.Operation.QUERY, "no answer"))
                elif outcome % 4 == 3:
                    self.feed(ev.Unavailable(at, cid, ev.Operation.QUERY, "venue unavailable"))
                elif order is None:
                    self.feed(ev.NotFound(at, cid))
                else:
                    fills = tuple(_report(f, at) for f in order.fills)
                    self.feed(ev.StatusReport(at, cid, order.status, order.filled, fills))

    def _answer_place(self, command: PlaceOrder, order: VenueOrder | None, outcome: int,
                      share: int, at: float) -> None:
        cid = command.client_id
        if order is not None:  # the venue refuses a client id it already holds
            self.feed(ev.Rejected(at, cid, "duplicate client order id"))
            return
        if outcome == 1:
            self.feed(ev.Rejected(at, cid, "refused"))
            return
        if outcome == 3:  # lost before reaching the venue
            self.feed(ev.OutcomeUnknown(at, cid, ev.Operation.PLACE, "no answer"))
            return
        if outcome == 4:  # the venue was unavailable: definitely not sent
            self.feed(ev.Unavailable(at, cid, ev.Operation.PLACE, "venue unavailable"))
            return
        placed = self.venue[cid] = VenueOrder.of(command)
        if command.kind is OrderKind.MARKET or command.time_in_force is TimeInForce.IOC:
            if share:  # share 0: nothing to take, the order expires unfilled
                self._trade(placed, self._portion(placed, share))
            self._end(placed)
        if outcome == 2:  # processed, answer lost
            self.feed(ev.OutcomeUnknown(at, cid, ev.Operation.PLACE, "no answer"))
        else:
            self.feed(ev.Accepted(at, cid, f"v-{cid}"))

    def _answer_cancel(self, cid: str, order: VenueOrder | None, outcome: int, share: int,
                       at: float) -> None:
        if outcome == 4:  # lost before reaching the venue
            self.feed(ev.OutcomeUnknown(at, cid, ev.Operation.CANCEL, "no answer"))
            return
        if outcome == 6:  # the venue was unavailable: definitely not sent
            self.feed(ev.Unavailable(at, cid, ev.Operation.CANCEL, "venue unavailable"))
            return
        if outcome == 5:  # processed, answer lost
            if order is not None:
                self._end(order)
            self.feed(ev.OutcomeUnknown(at, cid, ev.Operation.CANCEL, "no answer"))
            return
        if order is not None and order.live and outcome == 1:  # a fill races the cancel
            self._trade(order, self._portion(order, share))
        if order is not None and order.live and outcome == 2:  # it fills completely first
            self._trade(order, order.remaining)
        if order is None or not order.live:
            self.feed(ev.NotFound(at, cid, ev.Operation.CANCEL))
        elif outcome == 3:
            self.feed(ev.CancelRejected(at, cid, "refused"))
        else:
            self._end(order)
            self.feed(ev.Canceled(at, cid, order.filled))

    def deliver(self, index: int) -> None:
        """Deliver one pushed report, not necessarily the oldest (streams reorder)."""
        i = self._pick(self.pushes, index)  # type: ignore[arg-type]
        if i is None:
            return
        event = attrs.evolve(self.pushes.pop(i), at=self._tick())
        if isinstance(event, ev.FillReport):
            self.delivered_fills.append(event)
        self.feed(event)

    def duplicate(self, index: int) -> None:
        """Deliver a fill report again (websocket and REST both report it)."""
        i = self._pick(self.delivered_fills, index)  # type: ignore[arg-type]
        if i is not None:
            self.feed(attrs.evolve(self.delivered_fills[i], at=self._tick()))

    def maker_fill(self, index: int, share: int) -> None:
        """Someone trades against one of our resting orders."""
        resting = [o for o in self.venue.values() if o.live]
        i = self._pick(resting, index)  # type: ignore[arg-type]
        if i is not None:
            self._tick()
            self._trade(resting[i], self._portion(resting[i], share or 4))

    def timer(self) -> None:
        if self.timer_armed:
            self.timer_armed = False
            self.feed(ev.TimerFired(self._tick(), QUOTE_TIMER))

    def retry(self, index: int) -> None:
        """An order's backoff timer fires (any armed one: their delays differ)."""
        i = self._pick(self.retry_timers, index)  # type: ignore[arg-type]
        if i is not None:
            self.feed(ev.TimerFired(self._tick(), self.retry_timers.pop(i)))

    def move_book(self, leg: int, shift: int) -> None:
        self.feed(ev.BookUpdate(self._tick(), list(Leg)[leg % 2], book(shift)))

    def kill(self) -> None:
        self.feed(ev.Kill(self._tick(), "test"))

    # ------------------------------------------------------------------ settling
    def settle(self, rounds: int = 400) -> None:
        """Let the world calm down: answer everything plainly, deliver every report.

        Requests are answered the happy way (accept and fill fully, confirm cancels, answer
        queries), so a correct entry must reach a terminal state.
        """
        for _ in range(rounds):
            if self.model.terminal:
                return
            if self.requests:
                self.answer(0, 0, 4)
            elif self.pushes:
                self.deliver(0)
            elif self.retry_timers:
                self.retry(0)
            elif self.timer_armed:
                self.timer()
            else:
                return

    def close(self) -> None:
        """Detach the model from the shared machine, or every model ever made stays alive."""
        self.model.detach()

    # ------------------------------------------------------------------ truth
    def truth_filled(self, cid: str) -> Decimal:
        order = self.venue.get(cid)
        return D(0) if order is None else order.filled

    def venue_position(self, leg: Leg) -> Decimal:
        """The leg's venue position (longs positive), from its start and venue truth."""
        return self.start_positions[leg] + sum(
            (o.command.side.sign * o.filled for o in self.venue.values()
             if o.command.leg is leg), D(0))

    def leg_truth(self, leg: Leg) -> Decimal:
        """The leg's net size in its own direction, from venue truth."""
        return sum(
            (o.filled if o.command.side is leg.side else -o.filled
             for o in self.venue.values() if o.command.leg is leg),
            D(0),
        )


ACTIONS = ("answer", "deliver", "duplicate", "maker_fill", "timer", "retry", "move_book",
           "kill")
# How a drawn choice (0..11) answers each kind of request: mostly the plain answer, so a
# run gets past quoting, with every fault still well represented.
PLACE_MENU = (0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 2)  # accept, reject, lost after, lost, unavailable
CANCEL_MENU = (0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 1)  # see Desk._answer_cancel
QUERY_MENU = (0, 0, 0, 0, 2, 2, 0, 3, 2, 0, 3, 0)   # answer, no answer, unavailable


def act(desk: Desk, name: str, a: int, b: int, c: int) -> None:
    """Run the action ``name`` with integer choices ``a``, ``b``, ``c``."""
    match name:
        case "answer":
            if desk.requests:
                kind = desk.requests[a % len(desk.requests)]
                menu = (PLACE_MENU if isinstance(kind, PlaceOrder)
                        else CANCEL_MENU if isinstance(kind, CancelOrder) else QUERY_MENU)
                desk.answer(a, menu[b % len(menu)], c % 5)
        case "deliver":
            desk.deliver(a)
        case "duplicate":
            desk.duplicate(a)
        case "maker_fill":
            desk.maker_fill(a, c % 5)
        case "timer":
            desk.timer()
        case "retry":
            desk.retry(a)
        case "move_book":
            desk.move_book(a, b % 41 - 20)
        case "kill":
            desk.kill()
