"""The asyncio shell: kill, withdrawal, alerts, listeners, and many entries at once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from fsm.core import invariants
from fsm.core.commands import RaiseAlert
from fsm.core.config import EntryConfig, HedgeOrder
from fsm.core.entry import EntryModel, Transition
from fsm.core.ids import client_order_id
from fsm.core.pretrade import RequestError
from fsm.core.result import EntryResult
from fsm.shell.engine import EntryAborted, EntryEngine
from tests.simkit import BOOK, RULES, SYMBOL, request, venue
from venues import protocol as base
from venues.market import Leg, OrderStatus, Purpose
from venues.sim.script import SimMarket
from venues.sim.venue import Reaction, ReactionAction, ScriptedFill, SimulatedVenue
from venues.sim.virtual_time import run_virtual

D = Decimal
FILL_ALPHA = ScriptedFill(at_s=0.2)


async def _enter(alpha: SimulatedVenue, beta: SimulatedVenue, config: EntryConfig | None = None,
                 *, kill_at: float | None = None, qty: str = "0.5") -> EntryResult:
    venues = {"alpha": alpha, "beta": beta}
    for v in venues.values():
        v.start()
    engine = EntryEngine(venues, config or EntryConfig(quote_timeout_s=5))
    if kill_at is not None:
        asyncio.get_running_loop().call_later(kill_at, engine.kill, "t1", "operator")
    try:
        return await engine.enter(request(qty))
    finally:
        await engine.close()


def _safe(result: EntryResult) -> None:
    assert invariants.check(result) == []


def test_kill_while_quoting_withdraws_everything() -> None:
    result = run_virtual(_enter(venue("alpha"), venue("beta"), kill_at=0.1))
    assert result.final_state == "rolled_back"
    assert result.stop_reason == "kill: operator"
    assert [o.status for o in result.orders] == ["canceled", "canceled"]
    assert result.net_exposure == 0
    _safe(result)


def test_kill_after_a_fill_flattens_that_fill_only() -> None:
    alpha = venue("alpha", position="1.5", script=[FILL_ALPHA])
    beta = venue("beta", reactions=[Reaction("place", ReactionAction.TIMEOUT, Purpose.HEDGE,
                                             live=False, times=5)])
    result = run_virtual(_enter(alpha, beta, kill_at=0.3))
    assert result.final_state == "rolled_back"
    rollback = [o for o in result.orders if o.purpose == "rollback"]
    assert [(o.venue, o.side, o.qty, o.reduce_only) for o in rollback] == [
        ("alpha", "sell", D("0.5"), True)]
    assert result.positions["alpha"] == {"start": D("1.5"), "end": D("1.5")}
    _safe(result)


def test_quote_timeout_without_fills_is_withdrawn() -> None:
    result = run_virtual(_enter(venue("alpha"), venue("beta"), EntryConfig(quote_timeout_s=1)))
    assert result.final_state == "withdrawn"
    assert [p.dest for p in result.path] == ["active.quoting", "active.withdrawing", "withdrawn"]
    assert result.path[1].at_ms == 1000.0
    _safe(result)


def test_a_rejected_quote_withdraws_the_other() -> None:
    alpha = venue("alpha", reactions=[Reaction("place", ReactionAction.REJECT, Purpose.QUOTE)])
    result = run_virtual(_enter(alpha, venue("beta")))
    assert result.final_state == "withdrawn"
    assert [o.status for o in result.orders] == ["rejected", "canceled"]


def test_fill_below_trigger_ratio_keeps_quoting_then_is_hedged_at_timeout() -> None:
    alpha = venue("alpha", script=[ScriptedFill(at_s=0.2, qty=D("0.1"))])
    config = EntryConfig(quote_timeout_s=1, hedge_trigger_fill_ratio=D("0.5"))
    result = run_virtual(_enter(alpha, venue("beta"), config))
    states = [p.dest for p in result.path]
    assert states[:3] == ["active.quoting", "active.withdrawing",
                          "active.first_leg_filled.reconciling"]
    assert result.path[1].at_ms == 1000.0        # nothing happened at the 0.1 fill
    assert result.final_state == "complete"
    assert result.legs["short"].filled == D("0.1")
    _safe(result)


def test_aggressive_limit_hedge_is_capped_by_max_slippage() -> None:
    config = EntryConfig(quote_timeout_s=5, hedge_order=HedgeOrder.AGGRESSIVE_LIMIT,
                         hedge_limit_offset_pct=D("0.001"), hedge_max_slippage_pct=D("0.0005"))
    result = run_virtual(_enter(venue("alpha", script=[FILL_ALPHA]), venue("beta"), config))
    hedge = next(o for o in result.orders if o.purpose == "hedge")
    # Sell hedge: bid 60000 * (1 - 0.001) = 59940, but never below the short quote
    # 60006 * (1 - 0.0005) = 59976.0 (rounded up to the tick, toward our side).
    assert (hedge.kind, hedge.time_in_force, hedge.price) == ("limit", "ioc", D("59976.0"))
    assert result.final_state == "complete"
    _safe(result)


def test_unhedgeable_rollback_ends_stuck_with_an_alert() -> None:
    alpha = venue("alpha", script=[FILL_ALPHA], reactions=[
        Reaction("place", ReactionAction.REJECT, Purpose.ROLLBACK, times=10)])
    beta = venue("beta", reactions=[Reaction("place", ReactionAction.REJECT, Purpose.HEDGE,
                                             times=10)])

    async def run() -> tuple[EntryResult, list[tuple[str, RaiseAlert]]]:
        alerts: list[tuple[str, RaiseAlert]] = []
        venues = {"alpha": alpha, "beta": beta}
        for v in venues.values():
            v.start()
        engine = EntryEngine(venues, EntryConfig(quote_timeout_s=5, rollback_retry_budget=2))
        engine.on_alert(lambda entry, alert: alerts.append((entry, alert)))
        return await engine.enter(request()), alerts

    result, alerts = run_virtual(run())
    assert result.final_state == "stuck"
    assert len([o for o in result.orders if o.purpose == "rollback"]) == 3
    assert alerts and alerts[-1][0] == "t1"
    assert alerts[-1][1].residuals == {"alpha": D("0.5"), "beta": D("0")}
    assert "alpha 0.5" in result.alerts[-1]
    assert invariants.check(result) == []        # exposure is named in an alert


def test_listeners_see_every_transition_in_order() -> None:
    seen: list[Transition] = []

    async def run() -> EntryResult:
        venues = {"alpha": venue("alpha", script=[FILL_ALPHA]), "beta": venue("beta")}
        for v in venues.values():
            v.start()
        engine = EntryEngine(venues, EntryConfig(quote_timeout_s=5))
        engine.on_transition(seen.append)
        return await engine.enter(request())

    result = run_virtual(run())
    assert [(t.source, t.trigger, t.dest) for t in seen] == [
        (p.source, p.trigger, p.dest) for p in result.path]
    assert seen[1].dest == "active.first_leg_filled.cancelling"


def test_unknown_venue_and_bad_size_send_nothing() -> None:
    async def run(qty: str, venues: dict[str, SimulatedVenue]) -> str:
        engine = EntryEngine(venues)
        with pytest.raises(RequestError) as caught:
            await engine.enter(request(qty))
        return str(caught.value)

    alpha, beta = venue("alpha"), venue("beta")
    assert "unknown venue 'beta'" in run_virtual(run("0.5", {"alpha": alpha}))
    message = run_virtual(run("0.0004", {"alpha": alpha, "beta": beta}))
    assert "long leg on alpha" in message and "minimum quantity 0.001" in message
    assert not [e for e in alpha.journal + beta.journal if e.kind == "placed"]


def test_a_model_failure_names_the_orders_that_may_be_live(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: EntryModel, *_: object) -> bool:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(EntryModel, "trigger_fill_reached", broken)
    with pytest.raises(EntryAborted, match=r"orders possibly live: aet1Sq1$"):
        run_virtual(_enter(venue("alpha", script=[FILL_ALPHA]), venue("beta")))


async def _many(n: int, latency: float) -> list[tuple[EntryResult, list[str]]]:
    """``n`` entries at once; each long quote fills at 0.2 s."""
    venues = {"alpha": venue("alpha", latency_s=latency, script=[ScriptedFill(at_s=0.2)] * n),
              "beta": venue("beta", latency_s=latency)}
    for v in venues.values():
        v.start()
    return await _entered(n, venues)


async def _entered(n: int, venues: dict[str, SimulatedVenue],
                   ) -> list[tuple[EntryResult, list[str]]]:
    engine = EntryEngine(venues, EntryConfig(quote_timeout_s=5))
    # 0.01 each, so that every hedge fits in the book's depth (27 per side).
    results = await asyncio.gather(*(engine.enter(request("0.01", entry_id=f"e{i}"))
                                     for i in range(n)))
    checked = []
    for result in results:
        truth = {o.client_id: venues[o.venue].order(o.client_id).filled for o in result.orders}
        checked.append((result, invariants.check(result, truth, alone=False)))
    return checked


def test_many_entries_at_once_in_virtual_time() -> None:
    checked = run_virtual(_many(200, 0.025))
    assert {r.final_state for r, _ in checked} == {"complete"}
    assert [v for _, v in checked if v] == []
    assert len({o.client_id for r, _ in checked for o in r.orders}) == 600


def _resting(venue: SimulatedVenue, client_id: str) -> bool:
    try:
        return venue.order(client_id).status is OrderStatus.OPEN
    except KeyError:
        return False


@pytest.mark.asyncio
async def test_many_entries_on_a_real_event_loop() -> None:
    """The same on the real clock. The fills come once every long quote rests, not at a
    fixed instant, so a busy machine that quotes slowly changes nothing."""
    n = 50
    venues = {"alpha": venue("alpha", latency_s=0.0), "beta": venue("beta", latency_s=0.0)}
    for v in venues.values():
        v.start()
    entries = asyncio.ensure_future(_entered(n, venues))
    longs = [client_order_id(f"e{i}", Leg.LONG, Purpose.QUOTE, 1) for i in range(n)]
    for _ in range(30_000):  # a bound, not a timing: about 30 s even on a crawling machine
        if all(_resting(venues["alpha"], cid) for cid in longs):
            break
        await asyncio.sleep(0.001)
    for _ in range(n):
        venues["alpha"].apply(ScriptedFill(at_s=0.0))
    checked = await entries
    assert {r.final_state for r, _ in checked} == {"complete"}
    assert [v for _, v in checked if v] == []


class _PositionGoneAtEnd(SimulatedVenue):
    """Answers the position once (the entry's start), then the venue is unreachable."""

    reads = 0

    async def position(self, symbol: str) -> Decimal:
        self.reads += 1
        if self.reads > 1:
            raise base.VenueUnavailable("beta: position endpoint down")
        return await super().position(symbol)


def test_an_unreadable_position_after_the_end_keeps_the_result() -> None:
    alpha = venue("alpha", script=[FILL_ALPHA])
    beta = _PositionGoneAtEnd("beta", [SimMarket(SYMBOL, RULES, BOOK, D(0))],
                              latency_s=0.025, request_timeout_s=0.5)
    result = run_virtual(_enter(alpha, beta))
    assert result.final_state == "complete"
    assert result.positions["beta"] == {"start": D(0)}
    assert result.positions["alpha"] == {"start": D(0), "end": D("0.5")}
    _safe(result)
