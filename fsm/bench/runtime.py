"""Benchmarks 2 and 3: the engine's own time and memory, on the real clock.

Venues are simulated with zero latency, so everything measured is the engine (and the
asyncio loop it runs on), not the network. Two reaction paths are timed per entry:

* fill -> cancel: from the long quote's fill update entering the engine
  (``EntryEngine._on_update``) to the adapter's ``cancel`` being called for the sibling;
* confirm -> hedge: from the sibling's cancel confirmation entering the engine (the
  cancel answer or the pushed status, whichever came first) to the adapter's ``place``
  being called for the hedge.

Each path is split into the decision core's bookkeeping (``EntryModel._absorb``: ledger,
dedupe, the event and order tables), its state machine (``EntryModel._fire``: the
compiled ``transitions`` machine, guards, effects) and the rest, which is asyncio:
routing, journal and listeners, request task creation. The instrumented classes below only add
clock reads around those calls.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from fsm.core import events as ev
from fsm.core.config import EntryConfig
from fsm.core.entry import EntryModel
from fsm.core.ids import client_order_id
from fsm.core.spec import EntryTrigger, OrderState
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell.engine import EntryEngine
from fsm.shell.metrics import MetricsSink
from venues import protocol as base
from venues.market import (
    Book,
    BookLevel,
    Leg,
    MarketRules,
    PlaceOrder,
    Purpose,
)
from venues.protocol import (
    CancelAck,
    PlaceAck,
)
from venues.sim.venue import ScriptedFill, SimMarket, SimulatedVenue

SYMBOL = "BTC/USDT:USDT"
_RULES = MarketRules(lot=Decimal("0.001"), tick=Decimal("0.5"), min_qty=Decimal("0.001"),
                     min_notional=Decimal("5"))
_BOOK = Book(
    bids=(BookLevel(Decimal("60000.0"), Decimal("1000000")),),
    asks=(BookLevel(Decimal("60000.5"), Decimal("1000000")),),
)
_CONFIG = EntryConfig(quote_timeout_s=3600)
now_ns = time.perf_counter_ns


class TimedModel(EntryModel):
    """The real EntryModel, with running totals of time spent in its two halves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bookkeeping_ns = 0
        self.machine_ns = 0

    def _absorb(self, event: ev.Event) -> tuple[EntryTrigger, ...]:
        t0 = now_ns()
        try:
            return super()._absorb(event)
        finally:
            self.bookkeeping_ns += now_ns() - t0

    def _fire(self, trigger: str) -> None:
        t0 = now_ns()
        try:
            super()._fire(trigger)
        finally:
            self.machine_ns += now_ns() - t0


@attrs.define
class Mark:
    """A moment on one entry's reaction path, with the core's running totals then."""

    at: int
    bookkeeping: int
    machine: int

    @classmethod
    def of(cls, model: TimedModel | None) -> Mark:
        if model is None:
            return cls(now_ns(), 0, 0)
        return cls(now_ns(), model.bookkeeping_ns, model.machine_ns)


@attrs.frozen
class PathTiming:
    """One reaction, split; nanoseconds."""

    total: int
    bookkeeping: int
    machine: int

    @property
    def loop(self) -> int:
        return self.total - self.bookkeeping - self.machine

    @classmethod
    def between(cls, start: Mark, end: Mark) -> PathTiming:
        return cls(end.at - start.at, end.bookkeeping - start.bookkeeping,
                   end.machine - start.machine)


class Probe:
    """Collects the marks of every entry; one per benchmark run."""

    def __init__(self) -> None:
        self.models: dict[str, TimedModel] = {}
        self.owner: dict[str, str] = {}  # client id -> entry id
        self.fill_in: dict[str, Mark] = {}
        self.cancel_out: dict[str, Mark] = {}
        self.confirm_in: dict[str, Mark] = {}
        self.hedge_out: dict[str, Mark] = {}
        self.active = True  # off: a burst of fills follows and its queueing is not timed

    def expect(self, entry_id: str) -> None:
        for leg, purpose in ((Leg.LONG, Purpose.QUOTE), (Leg.SHORT, Purpose.QUOTE),
                             (Leg.SHORT, Purpose.HEDGE)):
            self.owner[client_order_id(entry_id, leg, purpose, 1)] = entry_id

    def mark(self, table: dict[str, Mark], client_id: str) -> None:
        entry = self.owner.get(client_id)
        if self.active and entry is not None and entry not in table:
            table[entry] = Mark.of(self.models.get(entry))

    def reactions(self) -> tuple[list[PathTiming], list[PathTiming]]:
        first = [PathTiming.between(self.fill_in[e], self.cancel_out[e])
                 for e in self.cancel_out if e in self.fill_in]
        second = [PathTiming.between(self.confirm_in[e], self.hedge_out[e])
                  for e in self.hedge_out if e in self.confirm_in]
        return first, second


class _TimedEngine(EntryEngine):
    model_class = TimedModel

    def __init__(self, venues: dict[str, base.Venue], probe: Probe,
                 metrics: MetricsSink | None = None) -> None:
        super().__init__(venues, _CONFIG, metrics=metrics)
        self.probe = probe

    def _on_update(self, venue: str, update: base.VenueUpdate) -> None:
        if isinstance(update, base.FillUpdate):
            self.probe.mark(self.probe.fill_in, update.client_id)
        elif isinstance(update, base.OrderUpdate) and update.status is base.OrderStatus.CANCELED:
            self.probe.mark(self.probe.confirm_in, update.client_id)
        super()._on_update(venue, update)


class _StampedVenue(SimulatedVenue):
    """Marks the moments the engine hands a cancel or a hedge to the adapter."""

    probe: Probe

    async def cancel(self, symbol: str, client_id: str) -> CancelAck:
        self.probe.mark(self.probe.cancel_out, client_id)
        ack = await super().cancel(symbol, client_id)
        self.probe.mark(self.probe.confirm_in, client_id)
        return ack

    async def place(self, order: PlaceOrder) -> PlaceAck:
        if order.purpose is Purpose.HEDGE:
            self.probe.mark(self.probe.hedge_out, order.client_id)
        return await super().place(order)


@attrs.define
class World:
    """Two zero-latency venues and one instrumented engine: the scene of every run."""

    probe: Probe
    alpha: _StampedVenue
    beta: _StampedVenue
    engine: _TimedEngine

    @classmethod
    def create(cls, model_class: type[TimedModel] | None = None,
               metrics: MetricsSink | None = None) -> World:
        probe = Probe()
        venues = []
        for name in ("alpha", "beta"):
            venue = _StampedVenue(name, [SimMarket(SYMBOL, _RULES, _BOOK)])
            venue.probe = probe
            venue.start()
            venues.append(venue)
        engine = _TimedEngine({v.name: v for v in venues}, probe, metrics)
        if model_class is not None:  # else the engine class's own (tests swap it)
            engine.model_class = model_class
        return cls(probe, venues[0], venues[1], engine)

    def request(self, entry_id: str) -> EntryRequest:
        self.probe.expect(entry_id)
        qty = Decimal("0.5")
        return EntryRequest(LegSpec("alpha", SYMBOL, qty), LegSpec("beta", SYMBOL, qty),
                            entry_id=entry_id)

    def fill_one(self) -> None:
        """Fill the oldest resting long quote completely, now."""
        self.alpha.apply(ScriptedFill(at_s=0.0))

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await asyncio.sleep(0)

    def quoting(self, entry_ids: list[str]) -> Callable[[], bool]:
        """Every entry rests both quotes, acknowledged, and has no request in flight.

        Entries found ready are not looked at again, so waiting for 10,000 entries costs
        O(n) checks overall rather than O(n) per loop iteration.
        """
        pending = list(entry_ids)

        def ready() -> bool:
            while pending:
                actor = self.engine._actors.get(pending[-1])
                if actor is None or actor.tasks:
                    return False
                quotes = [actor.model.quote(leg) for leg in (Leg.LONG, Leg.SHORT)]
                if not all(q is not None and q.state is OrderState.OPEN for q in quotes):
                    return False
                self.probe.models[pending.pop()] = actor.model  # type: ignore[assignment]
            return True

        return ready

    def close(self) -> None:
        self.alpha.close()
        self.beta.close()


def _check(results: list[Any]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            raise result
        if not result.succeeded:
            raise RuntimeError(f"benchmark entry {result.entry_id} ended {result.final_state}")


async def _sequential(
    entries: int, idle_s: float, model_class: type[TimedModel] | None = None,
    metrics: MetricsSink | None = None,
) -> Probe:
    """One entry alive at a time; each is filled ``idle_s`` after its quotes rest."""
    world = World.create(model_class, metrics)
    for k in range(entries):
        entry_id = f"o{k}"
        task = asyncio.create_task(world.engine.enter(world.request(entry_id)))
        await world.until(world.quoting([entry_id]))
        if idle_s:
            await asyncio.sleep(idle_s)
        world.fill_one()
        _check([await task])
    world.close()
    return world.probe


def overhead(
    entries: int = 10_000, model_class: type[TimedModel] | None = None,
    metrics: MetricsSink | None = None,
) -> tuple[list[PathTiming], list[PathTiming]]:
    """Both reaction paths of ``entries`` entries run back to back on a busy loop
    (``model_class``: the core, or a variant of it that ``fsm.bench.dispatch`` compares;
    ``metrics``: the engine's sink, ``fsm.bench.metrics_cost``)."""
    gc.collect()
    return asyncio.run(_sequential(entries, 0.0, model_class, metrics)).reactions()


PACED_FILLS = 1000  # reactions timed per N: a sample, the rest of the fills come in a burst
PACE_S = 0.003  # longer than one entry's whole life on this loop, so fills do not queue


@attrs.frozen
class _Concurrent:
    reactions: list[PathTiming]
    entries_per_s: float
    bytes_per_entry: float | None


async def _concurrent(n: int, paced: int, memory: bool) -> _Concurrent:
    """Start ``n`` entries and wait until all quote; then fill ``paced`` of them one by one,
    ``PACE_S`` apart, timing each reaction, and the rest at once.

    Pacing keeps the loop below saturation, so a reaction measures the cost of one event
    with ``n`` entries alive, not the length of a queue of ``n`` simultaneous fills. The
    burst that follows measures throughput: completed entries per second.
    """
    world = World.create()
    ids = [f"s{k}" for k in range(n)]
    if memory:
        gc.collect()
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
    tasks = [asyncio.create_task(world.engine.enter(world.request(e))) for e in ids]
    await world.until(world.quoting(ids))
    per_entry = None
    if memory:
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        per_entry = _engine_bytes(before, after) / n
    for _ in range(paced):
        world.fill_one()
        await asyncio.sleep(PACE_S)
    world.probe.active = False
    t0 = time.perf_counter()
    for _ in range(n - paced):
        world.fill_one()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - t0
    _check(results)
    world.close()
    first, _ = world.probe.reactions()
    burst = n - paced
    return _Concurrent(first, burst / elapsed if burst else 0.0, per_entry)


def _engine_bytes(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> float:
    """Memory held for live entries, less what the simulated venues hold for their orders.

    Traces are attributed to the line that allocated them; venue modules, and the attrs
    constructors of venue classes, are the venue's side.
    """
    venue_side = [tracemalloc.Filter(False, "*/venues/*"),
                  tracemalloc.Filter(False, "<attrs generated * venues.*")]
    diff = after.filter_traces(venue_side).compare_to(before.filter_traces(venue_side),
                                                       "filename")
    return float(sum(stat.size_diff for stat in diff))


def reactions_alive(n: int) -> list[PathTiming]:
    """Fill -> cancel reactions with ``n`` entries alive, on a loop idle between fills.

    For ``n`` = 1 that is ``PACED_FILLS`` entries one after another, each filled after
    the same idle pause, so every N is measured the same way.
    """
    gc.collect()
    if n == 1:
        return asyncio.run(_sequential(PACED_FILLS, PACE_S)).reactions()[0]
    return asyncio.run(_concurrent(n, min(n, PACED_FILLS), memory=False)).reactions


def throughput(n: int) -> float:
    """Entries completed per second when all ``n`` fills land at once (a burst)."""
    gc.collect()
    return asyncio.run(_concurrent(n, 0, memory=False)).entries_per_s


def memory_per_entry(n: int) -> float:
    """Bytes the engine holds per live (quoting) entry with ``n`` alive (tracemalloc)."""
    gc.collect()
    sample = asyncio.run(_concurrent(n, 0, memory=True))
    assert sample.bytes_per_entry is not None
    return sample.bytes_per_entry
