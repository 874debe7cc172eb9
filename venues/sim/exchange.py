"""The simulated venue's book-keeping: orders, fills, positions and its journal of them.

What the venue *does* with an order it has accepted (match it, rest it, fill it, cancel
it, amend it) is kept apart from *when* it does it (latency, the request round trip) and
from *whether* it answers (scripted reactions and outages), so each can be read alone.
The journal is the venue's own record of every step: determinism tests compare it.

A venue holding thousands of resting orders (the scale benchmark) keeps several
journal records and one order each: they are kept compact (records as tuples of
strings and numbers, an order's fills as a tuple made on the first fill), because the
garbage collector stops tracking such tuples and every tracked object lengthens each
full collection of the process the simulator runs in.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs
from loguru import logger

from venues.market import (
    BookError,
    OrderKind,
    PlaceOrder,
    Purpose,
    Side,
    TimeInForce,
)
from venues.protocol import (
    AmendAck,
    BookChanged,
    CancelAck,
    FillUpdate,
    Liquidity,
    OrderNotFound,
    OrderRejected,
    OrderUpdate,
    PlaceAck,
    VenueUpdate,
    settle_currency,
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
from venues.sim.queue import Queues
from venues.sim.script import ScriptedBook, ScriptedFill, SimMarket

__all__ = ["Exchange", "Execution", "JournalEntry"]

Push = Callable[[VenueUpdate, float], None]


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


class Exchange:
    """One account's orders and positions on one venue; see the module docstring.

    ``push`` sends a venue update to subscribers after a delay (the venue owns timing).
    """

    def __init__(
        self,
        name: str,
        markets: dict[str, MarketState],
        push: Push,
        *,
        latency_s: float,
        stream_delay_s: float,
        duplicate_fills: bool,
        post_only_quotes: bool = False,
    ) -> None:
        self.name = name
        self._post_only_quotes = post_only_quotes
        self.markets = markets
        self._journal: list[tuple[float, str, str | None, str]] = []
        self.executions: list[Execution] = []
        self.orders: dict[str, SimOrder] = {}
        self._resting: dict[str, SimOrder] = {}  # live orders, oldest first: what fills scan
        self._push = push
        self._latency_s = latency_s
        self._stream_delay_s = stream_delay_s
        self._duplicate_fills = duplicate_fills
        self._first_symbol = next(iter(markets))
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._log = logger.bind(venue=name)
        self.queues: Queues | None = None  # queue positions, when a random market trades here

    @classmethod
    def market_states(cls, name: str, markets: Sequence[SimMarket]) -> dict[str, MarketState]:
        states: dict[str, MarketState] = {}
        for market in markets:
            if market.symbol in states:
                raise ValueError(f"SimulatedVenue {name}: market {market.symbol} given twice")
            states[market.symbol] = MarketState.create(
                market.symbol, market.rules, market.book, market.position
            )
        return states

    @property
    def journal(self) -> list[JournalEntry]:
        """The journal so far, oldest first (a copy: records are stored as plain tuples)."""
        return [JournalEntry(*record) for record in self._journal]

    def note(self, kind: str, client_id: str | None, detail: str) -> None:
        self._journal.append((asyncio.get_running_loop().time(), kind, client_id, detail))
        self._log.debug("{} {} {}", kind, client_id or "-", detail)

    def market(self, symbol: str) -> MarketState:
        market = self.markets.get(symbol)
        if market is None:
            raise OrderRejected(f"{self.name}: unknown symbol {symbol}")
        return market

    def lookup(self, symbol: str, client_id: str) -> SimOrder | None:
        """The order as the venue knows it: orders are scoped by symbol, as on real venues."""
        sim = self.orders.get(client_id)
        return sim if sim is not None and sim.symbol == symbol else None

    # -- requests the venue processes ------------------------------------------------

    def accept(self, order: PlaceOrder, partial: Decimal | None) -> PlaceAck:
        cid = order.client_id
        if cid in self.orders:
            self.note("rejected", cid, "duplicate client order id")
            raise OrderRejected(f"{self.name}: duplicate client order id {cid}")
        market = self.market(order.symbol)
        problem = rule_violation(market.rules, order, market.far_touch(order.side))
        if problem is None and order.reduce_only and market.reducible(order.side) == 0:
            problem = (
                f"reduce-only: {order.side.value} {order.qty} would increase "
                f"position {market.position}"
            )
        if problem is None and self._post_only(order) and is_marketable(
                order.side, order.kind, order.price, market.opposite(order.side)):
            problem = f"post-only: {order.side.value} at {order.price} would take"
        if problem is not None:
            self.note("rejected", cid, problem)
            raise OrderRejected(f"{self.name}: order {cid} rejected: {problem}")
        sim = SimOrder.placed(order, f"{self.name}-o{next(self._order_ids)}")
        self.orders[cid] = sim
        self.note(
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
                self.note("resting", cid, f"{sim.remaining} at {sim.price}")
                if self.queues is not None:
                    self.queues.join(sim, market)
        return PlaceAck(client_id=cid, venue_order_id=sim.venue_order_id)

    def cancel_request(self, symbol: str, client_id: str, sim: SimOrder | None) -> CancelAck:
        self.market(symbol)
        if sim is None or not sim.live:
            state = "unknown" if sim is None else sim.status.value
            self.note("cancel_not_found", client_id, state)
            raise OrderNotFound(f"{self.name}: order {client_id} not found")
        self._cancel(sim, "canceled by request")
        return CancelAck(client_id=client_id, filled=sim.filled)


    def apply_amend(self, symbol: str, client_id: str, price: Decimal, qty: Decimal) -> AmendAck:
        market = self.market(symbol)
        sim = self.lookup(symbol, client_id)
        if sim is None or not sim.live:
            self.note("amend_not_found", client_id, "unknown" if sim is None else sim.status.value)
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
            self.note("amend_rejected", client_id, problem)
            raise OrderRejected(f"{self.name}: amend of {client_id} rejected: {problem}")
        self.note("amended", client_id, f"price {sim.price} -> {price}, size {sim.qty} -> {qty}")
        moved, (sim.price, sim.qty) = price != sim.price, (price, qty)
        if moved and self.queues is not None:
            self.queues.join(sim, market)  # a new price is a new place: the back of its level
        if is_marketable(sim.side, sim.kind, price, market.opposite(sim.side)):
            if self._post_only(sim):
                self._cancel(sim, f"post-only: amended to {price}, would take")
            else:
                self._sweep(sim, market, sim.remaining)
        return AmendAck(client_id=client_id, status=sim.status, filled=sim.filled)


    # -- order mechanics ---------------------------------------------------------------

    def _post_only(self, order: PlaceOrder | SimOrder) -> bool:
        """Quotes go post-only when asked, as ``CcxtVenue(post_only_quotes=True)`` sends
        them; every modelled exchange refuses such a place that would take and cancels
        such an order that an amend would make take (binance, bybit, okx 51511,
        hyperliquid), so neither ever takes liquidity."""
        return (self._post_only_quotes and order.purpose is Purpose.QUOTE
                and order.kind is OrderKind.LIMIT and order.time_in_force is TimeInForce.GTC)

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

    def fill_resting(self, sim: SimOrder, want: Decimal, price: Decimal, why: str) -> None:
        """A maker fill of a resting order (script step, book move, a fill racing a cancel)."""
        market = self.markets[sim.symbol]
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
            liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
            fee_currency=settle_currency(sim.symbol),
        )
        completed = sim.add_fill(fill)
        self.executions.append(Execution(
            asyncio.get_running_loop().time(), sim.symbol, sim.client_id, sim.side.sign * qty,
            price,
        ))
        market.position += sim.side.sign * qty
        self.note(
            "fill",
            sim.client_id,
            f"{fill.trade_id} {sim.side.value} {qty} at {price} fee {fill.fee} ({why})",
        )
        delay = self._latency_s + self._stream_delay_s
        self._push(fill, delay)
        if self._duplicate_fills:
            self._push(fill, delay + self._latency_s)
        if completed:
            self._stop_resting(sim.client_id)
            self.note("filled", sim.client_id, f"{sim.filled}")
            self._push_status(sim)

    def _cancel(self, sim: SimOrder, reason: str) -> None:
        sim.cancel()
        self._stop_resting(sim.client_id)
        self.note("canceled", sim.client_id, reason)
        self._push_status(sim)

    def _stop_resting(self, client_id: str) -> None:
        self._resting.pop(client_id, None)
        if self.queues is not None:
            self.queues.leave(client_id)

    # -- script steps --------------------------------------------------------------------

    def run_step(self, step: ScriptedFill | ScriptedBook) -> None:
        if isinstance(step, ScriptedBook):
            self.move_book(step)
        else:
            self.scripted_fill(step)

    def scripted_fill(self, step: ScriptedFill) -> None:
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
            self.note("fill_skipped", None, f"no live {step.purpose.value} order")
            return
        want = target.remaining if step.qty is None else min(step.qty, target.remaining)
        price = step.price if step.price is not None else target.limit_price
        self.fill_resting(target, want, price, "scripted fill")

    def move_book(self, step: ScriptedBook) -> None:
        symbol = step.symbol if step.symbol is not None else self._first_symbol
        market = self.markets[symbol]
        before = (market.bids, market.asks)  # replaced, not changed in place
        market.replace_book(step.book)
        if self.queues is not None:
            self.queues.book_changed(market, before, self._resting.values())
        self.note("book", None, market.touch_text() + ("" if step.pushed else " (not pushed)"))
        if step.pushed:
            try:
                book = market.book()
            except BookError as exc:  # a stream sends no book no one could price from
                self.note("book_unusable", None, str(exc))
            else:
                self._push(BookChanged(venue=self.name, symbol=symbol, book=book),
                           self._latency_s)
        for sim in list(self._resting.values()):
            if (
                sim.live
                and sim.symbol == symbol
                and is_marketable(sim.side, sim.kind, sim.price, market.opposite(sim.side))
            ):
                self.fill_resting(sim, sim.remaining, sim.limit_price, "book moved through")

    def outside_trade(self, symbol: str, taker: Side, qty: Decimal) -> None:
        """Another trader's market order (a random market's flow): fills what it reaches
        of our resting orders, in queue order (``venues.sim.queue``)."""
        assert self.queues is not None
        fills = self.queues.trade(self.markets[symbol], taker, qty, self._resting.values())
        self.note("trade", None, f"outside {taker.value} {qty}")
        for sim, want, price in fills:
            self.fill_resting(sim, want, price, f"outside {taker.value} {qty}")

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

