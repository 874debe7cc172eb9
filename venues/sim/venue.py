"""A deterministic exchange for replaying the races that hurt in live trading.

Live venues disagree with the engine in a handful of ways that matter: answers are late
or lost, a fill report is overtaken by a cancel answer, a cancel races a fill, a fill
arrives twice. Each is a scripted, reproducible event here (a ``Reaction`` to a request,
or a ``ScriptedFill``/``ScriptedBook`` step) so a test or a benchmark can replay the
exact interleaving it cares about. The venue only ever waits through ``asyncio``: on
``run_virtual`` its delays cost nothing and two runs of a script are identical.

This module is the venue's front: the protocol calls and their round trip. What a
request does to orders lives in ``exchange``, whether it is answered in ``faults``, the
scripted vocabulary in ``script``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from venues.market import Book, BookError, MarketRules, PlaceOrder, Purpose
from venues.protocol import (
    AmendAck,
    CancelAck,
    NotSupported,
    OrderNotFound,
    OrderSnapshot,
    OutcomeUnknown,
    PlaceAck,
    UnusableBook,
    UpdateHandler,
    VenueError,
    VenueUpdate,
)
from venues.sim.account import SimAccountReads
from venues.sim.exchange import Exchange, Execution, JournalEntry
from venues.sim.faults import AnswerLost, Faults
from venues.sim.flow import MarketFlow
from venues.sim.matching import SimOrder, is_marketable
from venues.sim.random_market import RandomMarket
from venues.sim.script import (
    CANCEL_NEEDS_LIVE_ORDER,
    NEEDS_LIVE_ORDER,
    Liquidity,
    Outage,
    Reaction,
    ReactionAction,
    ScriptedBook,
    ScriptedFill,
    SimMarket,
)
from venues.sim.timeline import Timeline

__all__ = [
    "Execution",
    "JournalEntry",
    "Liquidity",
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


def _answer_unheard(travel: asyncio.Future[Any]) -> None:
    """Mark an answer (or error) read, so one whose caller is gone logs no warning."""
    if not travel.cancelled():
        travel.exception()


def _process(process: Callable[[], T], arrival: asyncio.Future[T]) -> None:
    """The request at the venue: its answer (or error) starts the way back."""
    if arrival.done():  # the venue closed while it travelled
        return
    try:
        arrival.set_result(process())
    except Exception as exc:
        arrival.set_exception(exc)


def _settle(reached: asyncio.Future[None]) -> None:
    if not reached.done():
        reached.set_result(None)


class SimulatedVenue(SimAccountReads):
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
        post_only_quotes: bool = False,
        market_model: RandomMarket | None = None,
    ) -> None:
        """``market_model``: a random market moves the (single) market's book and trades
        against its resting orders (``venues.sim.flow``); it starts from the model's book."""
        if not markets:
            raise ValueError(f"SimulatedVenue {name}: needs at least one market")
        for what, value in (
            ("latency_s", latency_s),
            ("request_timeout_s", request_timeout_s),
            ("stream_delay_s", stream_delay_s),
        ):
            if value < 0:
                raise ValueError(f"SimulatedVenue {name}: {what} must be >= 0, got {value}")
        if market_model is not None and len(markets) != 1:
            raise ValueError(f"SimulatedVenue {name}: a random market moves exactly one market")
        states = Exchange.market_states(name, markets)
        for step in script:
            if step.symbol is not None and step.symbol not in states:
                raise ValueError(f"SimulatedVenue {name}: script names unknown {step.symbol}")
        self.name = name
        self._exchange = Exchange(
            name,
            states,
            self._push,
            latency_s=latency_s,
            stream_delay_s=stream_delay_s,
            duplicate_fills=duplicate_fills,
            post_only_quotes=post_only_quotes,
        )
        self.executions: list[Execution] = self._exchange.executions
        self._latency_s = latency_s
        self._request_timeout_s = request_timeout_s
        self._script = tuple(script)
        self._t0 = 0.0
        self._faults = Faults(
            name,
            reactions,
            outages,
            self._exchange.note,
            lambda: asyncio.get_running_loop().time() - self._t0,
        )
        self._handlers: list[UpdateHandler] = []
        self._timeline = Timeline()
        self._travels: set[asyncio.Future[Any]] = set()
        self._started = False
        self._flow: MarketFlow | None = None
        if market_model is not None:
            market = markets[0]
            self._flow = MarketFlow(market_model, self._exchange, self._timeline, market.symbol,
                                    market.rules)
            states[market.symbol].replace_book(self._flow.start_book)

    # -- life cycle and synchronous accessors ------------------------------------------

    def start(self) -> None:
        """Schedule the script; its times count from now so the caller picks time zero."""
        if self._started:
            raise RuntimeError(f"SimulatedVenue {self.name}: start() called twice")
        self._started = True
        t0 = self._t0 = asyncio.get_running_loop().time()
        for step in self._script:
            self._timeline.at(t0 + step.at_s, functools.partial(self._exchange.run_step, step))
        if self._flow is not None:
            self._flow.start(t0)

    def close(self) -> None:
        """Stop the script and drop the requests still travelling: the venue is gone."""
        self._timeline.close()
        for travel in list(self._travels):
            travel.cancel()

    def apply(self, step: ScriptedFill | ScriptedBook) -> None:
        """Run one script step now, outside the script (benchmarks pace fills this way)."""
        self._exchange.run_step(step)

    @property
    def journal(self) -> list[JournalEntry]:
        """Everything the venue did so far, oldest first (a fresh list on each read)."""
        return self._exchange.journal

    def position_now(self, symbol: str) -> Decimal:
        return self._exchange.markets[symbol].position

    def order(self, client_id: str) -> SimOrder:
        return self._exchange.orders[client_id]

    def client_ids(self) -> list[str]:
        """Every client order id the venue ever accepted, oldest first."""
        return list(self._exchange.orders)

    def subscribe(self, handler: UpdateHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._handlers.remove(handler)

        return unsubscribe

    # -- the Venue protocol: every call travels to the venue and back ------------------

    async def market_rules(self, symbol: str) -> MarketRules:
        return await self._request(lambda: self._exchange.market(symbol).rules)

    async def book(self, symbol: str, depth: int = 10) -> Book:
        if depth < 1:
            raise ValueError(f"book depth must be >= 1, got {depth}")
        return await self._request(lambda: self._on_book(symbol, depth))

    async def position(self, symbol: str) -> Decimal:
        return await self._request(lambda: self._exchange.market(symbol).position)

    async def place(self, order: PlaceOrder) -> PlaceAck:
        return await self._request(lambda: self._on_place(order))

    async def cancel(self, symbol: str, client_id: str) -> CancelAck:
        return await self._request(lambda: self._on_cancel(symbol, client_id))

    async def query(self, symbol: str, client_id: str) -> OrderSnapshot:
        return await self._request(lambda: self._on_query(symbol, client_id))

    async def amend(
        self, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        market = self._exchange.markets.get(symbol)
        if market is not None and not market.rules.supports_amend:
            # Decided by the adapter from the market rules: the request is never sent.
            raise NotSupported(f"{self.name}: amend is not supported on {symbol}")
        return await self._request(lambda: self._on_amend(symbol, client_id, price, qty))

    async def _request(self, process: Callable[[], T]) -> T:
        """A request that has left arrives, whatever becomes of its caller.

        Cancelling the task that awaits an answer (an entry that ended, an engine that
        crashed) does not unsend the request: the venue still processes it, and only
        the answer goes nowhere. Crash-recovery tests depend on this.

        The arrival is booked on the venue's timeline now, as the request leaves, so
        requests that arrive at one instant are processed in the order they were sent:
        asyncio's timers alone would not promise it, and the rebuild behind ``recover``
        (``fsm.sim.rebuild``) relies on it to replay a run exactly.
        """
        loop = asyncio.get_running_loop()
        arrival: asyncio.Future[T] = loop.create_future()
        self._timeline.at(loop.time() + self._latency_s,
                          functools.partial(_process, process, arrival))
        travel = asyncio.ensure_future(self._travel(arrival))
        self._travels.add(travel)
        travel.add_done_callback(self._travels.discard)
        travel.add_done_callback(_answer_unheard)
        return await asyncio.shield(travel)

    async def _travel(self, arrival: asyncio.Future[T]) -> T:
        """Latency out, processing at the venue instant, latency back (errors included)."""
        try:
            result = await arrival
        except AnswerLost as lost:
            await self._after(self._request_timeout_s)
            raise OutcomeUnknown(
                f"{self.name}: no answer within {self._request_timeout_s}s ({lost})"
            ) from None
        except VenueError:
            await self._after(self._latency_s)
            raise
        await self._after(self._latency_s)
        return result

    async def _after(self, delay: float) -> None:
        """The way back, on the timeline too: answers due at one instant keep their order."""
        await self._at(asyncio.get_running_loop().time() + delay)

    async def _at(self, when: float) -> None:
        back: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._timeline.at(when, functools.partial(_settle, back))
        await back

    async def run_through(self, when: float) -> None:
        """Return once the venue has done everything scheduled so far, due up to ``when``.

        Requests arriving by then, script steps, pushes: whatever is on the timeline at
        or before ``when`` has run when this returns (things scheduled later for the same
        instant, such as a push a fill at ``when`` sends, come after).
        """
        await self._at(max(when, asyncio.get_running_loop().time()))


    # -- request processing at the venue: the fault gate, then the exchange -----------

    def _purpose_of(self, symbol: str, client_id: str) -> Callable[[], Purpose | None]:
        def purpose() -> Purpose | None:
            sim = self._exchange.lookup(symbol, client_id)
            return sim.purpose if sim is not None else None

        return purpose

    def _on_book(self, symbol: str, depth: int) -> Book:
        """The book as it stands; one no price can be taken from is refused, typed, here."""
        try:
            return self._exchange.market(symbol).book(depth)
        except BookError as exc:
            raise UnusableBook(f"{self.name}: book {symbol}: {exc}") from None

    def _on_place(self, order: PlaceOrder) -> PlaceAck:
        market = self._exchange.markets.get(order.symbol)
        marketable = market is not None and is_marketable(
            order.side, order.kind, order.price, market.opposite(order.side)
        )
        reaction = self._faults.gate(
            "place",
            order.client_id,
            lambda: order.purpose,
            lambda: self._exchange.accept(order, None),
            lambda action: action is not ReactionAction.PARTIAL or marketable,
        )
        return self._exchange.accept(order, partial=reaction.qty if reaction else None)

    def _on_cancel(self, symbol: str, client_id: str) -> CancelAck:
        exchange = self._exchange
        sim = exchange.lookup(symbol, client_id)
        live = sim is not None and sim.live
        reaction = self._faults.gate(
            "cancel",
            client_id,
            self._purpose_of(symbol, client_id),
            lambda: exchange.cancel_request(symbol, client_id, sim),
            lambda action: live or action not in CANCEL_NEEDS_LIVE_ORDER,
        )
        if sim is not None and reaction is not None and reaction.action in NEEDS_LIVE_ORDER:
            want = sim.remaining
            if reaction.action is ReactionAction.FILL_THEN_CANCEL and reaction.qty is not None:
                want = min(reaction.qty, want)
            exchange.fill_resting(sim, want, sim.limit_price, "fill raced the cancel")
            if reaction.action is ReactionAction.FILL_THEN_NOT_FOUND:
                exchange.note("cancel_not_found", client_id, "filled before the cancel arrived")
                raise OrderNotFound(f"{self.name}: order {client_id} not found")
        return exchange.cancel_request(symbol, client_id, sim)

    def _on_query(self, symbol: str, client_id: str) -> OrderSnapshot:
        self._faults.gate("query", client_id, self._purpose_of(symbol, client_id), None)
        self._exchange.market(symbol)
        sim = self._exchange.lookup(symbol, client_id)
        if sim is None:
            raise OrderNotFound(f"{self.name}: order {client_id} not found")
        return sim.snapshot()

    def _on_amend(
        self, symbol: str, client_id: str, price: Decimal, qty: Decimal
    ) -> AmendAck:
        def purpose() -> Purpose | None:
            self._exchange.market(symbol)  # an unknown symbol is refused before any reaction
            return self._purpose_of(symbol, client_id)()

        self._faults.gate(
            "amend",
            client_id,
            purpose,
            lambda: self._exchange.apply_amend(symbol, client_id, price, qty),
        )
        return self._exchange.apply_amend(symbol, client_id, price, qty)

    # -- pushes --------------------------------------------------------------------------

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

