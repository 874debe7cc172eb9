"""A deterministic exchange for replaying the races that hurt in live trading.

Live venues disagree with the engine in a handful of ways that matter: answers are late
or lost, a fill report is overtaken by a cancel answer, a cancel races a fill, a fill
arrives twice. Each is a scripted, reproducible event here (a ``Reaction`` to a request,
or a ``ScriptedFill``/``ScriptedBook`` step) so a test or a benchmark can replay the
exact interleaving it cares about. The venue only ever waits through ``asyncio``: on
``run_virtual`` its delays cost nothing and two runs of a script are identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import heapq
import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal, NoReturn, TypeVar

import attrs
from loguru import logger

from venues.market import (
    Book,
    MarketRules,
    OrderKind,
    OrderStatus,
    PlaceOrder,
    Purpose,
    TimeInForce,
    to_decimal,
)
from venues.protocol import (
    AmendAck,
    BookChanged,
    CancelAck,
    FillUpdate,
    NotSupported,
    OrderNotFound,
    OrderRejected,
    OrderSnapshot,
    OrderUpdate,
    OutcomeUnknown,
    PlaceAck,
    UpdateHandler,
    VenueError,
    VenueUnavailable,
    VenueUpdate,
)
from venues.sim.matching import (
    ZERO,
    MarketState,
    SimOrder,
    is_marketable,
    is_multiple,
    rule_violation,
    take,
)

__all__ = [
    "JournalEntry",
    "Outage",
    "Reaction",
    "ReactionAction",
    "ScriptedBook",
    "ScriptedFill",
    "SimMarket",
    "SimOrder",
    "SimulatedVenue",
]

T = TypeVar("T")


def _optional_decimal(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{type(instance).__name__}.{attribute.name} must be >= 0, got {value}")


def _positive_or_none(
    instance: object, attribute: attrs.Attribute[Decimal | None], value: Decimal | None
) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{type(instance).__name__}.{attribute.name} must be > 0, got {value}")


@attrs.frozen
class SimMarket:
    """One symbol as the venue starts: its rules, the outside book and a position carried in."""

    symbol: str
    rules: MarketRules
    book: Book
    position: Decimal = attrs.field(default=ZERO, converter=to_decimal)


@attrs.frozen
class ScriptedFill:
    """At ``at_s`` after start, fill the oldest live order of ``purpose`` (a maker fill)."""

    at_s: float = attrs.field(validator=_non_negative)
    purpose: Purpose = Purpose.QUOTE
    qty: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_positive_or_none
    )
    price: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_positive_or_none
    )
    symbol: str | None = None


@attrs.frozen
class ScriptedBook:
    """At ``at_s`` after start, the outside liquidity of ``symbol`` becomes ``book``."""

    at_s: float = attrs.field(validator=_non_negative)
    book: Book
    symbol: str | None = None


class ReactionAction(enum.Enum):
    """The ways a real venue's answer departs from the happy path that the engine must survive."""

    # cancel: a maker fill of ``qty`` lands first; the ack carries the cumulative filled
    # (when that fill completes the order, the cancel answers OrderNotFound instead).
    FILL_THEN_CANCEL = "fill_then_cancel"
    # cancel: the whole remainder fills first; the order is gone, so OrderNotFound.
    FILL_THEN_NOT_FOUND = "fill_then_not_found"
    # place, cancel, query, amend: OrderRejected and nothing changes (a canceled order stays live).
    REJECT = "reject"
    # place, cancel, query, amend: the answer is lost; OutcomeUnknown after the request timeout.
    # ``live``: the venue did process the request; otherwise it never arrived.
    TIMEOUT = "timeout"
    # place of a marketable order: only ``qty`` fills, the remainder expires like an IOC.
    PARTIAL = "partial"
    # place, cancel, query, amend: VenueUnavailable (connection refused, 503): the request
    # definitely was not processed, and says so after one round trip.
    UNAVAILABLE = "unavailable"


_ALLOWED_ACTIONS: dict[str, frozenset[ReactionAction]] = {
    "place": frozenset({ReactionAction.REJECT, ReactionAction.TIMEOUT, ReactionAction.PARTIAL,
                        ReactionAction.UNAVAILABLE}),
    "cancel": frozenset(
        {
            ReactionAction.FILL_THEN_CANCEL,
            ReactionAction.FILL_THEN_NOT_FOUND,
            ReactionAction.REJECT,
            ReactionAction.TIMEOUT,
            ReactionAction.UNAVAILABLE,
        }
    ),
    "query": frozenset({ReactionAction.REJECT, ReactionAction.TIMEOUT,
                        ReactionAction.UNAVAILABLE}),
    "amend": frozenset({ReactionAction.REJECT, ReactionAction.TIMEOUT,
                        ReactionAction.UNAVAILABLE}),
}
_NEEDS_QTY = frozenset({ReactionAction.FILL_THEN_CANCEL, ReactionAction.PARTIAL})
_NEEDS_LIVE_ORDER = frozenset({ReactionAction.FILL_THEN_CANCEL, ReactionAction.FILL_THEN_NOT_FOUND})
# A cancel is refused only while the order rests: a venue asked to cancel an order that
# already filled or ended answers "not found" (ccxt's OrderNotFound), never "refused,
# still live"; a scripted refusal waits for a cancel it can truthfully refuse.
_CANCEL_NEEDS_LIVE_ORDER = _NEEDS_LIVE_ORDER | {ReactionAction.REJECT}


@attrs.frozen
class Reaction:
    """How the venue answers the next ``times`` matching requests instead of normally.

    Refused at construction when meaningless (a PARTIAL cancel, a FILL_THEN_CANCEL with no
    quantity): a scenario that silently never fires would test nothing.
    """

    on: Literal["place", "cancel", "query", "amend"]
    action: ReactionAction
    purpose: Purpose | None = None
    qty: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_positive_or_none
    )
    live: bool = False
    times: int = 1

    def __attrs_post_init__(self) -> None:
        allowed = _ALLOWED_ACTIONS.get(self.on)
        if allowed is None:
            raise ValueError(
                f"Reaction.on: got {self.on!r}, expected place, cancel, query or amend"
            )
        if self.action not in allowed:
            names = ", ".join(sorted(a.value for a in allowed))
            raise ValueError(
                f"Reaction: {self.action.value} does not apply to {self.on}; expected {names}"
            )
        if self.action in _NEEDS_QTY and self.qty is None:
            raise ValueError(f"Reaction: {self.action.value} needs a qty")
        if self.times < 1:
            raise ValueError(f"Reaction.times must be >= 1, got {self.times}")


@attrs.frozen
class Outage:
    """From ``from_s`` after start until ``until_s`` (``None``: for good), every order request
    (place, cancel, query, amend) fails with ``VenueUnavailable``, unprocessed.

    Market data and positions still answer: the order gateway is what is down (and the
    harness reads the venue's truth through them).
    """

    from_s: float = attrs.field(validator=_non_negative)
    until_s: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.until_s is not None and self.until_s <= self.from_s:
            raise ValueError(
                f"Outage.until_s must be after from_s ({self.from_s}), got {self.until_s}"
            )

    def covers(self, elapsed_s: float) -> bool:
        return self.from_s <= elapsed_s and (self.until_s is None or elapsed_s < self.until_s)


@attrs.frozen
class JournalEntry:
    """One thing the venue did; the journal is what determinism tests compare."""

    at: float
    kind: str
    client_id: str | None
    detail: str


@attrs.frozen
class Execution:
    """One trade as the venue executed it, when it did: the venue's own truth.

    ``qty`` is signed (buys positive), so summing executions of both legs over time
    gives the net exposure exactly as the market saw it, with no report delay.
    """

    at: float
    symbol: str
    client_id: str
    qty: Decimal
    price: Decimal


@attrs.define
class _ReactionSlot:
    reaction: Reaction
    left: int


class _AnswerLost(Exception):
    """The venue's answer never comes back; the caller learns it only by timing out."""


class _Timeline:
    """Runs callbacks at loop instants in (time, insertion) order.

    asyncio's timer heap does not promise FIFO order between timers due at the same
    instant, and a venue must never reorder two pushes it sent in order. So every timer
    drains the queue up to its own key instead of running only its own callback.
    """

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._handles: dict[int, asyncio.TimerHandle] = {}
        self._seq = itertools.count()

    def at(self, when: float, callback: Callable[[], None]) -> None:
        seq = next(self._seq)
        heapq.heappush(self._queue, (when, seq, callback))
        self._handles[seq] = asyncio.get_running_loop().call_at(when, self._drain, when, seq)

    def _drain(self, when: float, seq: int) -> None:
        while self._queue and self._queue[0][:2] <= (when, seq):
            _, item_seq, callback = heapq.heappop(self._queue)
            handle = self._handles.pop(item_seq, None)
            if handle is not None and item_seq != seq:
                handle.cancel()
            callback()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        self._queue.clear()


def _answer_unheard(travel: asyncio.Future[Any]) -> None:
    """Mark an answer (or error) read, so one whose caller is gone logs no warning."""
    if not travel.cancelled():
        travel.exception()


class SimulatedVenue:
    """A scripted venue implementing ``venues.protocol.Venue``; see the module docstring."""

    def __init__(
        self,
        name: str,
        markets: Sequence[SimMarket],
        *,
        latency_s: float = 0.0,
        request_timeout_s: float = 1.0,
        script: Sequence[ScriptedFill | ScriptedBook] = (),
        reactions: Sequence[Reaction] = (),
        duplicate_fills: bool = False,
        stream_delay_s: float = 0.0,
        outages: Sequence[Outage] = (),
    ) -> None:
        if not markets:
            raise ValueError(f"SimulatedVenue {name}: needs at least one market")
        for what, value in (
            ("latency_s", latency_s),
            ("request_timeout_s", request_timeout_s),
            ("stream_delay_s", stream_delay_s),
        ):
            if value < 0:
                raise ValueError(f"SimulatedVenue {name}: {what} must be >= 0, got {value}")
        self.name = name
        self.journal: list[JournalEntry] = []
        self.executions: list[Execution] = []
        self._markets: dict[str, MarketState] = {}
        for market in markets:
            if market.symbol in self._markets:
                raise ValueError(f"SimulatedVenue {name}: market {market.symbol} given twice")
            self._markets[market.symbol] = MarketState.create(
                market.symbol, market.rules, market.book, market.position
            )
        for step in script:
            if step.symbol is not None and step.symbol not in self._markets:
                raise ValueError(f"SimulatedVenue {name}: script names unknown {step.symbol}")
        self._first_symbol = markets[0].symbol
        self._latency_s = latency_s
        self._request_timeout_s = request_timeout_s
        self._script = tuple(script)
        self._reactions = [_ReactionSlot(r, r.times) for r in reactions]
        self._outages = tuple(outages)
        self._t0 = 0.0
        self._duplicate_fills = duplicate_fills
        self._stream_delay_s = stream_delay_s
        self._orders: dict[str, SimOrder] = {}
        self._resting: dict[str, SimOrder] = {}  # live orders, oldest first: what fills scan
        self._handlers: list[UpdateHandler] = []
        self._timeline = _Timeline()
        self._travels: set[asyncio.Future[Any]] = set()
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._started = False
        self._log = logger.bind(venue=name)

    # -- life cycle and synchronous accessors ------------------------------------------

    def start(self) -> None:
        """Schedule the script; its times count from now so the caller picks time zero."""
        if self._started:
            raise RuntimeError(f"SimulatedVenue {self.name}: start() called twice")
        self._started = True
        t0 = self._t0 = asyncio.get_running_loop().time()
        for step in self._script:
            self._timeline.at(t0 + step.at_s, functools.partial(self._run_step, step))

    def close(self) -> None:
        """Stop the script and drop the requests still travelling: the venue is gone."""
        self._timeline.close()
        for travel in list(self._travels):
            travel.cancel()

    def apply(self, step: ScriptedFill | ScriptedBook) -> None:
        """Run one script step now, outside the script (benchmarks pace fills this way)."""
        self._run_step(step)

    def position_now(self, symbol: str) -> Decimal:
        return self._markets[symbol].position

    def order(self, client_id: str) -> SimOrder:
        return self._orders[client_id]

    def client_ids(self) -> list[str]:
        """Every client order id the venue ever accepted, oldest first."""
        return list(self._orders)

    def subscribe(self, handler: UpdateHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._handlers.remove(handler)

        return unsubscribe

    # -- the Venue protocol: every call travels to the venue and back ------------------

    async def market_rules(self, symbol: str) -> MarketRules:
        return await self._request(lambda: self._market(symbol).rules)

    async def book(self, symbol: str, depth: int = 10) -> Book:
        if depth < 1:
            raise ValueError(f"book depth must be >= 1, got {depth}")
        return await self._request(lambda: self._market(symbol).book(depth))

    async def position(self, symbol: str) -> Decimal:
        return await self._request(lambda: self._market(symbol).position)

    async def place(self, order: PlaceOrder) -> PlaceAck:
        return await self._request(lambda: self._on_place(order))

    async def cancel(self, symbol: str, client_id: str) -> CancelAck:
        return await self._request(lambda: self._on_cancel(symbol, client_id))

    async def query(self, symbol: str, client_id: str) -> OrderSnapshot:
        return await self._request(lambda: self._on_query(symbol, client_id))

    async def amend(
        self, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        market = self._markets.get(symbol)
        if market is not None and not market.rules.supports_amend:
            # Decided by the adapter from the market rules: the request is never sent.
            raise NotSupported(f"{self.name}: amend is not supported on {symbol}")
        return await self._request(lambda: self._on_amend(symbol, client_id, price, qty))

    async def _request(self, process: Callable[[], T]) -> T:
        """A request that has left arrives, whatever becomes of its caller.

        Cancelling the task that awaits an answer (an entry that ended, an engine that
        crashed) does not unsend the request: the venue still processes it, and only
        the answer goes nowhere. Crash-recovery tests depend on this.
        """
        travel = asyncio.ensure_future(self._travel(process))
        self._travels.add(travel)
        travel.add_done_callback(self._travels.discard)
        travel.add_done_callback(_answer_unheard)
        return await asyncio.shield(travel)

    async def _travel(self, process: Callable[[], T]) -> T:
        """Latency out, processing at the venue instant, latency back (errors included)."""
        await asyncio.sleep(self._latency_s)
        try:
            result = process()
        except _AnswerLost as lost:
            await asyncio.sleep(self._request_timeout_s)
            raise OutcomeUnknown(
                f"{self.name}: no answer within {self._request_timeout_s}s ({lost})"
            ) from None
        except VenueError:
            await asyncio.sleep(self._latency_s)
            raise
        await asyncio.sleep(self._latency_s)
        return result

    # -- request processing at the venue -----------------------------------------------

    def _market(self, symbol: str) -> MarketState:
        market = self._markets.get(symbol)
        if market is None:
            raise OrderRejected(f"{self.name}: unknown symbol {symbol}")
        return market

    def _lookup(self, symbol: str, client_id: str) -> SimOrder | None:
        """The order as the venue knows it: orders are scoped by symbol, as on real venues."""
        sim = self._orders.get(client_id)
        return sim if sim is not None and sim.symbol == symbol else None

    def _check_up(self, what: str, client_id: str) -> None:
        """Refuse the request, unprocessed, during a scripted outage."""
        elapsed = asyncio.get_running_loop().time() - self._t0
        if any(outage.covers(elapsed) for outage in self._outages):
            self._note("unavailable", client_id, f"{what} refused: venue unavailable (outage)")
            raise VenueUnavailable(f"{self.name}: unavailable, {what} {client_id} not processed")

    def _unavailable(self, what: str, client_id: str) -> NoReturn:
        self._note("unavailable", client_id, f"{what} refused: venue unavailable (scripted)")
        raise VenueUnavailable(f"{self.name}: unavailable, {what} {client_id} not processed")

    def _react(
        self,
        on: str,
        purpose: Purpose | None,
        client_id: str,
        applies: Callable[[ReactionAction], bool] = lambda action: True,
    ) -> Reaction | None:
        for slot in self._reactions:
            reaction = slot.reaction
            if (
                slot.left > 0
                and reaction.on == on
                and (reaction.purpose is None or reaction.purpose is purpose)
                and applies(reaction.action)
            ):
                slot.left -= 1
                self._note("reaction", client_id, f"{on}: {reaction.action.value}")
                return reaction
        return None

    def _on_place(self, order: PlaceOrder) -> PlaceAck:
        self._check_up("place", order.client_id)
        market = self._markets.get(order.symbol)
        marketable = market is not None and is_marketable(
            order.side, order.kind, order.price, market.opposite(order.side)
        )
        reaction = self._react(
            "place",
            order.purpose,
            order.client_id,
            lambda action: action is not ReactionAction.PARTIAL or marketable,
        )
        if reaction is None:
            return self._accept(order, partial=None)
        if reaction.action is ReactionAction.UNAVAILABLE:
            self._unavailable("place", order.client_id)
        if reaction.action is ReactionAction.REJECT:
            self._note("rejected", order.client_id, "scripted rejection")
            raise OrderRejected(f"{self.name}: order {order.client_id} rejected (scripted)")
        if reaction.action is ReactionAction.TIMEOUT:
            self._lose(reaction.live, "place", order.client_id, lambda: self._accept(order, None))
        return self._accept(order, partial=reaction.qty)

    def _on_cancel(self, symbol: str, client_id: str) -> CancelAck:
        self._check_up("cancel", client_id)
        sim = self._lookup(symbol, client_id)
        live = sim is not None and sim.live
        reaction = self._react(
            "cancel",
            sim.purpose if sim is not None else None,
            client_id,
            lambda action: live or action not in _CANCEL_NEEDS_LIVE_ORDER,
        )
        action = reaction.action if reaction is not None else None
        if action is ReactionAction.UNAVAILABLE:
            self._unavailable("cancel", client_id)
        if action is ReactionAction.REJECT:
            self._note("cancel_rejected", client_id, "scripted rejection; order stays live")
            raise OrderRejected(f"{self.name}: cancel of {client_id} rejected (scripted)")
        if reaction is not None and action is ReactionAction.TIMEOUT:
            self._lose(
                reaction.live,
                "cancel",
                client_id,
                lambda: self._cancel_request(symbol, client_id, sim),
            )
        if sim is not None and reaction is not None and action in _NEEDS_LIVE_ORDER:
            want = sim.remaining
            if action is ReactionAction.FILL_THEN_CANCEL and reaction.qty is not None:
                want = min(reaction.qty, want)
            self._fill_resting(sim, want, sim.limit_price, "fill raced the cancel")
            if action is ReactionAction.FILL_THEN_NOT_FOUND:
                self._note("cancel_not_found", client_id, "filled before the cancel arrived")
                raise OrderNotFound(f"{self.name}: order {client_id} not found")
        return self._cancel_request(symbol, client_id, sim)

    def _cancel_request(self, symbol: str, client_id: str, sim: SimOrder | None) -> CancelAck:
        self._market(symbol)
        if sim is None or not sim.live:
            state = "unknown" if sim is None else sim.status.value
            self._note("cancel_not_found", client_id, state)
            raise OrderNotFound(f"{self.name}: order {client_id} not found")
        self._cancel(sim, "canceled by request")
        return CancelAck(client_id=client_id, filled=sim.filled)

    def _on_query(self, symbol: str, client_id: str) -> OrderSnapshot:
        self._check_up("query", client_id)
        sim = self._lookup(symbol, client_id)
        reaction = self._react("query", sim.purpose if sim is not None else None, client_id)
        if reaction is not None and reaction.action is ReactionAction.UNAVAILABLE:
            self._unavailable("query", client_id)
        if reaction is not None and reaction.action is ReactionAction.REJECT:
            self._note("query_rejected", client_id, "scripted rejection")
            raise OrderRejected(f"{self.name}: query of {client_id} rejected (scripted)")
        if reaction is not None:
            self._lose(False, "query", client_id, lambda: None)
        self._market(symbol)
        if sim is None:
            raise OrderNotFound(f"{self.name}: order {client_id} not found")
        return sim.snapshot()

    def _on_amend(
        self, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        self._check_up("amend", client_id)
        market = self._market(symbol)
        sim = self._lookup(symbol, client_id)
        reaction = self._react("amend", sim.purpose if sim is not None else None, client_id)
        if reaction is not None and reaction.action is ReactionAction.UNAVAILABLE:
            self._unavailable("amend", client_id)
        if reaction is not None and reaction.action is ReactionAction.REJECT:
            self._note("amend_rejected", client_id, "scripted rejection")
            raise OrderRejected(f"{self.name}: amend of {client_id} rejected (scripted)")
        if reaction is not None:
            self._lose(reaction.live, "amend", client_id,
                       lambda: self._apply_amend(market, symbol, client_id, price, qty))
        return self._apply_amend(market, symbol, client_id, price, qty)

    def _apply_amend(
        self, market: MarketState, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        sim = self._lookup(symbol, client_id)
        if sim is None or not sim.live:
            self._note("amend_not_found", client_id, "unknown" if sim is None else sim.status.value)
            raise OrderNotFound(f"{self.name}: order {client_id} not found")
        problem = None
        if price <= 0 or not is_multiple(price, market.rules.tick):
            problem = f"tick: price {price} is not a positive multiple of tick {market.rules.tick}"
        elif qty <= sim.filled or not is_multiple(qty, market.rules.lot):
            problem = (
                f"size: {qty} must be a multiple of lot {market.rules.lot} above the "
                f"{sim.filled} already filled"
            )
        if problem is not None:
            self._note("amend_rejected", client_id, problem)
            raise OrderRejected(f"{self.name}: amend of {client_id} rejected: {problem}")
        self._note("amended", client_id, f"price {sim.price} -> {price}, size {sim.qty} -> {qty}")
        sim.price, sim.qty = price, qty
        if is_marketable(sim.side, sim.kind, price, market.opposite(sim.side)):
            self._sweep(sim, market, sim.remaining)
        return AmendAck(client_id=client_id, status=sim.status, filled=sim.filled)

    def _lose(
        self, live: bool, what: str, client_id: str, process: Callable[[], object]
    ) -> NoReturn:
        """Process the request (or not) and lose the answer: the TIMEOUT reaction."""
        if live:
            try:
                process()
            except VenueError as exc:
                self._note("answer_lost", client_id, f"{what} processed, answer lost ({exc})")
            else:
                self._note("answer_lost", client_id, f"{what} processed, answer lost")
        else:
            self._note("request_dropped", client_id, f"{what} never reached the venue")
        raise _AnswerLost(f"{what} {client_id}")

    # -- order mechanics ---------------------------------------------------------------

    def _accept(self, order: PlaceOrder, partial: Decimal | None) -> PlaceAck:
        cid = order.client_id
        if cid in self._orders:
            self._note("rejected", cid, "duplicate client order id")
            raise OrderRejected(f"{self.name}: duplicate client order id {cid}")
        market = self._market(order.symbol)
        problem = rule_violation(market.rules, order, market.far_touch(order.side))
        if problem is None and order.reduce_only and market.reducible(order.side) == 0:
            problem = (
                f"reduce-only: {order.side.value} {order.qty} would increase "
                f"position {market.position}"
            )
        if problem is not None:
            self._note("rejected", cid, problem)
            raise OrderRejected(f"{self.name}: order {cid} rejected: {problem}")
        sim = SimOrder(
            client_id=cid,
            venue_order_id=f"{self.name}-o{next(self._order_ids)}",
            symbol=order.symbol,
            side=order.side,
            kind=order.kind,
            purpose=order.purpose,
            qty=order.qty,
            price=order.price if order.kind is OrderKind.LIMIT else None,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
        )
        self._orders[cid] = sim
        self._note(
            "placed",
            cid,
            f"{sim.venue_order_id} {order.purpose.value} {order.side.value} {order.qty} "
            f"{order.symbol} {order.kind.value} {sim.price if sim.price is not None else '-'} "
            f"{order.time_in_force.value}{' reduce-only' if order.reduce_only else ''}",
        )
        want = sim.qty if partial is None else min(partial, sim.qty)
        if is_marketable(sim.side, sim.kind, sim.price, market.opposite(sim.side)):
            self._sweep(sim, market, want)
        if sim.live:
            if partial is not None:
                self._cancel(sim, f"partial: {sim.filled} filled, remainder expired")
            elif sim.kind is OrderKind.MARKET or sim.time_in_force is TimeInForce.IOC:
                self._cancel(sim, f"{sim.kind.value} {sim.time_in_force.value}: remainder expired")
            else:
                self._resting[cid] = sim
                self._note("resting", cid, f"{sim.remaining} at {sim.price}")
        return PlaceAck(client_id=cid, venue_order_id=sim.venue_order_id)

    def _clip(self, sim: SimOrder, market: MarketState, want: Decimal) -> tuple[Decimal, bool]:
        """Reduce-only orders trade at most what closes the position, judged at execution."""
        if sim.reduce_only and want > market.reducible(sim.side):
            return market.reducible(sim.side), True
        return want, False

    def _sweep(self, sim: SimOrder, market: MarketState, want: Decimal) -> None:
        """Take liquidity as a taker, level by level, within the order's limit."""
        qty, clipped = self._clip(sim, market, want)
        executed = ZERO
        for price, traded in take(market.opposite(sim.side), sim.side, sim.price, qty):
            self._execute(sim, market, traded, price, maker=False)
            executed += traded
        if clipped and sim.live and executed >= qty:
            self._cancel(sim, f"reduce-only: clipped to position, {sim.filled} filled")

    def _fill_resting(self, sim: SimOrder, want: Decimal, price: Decimal, why: str) -> None:
        """A maker fill of a resting order (script step, book move, a fill racing a cancel)."""
        market = self._markets[sim.symbol]
        qty, clipped = self._clip(sim, market, want)
        if qty > 0:
            self._execute(sim, market, qty, price, maker=True, why=why)
        if clipped and sim.live:
            self._cancel(sim, f"reduce-only: clipped to position, {sim.filled} filled")

    def _execute(
        self,
        sim: SimOrder,
        market: MarketState,
        qty: Decimal,
        price: Decimal,
        *,
        maker: bool,
        why: str = "taker",
    ) -> None:
        rate = market.rules.maker_fee if maker else market.rules.taker_fee
        fill = FillUpdate(
            venue=self.name,
            symbol=sim.symbol,
            client_id=sim.client_id,
            trade_id=f"{self.name}-t{next(self._trade_ids)}",
            qty=qty,
            price=price,
            fee=qty * price * rate,
        )
        sim.fills.append(fill)
        self.executions.append(Execution(
            asyncio.get_running_loop().time(), sim.symbol, sim.client_id, sim.side.sign * qty,
            price,
        ))
        sim.filled += qty
        market.position += sim.side.sign * qty
        self._note(
            "fill",
            sim.client_id,
            f"{fill.trade_id} {sim.side.value} {qty} at {price} fee {fill.fee} ({why})",
        )
        delay = self._latency_s + self._stream_delay_s
        self._push(fill, delay)
        if self._duplicate_fills:
            self._push(fill, delay + self._latency_s)
        if sim.remaining == 0:
            sim.status = OrderStatus.FILLED
            self._resting.pop(sim.client_id, None)
            self._note("filled", sim.client_id, f"{sim.filled}")
            self._push_status(sim)

    def _cancel(self, sim: SimOrder, reason: str) -> None:
        sim.status = OrderStatus.CANCELED
        self._resting.pop(sim.client_id, None)
        self._note("canceled", sim.client_id, reason)
        self._push_status(sim)

    # -- script steps --------------------------------------------------------------------

    def _run_step(self, step: ScriptedFill | ScriptedBook) -> None:
        if isinstance(step, ScriptedBook):
            self._move_book(step)
        else:
            self._scripted_fill(step)

    def _scripted_fill(self, step: ScriptedFill) -> None:
        target = next(
            (
                sim
                for sim in self._resting.values()
                if sim.live
                and sim.purpose is step.purpose
                and (step.symbol is None or sim.symbol == step.symbol)
            ),
            None,
        )
        if target is None:
            self._note("fill_skipped", None, f"no live {step.purpose.value} order")
            return
        want = target.remaining if step.qty is None else min(step.qty, target.remaining)
        price = step.price if step.price is not None else target.limit_price
        self._fill_resting(target, want, price, "scripted fill")

    def _move_book(self, step: ScriptedBook) -> None:
        symbol = step.symbol if step.symbol is not None else self._first_symbol
        market = self._markets[symbol]
        market.replace_book(step.book)
        self._note("book", None, market.touch_text())
        self._push(BookChanged(venue=self.name, symbol=symbol, book=step.book), self._latency_s)
        for sim in list(self._resting.values()):
            if (
                sim.live
                and sim.symbol == symbol
                and is_marketable(sim.side, sim.kind, sim.price, market.opposite(sim.side))
            ):
                self._fill_resting(sim, sim.remaining, sim.limit_price, "book moved through")

    # -- pushes and journal ------------------------------------------------------------

    def _push_status(self, sim: SimOrder) -> None:
        update = OrderUpdate(
            venue=self.name,
            symbol=sim.symbol,
            client_id=sim.client_id,
            status=sim.status,
            filled=sim.filled,
        )
        self._push(update, self._latency_s + self._stream_delay_s)

    def _push(self, update: VenueUpdate, delay: float) -> None:
        when = asyncio.get_running_loop().time() + delay
        self._timeline.at(when, functools.partial(self._deliver, update))

    def _deliver(self, update: VenueUpdate) -> None:
        """A failing handler is reported to the loop but must not starve the others."""
        for handler in tuple(self._handlers):
            try:
                handler(update)
            except Exception as exc:
                asyncio.get_running_loop().call_exception_handler(
                    {"message": f"{self.name}: update handler failed", "exception": exc}
                )

    def _note(self, kind: str, client_id: str | None, detail: str) -> None:
        entry = JournalEntry(asyncio.get_running_loop().time(), kind, client_id, detail)
        self.journal.append(entry)
        self._log.debug("{} {} {}", kind, client_id or "-", detail)
