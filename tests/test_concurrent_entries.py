"""Many entries on one account: reduce-only is decided against the engine's account view.

The simulated venues are shared by every entry of the engine, as one exchange account
is, and refuse a reduce-only order that would grow their real position. Measure stuck
entries over random worlds with ``python -m tests.test_concurrent_entries N SEEDS``.
"""

from __future__ import annotations

import asyncio
import random
import sys
from decimal import Decimal
from types import SimpleNamespace

from fsm.core import events as ev
from fsm.core.account import Account, reduces_only
from fsm.core.config import EntryConfig
from fsm.core.result import EntryResult
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.engine import EntryEngine
from fsm.sim.scenario import load_builtin
from tests.simkit import SYMBOL, venue
from venues.market import Purpose, Side
from venues.sim.venue import Reaction, ReactionAction, ScriptedFill, SimulatedVenue
from venues.sim.virtual_time import run_virtual

D = Decimal


def _request(entry_id: str, long: str, short: str, qty: str) -> EntryRequest:
    return EntryRequest(LegSpec(long, SYMBOL, qty), LegSpec(short, SYMBOL, qty),
                        entry_id=entry_id)


def _kill_later(engine: EntryEngine, entry_id: str, at: float) -> None:
    def kill() -> None:
        if engine.running(entry_id):
            engine.kill(entry_id, "operator")
    asyncio.get_running_loop().call_later(at, kill)


async def _two_opposite(alpha: SimulatedVenue, beta: SimulatedVenue,
                        outside: tuple[float, str] | None = None) -> list[EntryResult]:
    """e1 buys alpha and sells beta, e2 the other way round on the same account; e1's
    hedge is lost, and e1 is killed after e2's sell on alpha outgrew e1's buy there."""
    for v in (alpha, beta):
        v.start()
    engine = EntryEngine({"alpha": alpha, "beta": beta}, EntryConfig(quote_timeout_s=5))
    _kill_later(engine, "e1", 0.3)
    if outside is not None:  # someone outside this engine trades the same account
        at, position = outside
        asyncio.get_running_loop().call_later(
            at, setattr, alpha._exchange.markets[SYMBOL], "position", D(position))
    try:
        return list(await asyncio.gather(
            engine.enter(_request("e1", "alpha", "beta", "0.5")),
            engine.enter(_request("e2", "beta", "alpha", "1.0"))))
    finally:
        await engine.close()


def _venues() -> tuple[SimulatedVenue, SimulatedVenue]:
    alpha = venue("alpha", script=[ScriptedFill(at_s=0.2), ScriptedFill(at_s=0.25)])
    beta = venue("beta", reactions=[
        Reaction("place", ReactionAction.TIMEOUT, Purpose.HEDGE, live=False, times=1)])
    return alpha, beta


def _rollbacks(result: EntryResult) -> list[tuple[str, str, Decimal, bool, str]]:
    return [(o.venue, o.side, o.qty, o.reduce_only, o.status)
            for o in result.orders if o.purpose == "rollback"]


def test_two_entries_in_opposite_directions_one_killed_rolls_back_clean() -> None:
    """Before the account view: e1 sent reduce-only sells of 0.5 on alpha, where the
    account was short 0.5 (e2's sell of 1.0): refused every round, e1 ended stuck."""
    alpha, beta = _venues()
    e1, e2 = run_virtual(_two_opposite(alpha, beta))
    assert (e1.final_state, e2.final_state) == ("rolled_back", "complete")
    # Only e1's own buy is sold back, as a plain order: reduce-only would be refused.
    assert _rollbacks(e1) == [("alpha", "sell", D("0.5"), False, "filled")]
    assert e1.net_exposure == 0 and e1.legs["long"].filled == 0
    assert alpha.position_now(SYMBOL) == D("-1.0")  # e2's short leg, and nothing else
    assert beta.position_now(SYMBOL) == D("1.0")


def test_a_reduce_only_refusal_is_decided_again_from_a_fresh_position_read() -> None:
    """The account says alpha is long 0.5, but someone outside the engine sold there: the
    reduce-only flatten is refused, the position is read afresh, and the flatten goes
    out again decided from it (before: refused again every round, ended stuck)."""
    alpha = venue("alpha", script=[ScriptedFill(at_s=0.2)])
    beta = venue("beta", reactions=[
        Reaction("place", ReactionAction.TIMEOUT, Purpose.HEDGE, live=False, times=1)])

    async def one() -> EntryResult:
        for v in (alpha, beta):
            v.start()
        engine = EntryEngine({"alpha": alpha, "beta": beta}, EntryConfig(quote_timeout_s=5))
        _kill_later(engine, "e1", 0.3)
        loop = asyncio.get_running_loop()
        loop.call_later(0.29, setattr, alpha._exchange.markets[SYMBOL], "position", D("-0.5"))
        try:
            return await engine.enter(_request("e1", "alpha", "beta", "0.5"))
        finally:
            await engine.close()

    result = run_virtual(one())
    assert result.final_state == "rolled_back"
    rollbacks = _rollbacks(result)
    assert rollbacks[0][3] is True and rollbacks[0][4] == "rejected"
    assert rollbacks[1:] == [("alpha", "sell", D("0.5"), False, "filled")]
    dests = [p.dest for p in result.path]
    assert dests.count("rolling_back.reading_account") == 2
    assert alpha.position_now(SYMBOL) == D("-1.0")


def test_a_refused_reduce_only_trim_is_decided_again_from_a_fresh_position_read() -> None:
    """dust_trim, with someone outside the engine selling alpha short just before the
    trim: the reduce-only trim is refused, the position read afresh, and the dust goes
    out as a plain order (before: refused on every attempt, the dust left unhedged)."""
    scenario = load_builtin("dust_trim")

    async def one() -> tuple[EntryResult, SimulatedVenue]:
        venues = scenario.build_venues()
        for v in venues.values():
            v.start()
        market = venues["alpha"]._exchange.markets[SYMBOL]
        asyncio.get_running_loop().call_later(1.04, setattr, market, "position", D("-1"))
        engine = EntryEngine(venues, scenario.config)
        try:
            return await engine.enter(scenario.request), venues["alpha"]
        finally:
            await engine.close()

    result, alpha = run_virtual(one())
    trims = [(o.qty, o.reduce_only, o.status) for o in result.orders if o.purpose == "trim"]
    assert trims == [(D("0.005"), True, "rejected"), (D("0.005"), False, "filled")]
    assert result.final_state == "complete" and result.net_exposure == 0
    assert alpha.position_now(SYMBOL) == D("-1.005")


# -- the account view alone --------------------------------------------------------------

def _record(venue: str, side: Side, qty: str, filled: str, live: bool) -> SimpleNamespace:
    command = SimpleNamespace(venue=venue, symbol=SYMBOL, side=side)
    return SimpleNamespace(command=command, qty=D(qty), filled=D(filled), live=live)


def test_reduce_only_counts_on_no_pending_order_of_another_entry() -> None:
    assert reduces_only(D("0.5"), D(0), Side.SELL, D("0.5"))
    assert not reduces_only(D("0.5"), D("0.1"), Side.SELL, D("0.5"))  # a sell may go first
    assert not reduces_only(D("-0.5"), D(0), Side.SELL, D("0.5"))  # it would grow the short
    assert reduces_only(D("-0.5"), D("0.2"), Side.BUY, D("0.3"))


def test_the_account_sums_every_live_entry_and_keeps_what_ended() -> None:
    account = Account()
    key = ("alpha", SYMBOL)
    mine = [_record("alpha", Side.BUY, "0.5", "0.5", False)]
    theirs = [_record("alpha", Side.SELL, "1.0", "0.4", True)]
    account.join("e1", mine, {key: D("2")})
    account.join("e2", theirs, {key: D("7")})  # followed already: the view is kept
    assert account.view(key, "e1") == ev.AccountLeg(D("2.1"), D(0), D("0.6"))
    assert account.view(key, "e2") == ev.AccountLeg(D("2.1"), D(0), D(0))
    account.leave("e1")
    assert account.position(key) == D("2.1")
    account.refresh(key, D("1"))  # read from the venue: already holds e2's fill
    assert account.position(key) == D("1")
    account.leave("e2")
    account.join("e3", [], {key: D("5")})  # nobody followed it: the new read counts
    assert account.position(key) == D("5")


# -- random worlds ----------------------------------------------------------------------

async def world(seed: int, n: int) -> tuple[list[EntryResult], dict[str, SimulatedVenue]]:
    """``n`` random entries at once on one account: random directions, sizes, maker fills
    on either venue and kills at random instants; no fault is injected."""
    rng = random.Random(seed)
    script_alpha = [ScriptedFill(at_s=rng.uniform(0.05, 2.0)) for _ in range(n)]
    script_beta = [ScriptedFill(at_s=rng.uniform(0.05, 2.0)) for _ in range(n)]
    venues = {"alpha": venue("alpha", script=script_alpha),
              "beta": venue("beta", script=script_beta)}
    for v in venues.values():
        v.start()
    engine = EntryEngine(venues, EntryConfig(quote_timeout_s=3))
    requests = []
    for i in range(n):
        long, short = ("alpha", "beta") if rng.random() < 0.5 else ("beta", "alpha")
        entry_id = f"w{i}"
        requests.append(_request(entry_id, long, short, str(D(rng.randint(1, 40)) / 100)))
        if rng.random() < 0.5:
            _kill_later(engine, entry_id, rng.uniform(0.05, 2.5))
    try:
        results = list(await asyncio.gather(*(engine.enter(r) for r in requests)))
    finally:
        await engine.close()
    return results, venues


def _opened_by_rollback(result: EntryResult) -> list[str]:
    """Rollback orders that went beyond undoing this entry's own fills on their leg: after
    each one (in the order sent) this entry's net there must shrink, never cross zero."""
    wrong = []
    for leg in ("long", "short"):
        orders = [o for o in result.orders if o.leg == leg]
        signed = {o.client_id: o.filled if o.side == _side(leg) else -o.filled for o in orders}
        net = before = sum((signed[o.client_id] for o in orders if o.purpose != "rollback"),
                           D(0))
        for order in (o for o in orders if o.purpose == "rollback"):
            net += signed[order.client_id]
            if net * before < 0 or abs(net) > abs(before):
                wrong.append(f"{result.entry_id} {order.client_id}: {before} then {net}")
    return wrong


def _side(leg: str) -> str:
    return Side.BUY.value if leg == "long" else Side.SELL.value


def test_many_concurrent_entries_on_one_account_never_end_stuck() -> None:
    """Before the account view, 200 such entries left 1 to 4 stuck per run."""
    rolled_back_with_orders = 0
    for seed in range(3):
        results, _ = run_virtual(world(seed, 60))
        assert [w for r in results for w in _opened_by_rollback(r)] == []
        stuck = [r.entry_id for r in results if r.final_state == "stuck"]
        assert stuck == [], f"seed {seed}: stuck {stuck}"
        rolled_back_with_orders += sum(
            1 for r in results if r.final_state == "rolled_back" and _rollbacks(r))
    # the worlds must exercise what is tested: rollbacks that sent orders (not every
    # seed has one; which do depends on same-instant ordering in the simulated venues)
    assert rolled_back_with_orders >= 2


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 200
    seeds = int(argv[1]) if len(argv) > 1 else 10
    counts = []
    for seed in range(seeds):
        results, _ = run_virtual(world(seed, n))
        counts.append(sum(r.final_state == "stuck" for r in results))
        print(f"seed {seed}: {n} entries, stuck {counts[-1]}, "
              f"rolled back {sum(r.final_state == 'rolled_back' for r in results)}")
    print(f"stuck per run: {counts}, total {sum(counts)} of {n * seeds}")


if __name__ == "__main__":
    from loguru import logger
    logger.remove()
    main(sys.argv[1:])
