"""Property tests: several entries sharing one account, in random worlds, in virtual time.

One entry alone is checked by ``test_properties_engine``; the unsafe outcomes the
issue found all came from what only happens around it. Here 2 to 4 entries run at once
on the same two venues and symbol (so on one account): same and opposite directions,
different sizes, staggered starts, kills at random instants, thin books that a hedge
IOC exhausts, book sides that empty mid-entry (the simulator's scripted ``Liquidity``)
and come back or not, plus a few scripted faults. Every step of every entry is checked
as in the single-entry worlds; at the end each entry against venue truth
(``invariants.check``, ``alone=False``), each rollback against opening what the entry
did not open, and the account as a whole (``invariants.shared_account``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.core import invariants
from fsm.core.commands import Command, RaiseAlert
from fsm.core.config import EntryConfig
from fsm.core.ids import PREFIX
from fsm.core.result import EntryResult
from fsm.core.spec import EntryTrigger
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.breakers import BreakerHalted
from fsm.shell.engine import EntryEngine, Step
from fsm.sim.runner import venue_filled
from fsm.sim.scenario import VenueSpec
from tests.conftest import count_example, examples
from tests.strategies import SYMBOL, book_at, configs, lots, millis, reactions, times
from tests.test_concurrent_entries import _opened_by_rollback
from tests.test_properties_engine import StepChecks
from venues.market import MarketRules, OrderStatus, Purpose
from venues.protocol import UnusableBook
from venues.sim.script import Liquidity
from venues.sim.venue import ScriptedBook, ScriptedFill, SimMarket, SimulatedVenue
from venues.sim.virtual_time import run_virtual

D = Decimal
VIRTUAL_LIMIT_S = 3600.0

# Issue 13, Deliver 2: a caller cancelling its ``engine.enter()`` kills the entry (it used
# to strand the entry's exposure: see the test at the end). The worlds cancel callers at
# random instants and check the cancelled entries by venue truth.
CALLER_CANCEL_KILLS = True


@attrs.frozen
class Planned:
    """One entry of a world: what it asks, when it starts, when it is killed or abandoned."""

    request: EntryRequest
    start_s: float
    kill_at_s: float | None = None
    cancel_at_s: float | None = None  # the caller cancels its await of ``enter``

    @property
    def entry_id(self) -> str:
        return self.request.entry_id or ""


@attrs.frozen
class AccountWorld:
    venues: tuple[VenueSpec, ...]
    config: EntryConfig
    entries: tuple[Planned, ...]


# --------------------------------------------------------------------------- worlds

def _emptied(book: Liquidity, side: str) -> Liquidity:
    return Liquidity(bids=() if side == "bids" else book.bids,
                     asks=() if side == "asks" else book.asks)


@st.composite
def _venue(draw: st.DrawFn, name: str, lot: Decimal, target: Decimal, calm: bool) -> VenueSpec:
    """``calm``: deep books that never empty, no scripted fault (only the other entries)."""
    # thin: a few lots per level, so a hedge IOC walks the whole book and expires part
    depth = "deep" if calm else draw(st.sampled_from(["deep", "thin"]))
    per_level = target * 4 if depth == "deep" else lot * draw(st.integers(1, 8))
    book = book_at(0, per_level)
    script: list[ScriptedFill | ScriptedBook] = [
        ScriptedFill(at_s=draw(times), purpose=draw(st.sampled_from(
            [Purpose.QUOTE] * 4 + [Purpose.HEDGE, Purpose.ROLLBACK])),
            qty=draw(st.one_of(st.none(), lots(lot, 1, int(target / lot)))))
        for _ in range(draw(st.integers(0, 6)))]
    # a side empties mid-entry; it may come back
    for _ in range(0 if calm else draw(st.integers(0, 2))):
        at = draw(times.filter(lambda t: t > 0))
        moved = book_at(draw(st.integers(-20, 20)), per_level)
        script.append(ScriptedBook(at_s=at, book=_emptied(
            Liquidity(moved.bids, moved.asks), draw(st.sampled_from(["bids", "asks"])))))
        if draw(st.booleans()):
            script.append(ScriptedBook(at_s=at + draw(st.sampled_from([0.05, 0.3, 1.0])),
                                       book=moved))
    rules = MarketRules(lot=lot, tick=D("0.5"), min_qty=lot, min_notional=D(5),
                        maker_fee=D("0.0002"), taker_fee=D("0.0005"),
                        supports_amend=draw(st.booleans()))
    return VenueSpec(
        name=name,
        market=SimMarket(SYMBOL, rules, book,
                         draw(st.sampled_from([D(0), D(0), D(2), D(-2)]))),
        latency_s=draw(millis),
        request_timeout_s=draw(st.sampled_from([0.25, 0.5, 1.0])),
        duplicate_fills=draw(st.booleans()),
        stream_delay_s=draw(st.sampled_from([0.0, 0.0, 0.05, 0.2])),
        script=tuple(script),
        reactions=() if calm else tuple(draw(st.lists(reactions(lot, target), max_size=2))),
    )


@st.composite
def account_worlds(draw: st.DrawFn, *, cancels: bool = CALLER_CANCEL_KILLS) -> AccountWorld:
    """2 to 4 entries on one account; every request passes the pre-trade checks."""
    lot = draw(st.sampled_from([D("0.001"), D("0.01")]))
    target = lot * 100
    calm = draw(st.integers(0, 2)) == 0
    alpha, beta = draw(_venue("alpha", lot, target, calm)), draw(_venue("beta", lot, target, calm))
    entries = []
    for i in range(draw(st.integers(2, 4))):
        long, short = draw(st.sampled_from([("alpha", "beta"), ("beta", "alpha")]))
        qty = draw(lots(lot, 5, 100))
        request = EntryRequest(LegSpec(long, SYMBOL, qty), LegSpec(short, SYMBOL, qty),
                               entry_id=f"w{i}")
        start = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))
        # entries often end within 0.3 s: most kills land early, some after the end
        kill = draw(st.one_of(st.none(), millis.map(lambda s: 3 * s), times))
        cancel = draw(st.one_of(st.none(), st.none(), times)) if cancels else None
        entries.append(Planned(request, start, kill, cancel))
    return AccountWorld((alpha, beta), draw(configs), tuple(entries))


# --------------------------------------------------------------------------- running

@attrs.frozen
class AccountRun:
    results: dict[str, EntryResult]  # the entries whose caller got a result
    abandoned: tuple[str, ...]       # the entries whose caller cancelled its await
    refused: tuple[str, ...]         # refused at the start: a book side was empty
    halted: tuple[str, ...]          # refused at the start: earlier entries tripped a breaker
    alerts: list[tuple[str, RaiseAlert]]
    venues: dict[str, SimulatedVenue]
    held: dict[str, Decimal]          # each venue's position before any entry
    steps: int
    lot: Decimal
    sent: dict[str, list[Command]] = attrs.field(factory=dict)  # per entry, for invariant 9


def run_account(world: AccountWorld) -> AccountRun:
    return run_virtual(_run(world))


async def _run(world: AccountWorld) -> AccountRun:
    venues = {spec.name: spec.build() for spec in world.venues}
    held = {name: v.position_now(SYMBOL) for name, v in venues.items()}
    for venue in venues.values():
        venue.start()
    engine = EntryEngine(venues, world.config)
    checks, failures, alerts = StepChecks(), list[BaseException](), []
    steps = 0
    sent: dict[str, list[Command]] = {}

    def listen(step: Step) -> None:
        nonlocal steps
        steps += 1
        sent.setdefault(step.entry_id, []).extend(step.commands)
        try:
            checks(step, engine, venues)
        except BaseException as exc:  # the engine swallows listener errors; we must not
            failures.append(exc)

    engine.on_step(listen)
    engine.on_alert(lambda entry_id, alert: alerts.append((entry_id, alert)))
    loop = asyncio.get_running_loop()

    async def one(planned: Planned) -> EntryResult:
        await asyncio.sleep(planned.start_s)
        return await engine.enter(planned.request)

    def kill(entry_id: str) -> None:
        # running() is true from the moment enter() runs (markets still being read) until
        # the entry ends: a kill in that window must send nothing, and is drawn too.
        if engine.running(entry_id):
            engine.kill(entry_id, "property test")

    tasks = []
    for planned in world.entries:
        task = loop.create_task(one(planned))
        tasks.append(task)
        entry_id = planned.entry_id
        if planned.kill_at_s is not None:
            loop.call_later(planned.start_s + planned.kill_at_s, kill, entry_id)
        if planned.cancel_at_s is not None:
            loop.call_later(planned.start_s + planned.cancel_at_s, task.cancel)
    try:
        outcomes = await asyncio.wait_for(
            asyncio.gather(*tasks, return_exceptions=True), VIRTUAL_LIMIT_S)
        deadline = loop.time() + VIRTUAL_LIMIT_S
        while engine._actors and loop.time() < deadline:  # abandoned entries run on
            await asyncio.sleep(0.05)
        assert not engine._actors, f"entries never ended: {list(engine._actors)}"
        await asyncio.sleep(2.0)  # answers and reports still on their way land
    finally:
        await engine.close()
        for venue in venues.values():
            venue.close()
    if failures:
        raise failures[0]
    results, abandoned, refused, halted = {}, [], [], []
    for planned, outcome in zip(world.entries, outcomes, strict=True):
        if isinstance(outcome, asyncio.CancelledError):
            abandoned.append(planned.entry_id)
        elif isinstance(outcome, UnusableBook):  # started while a side was empty
            refused.append(planned.entry_id)
        elif isinstance(outcome, BreakerHalted):  # earlier entries halted a venue's breaker
            halted.append(planned.entry_id)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results[planned.entry_id] = outcome
    lot = max(spec.market.rules.lot for spec in world.venues)
    return AccountRun(results, tuple(abandoned), tuple(refused), tuple(halted), alerts,
                      venues, held, steps, lot, sent)


# --------------------------------------------------------------------------- checks

def check_entry(result: EntryResult, venues: dict[str, SimulatedVenue],
                sent: Sequence[Command] = ()) -> None:
    """One entry among others: safe by venue truth, and honest about what it holds; its
    marketable orders (``sent``) within their budgets by the venues' own trades."""
    assert result.final_state in invariants.ENTRY_TERMINAL
    truth = venue_filled(venues, result)
    trades = [(e.client_id, e.price) for v in venues.values() for e in v.executions]
    violations = invariants.check(result, truth, alone=False, commands=sent, executions=trades)
    assert violations == [], (result.entry_id, violations)
    assert _opened_by_rollback(result) == []
    net = result.legs["long"].filled - result.legs["short"].filled
    if abs(net) > result.tolerance:  # never complete; an alert names each venue
        assert result.final_state in ("stuck", "unbalanced"), (result.entry_id, net)
        assert result.alerts and all(v in result.alerts[-1] for v in result.positions)


def _own_orders(venue: SimulatedVenue, entry_id: str) -> list[str]:
    own = f"{PREFIX}{entry_id}"
    return [cid for cid in venue.client_ids()
            if cid.startswith(own) and cid[len(own)] in "LS"]


def check_abandoned(run: AccountRun, entry_id: str) -> None:
    """An entry whose caller walked away: by venue truth alone, nothing left behind.

    No order of it rests at a venue, and its net (what it bought less what it sold,
    both venues) is within one lot, or an alert for it says why not.
    """
    net, resting = D(0), []
    for venue in run.venues.values():
        for cid in _own_orders(venue, entry_id):
            order = venue.order(cid)
            net += order.filled if order.side.value == "buy" else -order.filled
            if order.status is OrderStatus.OPEN:
                resting.append(cid)
    said = [a.message for who, a in run.alerts if who == entry_id]
    assert not resting or any(all(c in m for c in resting) for m in said), (
        f"{entry_id} abandoned with {resting} resting and no alert naming them")
    assert abs(net) <= run.lot or said, f"{entry_id} abandoned with net {net} and no alert"


def check_run(run: AccountRun) -> None:
    for result in run.results.values():
        check_entry(result, run.venues, run.sent.get(result.entry_id, ()))
    for entry_id in run.abandoned:
        check_abandoned(run, entry_id)
    for entry_id in run.refused + run.halted:  # refused before anything was sent
        assert not [c for v in run.venues.values() for c in _own_orders(v, entry_id)]
    now = {name: v.position_now(SYMBOL) for name, v in run.venues.items()}
    truth = {cid: o.filled for v in run.venues.values() for cid in v.client_ids()
             for o in (v.order(cid),)}
    abandoned = {name: _abandoned_fills(run, name) for name in run.venues}
    assert invariants.shared_account(
        list(run.results.values()), run.held, now, truth, abandoned) == []
    for venue in run.venues.values():  # no client id placed twice on the account
        placed = [e.client_id for e in venue.journal if e.kind == "placed"]
        assert len(placed) == len(set(placed))


def _abandoned_fills(run: AccountRun, name: str) -> Decimal:
    venue = run.venues[name]
    return sum((o.filled if o.side.value == "buy" else -o.filled
                for entry_id in run.abandoned for cid in _own_orders(venue, entry_id)
                for o in (venue.order(cid),)), D(0))


def _thin(venue: VenueSpec) -> bool:
    """Fewer than 400 lots at the touch: up to 4 entries' IOCs can walk the whole book."""
    return venue.market.book.asks[0].qty < venue.market.rules.lot * 400


def _empty_sides(venue: VenueSpec) -> int:
    return sum(1 for s in venue.script
               if isinstance(s, ScriptedBook) and not (s.book.bids and s.book.asks))


@settings(max_examples=examples(2.5))
@given(account_worlds())
def test_entries_sharing_an_account_stay_safe_and_add_up(world: AccountWorld) -> None:
    run = run_account(world)
    states = [r.final_state for r in run.results.values()]
    count_example(
        "worlds: entries sharing an account", run.steps,
        entries=len(world.entries),
        opposite=int(len({e.request.long.venue for e in world.entries}) > 1),
        kills=sum(e.kill_at_s is not None for e in world.entries),
        kills_landed=sum(any(p.trigger == EntryTrigger.KILL for p in r.path)
                         for r in run.results.values()),
        caller_cancels=len(run.abandoned),
        refused_on_an_empty_side=len(run.refused),
        refused_by_a_halted_breaker=len(run.halted),
        thin_books=sum(_thin(v) for v in world.venues),
        empty_sides=sum(_empty_sides(v) for v in world.venues),
        rolled_back=states.count("rolled_back"),
        stuck=states.count("stuck"), unbalanced=states.count("unbalanced"),
        stuck_with_no_fault=0 if any(v.reactions for v in world.venues)
        else states.count("stuck"),
        calm=int(not any(v.reactions or _thin(v) or _empty_sides(v) for v in world.venues)),
    )
    check_run(run)
    if not any(v.reactions or _thin(v) or _empty_sides(v) for v in world.venues):
        # no venue misbehaved and liquidity never ran out: the bar for concurrent
        # entries (before the account view, 1 to 4 in 200 ended stuck with no fault
        # injected). A rollback on a book the entries drained may end stuck, and says so.
        assert "stuck" not in states, {i: r.final_state for i, r in run.results.items()}


def _plain(name: str, lot: str, depth: str, latency_s: float = 0.0,
           script: tuple[ScriptedFill, ...] = ()) -> VenueSpec:
    rules = MarketRules(lot=lot, tick=D("0.5"), min_qty=lot, min_notional=D(5))
    return VenueSpec(name, SimMarket(SYMBOL, rules, book_at(0, D(depth))), latency_s=latency_s,
                     request_timeout_s=0.5, duplicate_fills=False, stream_delay_s=0.0,
                     script=script, reactions=())


def _entry(entry_id: str, long: str, short: str, qty: str, **at: float) -> Planned:
    return Planned(EntryRequest(LegSpec(long, SYMBOL, qty), LegSpec(short, SYMBOL, qty),
                                entry_id=entry_id), 0.0, **at)


def _drained_pair() -> AccountWorld:
    """w0 (long alpha) and w1 (long beta) cross the books at once; beta's book is 6 lots
    a side. Before slippage budgets w1's long quote got 6 of 7 lots, its hedge found
    beta's asks gone and its rollback the bids w0 sold into: stuck, budget 0. Now the
    pre-trade check sizes w1 to the 6 lots the book holds, and both complete."""
    config = EntryConfig(limit_order_offset_pct=D("-0.0002"), quote_timeout_s=0.3,
                         hedge_retry_budget=0, rollback_retry_budget=0, send_retry_budget=0)
    return AccountWorld((_plain("alpha", "0.001", "0.4"), _plain("beta", "0.001", "0.001")),
                        config, (_entry("w0", "alpha", "beta", "0.005"),
                                 _entry("w1", "beta", "alpha", "0.007")))


def test_the_account_check_names_a_fill_no_entry_reports() -> None:
    """The venues add up to both entries' reports, and not to one of them alone. (The
    world was the worlds' one `stuck` pattern with no fault, a drained thin book, until
    pre-trade downsizing sized the thin leg to its book.)"""
    run = run_account(_drained_pair())
    assert {i: r.final_state for i, r in run.results.items()} == {
        "w0": "complete", "w1": "complete"}
    assert run.results["w1"].downsized_from == D("0.007")
    check_run(run)
    now = {name: v.position_now(SYMBOL) for name, v in run.venues.items()}
    truth = {c: v.order(c).filled for v in run.venues.values() for c in v.client_ids()}
    alone = invariants.shared_account([run.results["w1"]], run.held, now, truth)
    assert [line.split(" holds")[0] for line in alone] == ["account: alpha", "account: beta"]


# --------------------------------------------------------------------------- found

def _opposite_pair_cancelled() -> AccountWorld:
    """Two entries in opposite directions; w0's caller gives up at 0.21 s, just after w0's
    long quote on alpha filled (0.2 s), while its short quote's cancel is on its way."""
    return AccountWorld(
        (_plain("alpha", "0.01", "4", 0.025, (ScriptedFill(at_s=0.2),)),
         _plain("beta", "0.01", "4", 0.025)),
        EntryConfig(quote_timeout_s=5),
        (_entry("w0", "alpha", "beta", "0.5", cancel_at_s=0.21),
         _entry("w1", "beta", "alpha", "0.3")))


def test_a_caller_cancelled_mid_entry_leaves_nothing_behind() -> None:
    run = run_account(_opposite_pair_cancelled())
    assert run.abandoned == ("w0",)
    check_run(run)
