"""Done means: the real engine reaches the same outcomes on ccxt doubles as in simulation.

Each case replays one built-in scenario's race on the exchange doubles (real asyncio,
real ccxt request building, signing and parsing over loopback, websocket updates on
every venue) and compares the final state, the per-leg filled quantities, maker or
taker, and the invariants with the simulated run, on every ordered pair of the four
venues (issue 15). Where a venue cannot do what the scenario does (hyperliquid has no
amend by client id), the expected outcome is the fallback's: cancel, then hedge.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from fsm.core import invariants
from fsm.core.config import EntryConfig, HedgeMode
from fsm.core.result import EntryResult
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.engine import EntryEngine
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from tests.ccxtkit import Double, double_venue, symbol_for
from tests.doubles.core import FakeExchange, purpose_of

VENUES = {"binanceusdm": "binance", "bybit": "bybit", "okx": "okx", "hyperliquid": "hl"}
PAIRS = [(a, b) for a in VENUES for b in VENUES if a != b]
PAIR_IDS = [f"{VENUES[a]}-{VENUES[b]}" for a, b in PAIRS]
# venues whose adapter offers no amend (the entry falls back to cancel-then-hedge)
NO_AMEND = {"hyperliquid"}

Setup = Callable[[Double, Double], Awaitable[None] | None]


def _one_leg(long: Double, short: Double) -> None:
    long.core.script.fill_after_create["q"] = 0.2


def _fill_during_cancel(long: Double, short: Double) -> None:
    long.core.script.fill_after_create["q"] = 0.2
    short.core.script.fill_on_cancel["q"] = Decimal("0.2")


def _cancel_not_found(long: Double, short: Double) -> None:
    long.core.script.fill_after_create["q"] = 0.2
    short.core.script.fill_on_cancel["q"] = None
    short.core.script.push_delay_s = 0.2


def _hedge_timeout_live(long: Double, short: Double) -> None:
    long.core.script.fill_after_create["q"] = 0.2
    short.core.script.hang_create["h"] = 0.6  # longer than the 300 ms ccxt timeout


def _hedge_rejected(long: Double, short: Double) -> None:
    long.core.script.fill_after_create["q"] = 0.2
    short.core.script.reject_create["h"] = 10  # insufficient margin, in each venue's words


async def _missed_fill(long: Double, short: Double) -> None:
    """The long quote fills while the long venue's websocket is down: only the REST
    reconciliation after the reconnect can tell the engine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not (long.wire.sockets and _live_quote(long.core)):
        assert loop.time() < deadline, "the long quote never went live with a socket up"
        await asyncio.sleep(0.01)
    await long.wire.disconnect()
    dropped = long.wire.dropped_pushes
    long.core.fill_first_live("q")
    assert long.wire.dropped_pushes > dropped  # the fill's push found no socket


def _live_quote(core: FakeExchange) -> bool:
    return any(o.live and purpose_of(o.client_id) == "q" for o in core.orders.values())


# case -> (scenario simulated for comparison, setup, hedge mode)
CASES: dict[str, tuple[str, Setup, HedgeMode | None]] = {
    "one_leg_fills_first": ("one_leg_fills_first", _one_leg, None),
    "fill_during_cancel": ("fill_during_cancel", _fill_during_cancel, None),
    "cancel_not_found_filled": ("cancel_not_found_filled", _cancel_not_found, None),
    "hedge_timeout_live": ("hedge_timeout_live", _hedge_timeout_live, None),
    "hedge_rejected_rollback": ("hedge_rejected_rollback", _hedge_rejected, None),
    "amend_to_cross": ("amend_to_cross", _one_leg, HedgeMode.AMEND_TO_CROSS),
    "reconnect_missed_fill": ("one_leg_fills_first", _missed_fill, None),
}

# The quote timeout runs on the real clock here, and no case wants it to fire: every
# first fill is scripted 0.2 s after the create, and a loaded machine may stretch that.
# (The missed fill must also be found by the reconnect, not by the quote timing out,
# whose cancel would find it too: the long timeout tells the two apart.)
QUOTE_TIMEOUT_S = 5.0

_SIMULATED: dict[str, EntryResult] = {}


# ccxt's request timeout runs on the real clock: only the case that needs a request to time
# out gets a short one. Elsewhere a loaded machine (the suite beside other work) may take
# longer than 300 ms to answer a loopback request, which is not what these cases test.
CCXT_TIMEOUT_MS = {"hedge_timeout_live": 300}


def _simulated(scenario: str) -> EntryResult:
    """The simulated run of ``scenario`` (virtual time: outside any loop), once."""
    if scenario not in _SIMULATED:
        run = simulate(scenarios.load_builtin(scenario))
        assert run.violations == ()
        _SIMULATED[scenario] = run.result
    return _SIMULATED[scenario]


def _outcome(result: EntryResult) -> tuple[str, dict[tuple[str, str], Decimal]]:
    filled: dict[tuple[str, str], Decimal] = {}
    for order in result.orders:
        key = (order.leg, order.purpose)
        filled[key] = filled.get(key, Decimal(0)) + order.filled
    return result.final_state, {k: v for k, v in filled.items() if v}


def _liquidity(result: EntryResult) -> dict[str, tuple[Decimal, Decimal]]:
    return {name: (leg.maker_qty, leg.taker_qty) for name, leg in result.economics.legs.items()}


def _create_ids(core: FakeExchange) -> list[str]:
    """The client ids of every create sent, in each exchange's own parameter."""
    ids = []
    for method, path, params in core.trading_requests():
        if method != "POST":
            continue
        if path.endswith(("/fapi/v1/order", "/order/create")):
            ids.append(params.get("newClientOrderId") or params.get("orderLinkId"))
        elif path.endswith(("/trade/order", "/trade/batch-orders")):
            ids.append(params.get("clOrdId"))
        elif path == "/exchange" and params.get("action", {}).get("type") == "order":
            ids.extend(o.get("c") for o in params["action"]["orders"])
    return [str(i) for i in ids]


@pytest.mark.parametrize("long_id,short_id", PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_engine_on_doubles_matches_simulation(case: str, long_id: str, short_id: str) -> None:
    scenario, _, mode = CASES[case]
    if mode is HedgeMode.AMEND_TO_CROSS and short_id in NO_AMEND:
        scenario = "one_leg_fills_first"  # no amend there: cancel, then hedge
    simulated = _simulated(scenario)
    asyncio.run(_on_doubles(case, long_id, short_id, simulated))


async def _on_doubles(case: str, long_id: str, short_id: str, simulated: EntryResult) -> None:
    _, setup, mode = CASES[case]
    timeout_ms = CCXT_TIMEOUT_MS.get(case, 5000)
    async with double_venue("alpha", long_id, timeout_ms=timeout_ms, stream="ws") as long, \
            double_venue("beta", short_id, timeout_ms=timeout_ms, stream="ws") as short:
        config = EntryConfig(quote_timeout_s=QUOTE_TIMEOUT_S) if mode is None else \
            EntryConfig(quote_timeout_s=QUOTE_TIMEOUT_S, hedge_mode=mode)
        engine = EntryEngine({"alpha": long.venue, "beta": short.venue}, config)
        request = EntryRequest(long=LegSpec("alpha", symbol_for(long_id), Decimal("0.5")),
                               short=LegSpec("beta", symbol_for(short_id), Decimal("0.5")),
                               entry_id="sim1")
        for double in (long, short):  # books over the public streams where served
            double.core.script.serve_books = True
        scripted = setup(long, short)
        race: asyncio.Future[Any] | None = (asyncio.ensure_future(scripted)
                                            if scripted is not None else None)
        try:
            result = await engine.enter(request)
            if race is not None:
                await race  # its assertions count
        finally:
            if race is not None and not race.done():
                race.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await race
            await engine.close()
        cores = {"alpha": long.core, "beta": short.core}
        truth = {o.client_id: cores[o.venue].orders[o.client_id].filled
                 if o.client_id in cores[o.venue].orders else Decimal(0)
                 for o in result.orders}
        assert invariants.check(result, truth) == []
        assert _outcome(result) == _outcome(simulated)
        # maker or taker, as each exchange's trades say it (binance "maker"/"m", bybit
        # "isMaker", okx "execType", hyperliquid "crossed"), reaches the result as the
        # simulated venue tells it
        assert _liquidity(result) == _liquidity(simulated)
        assert long.core.unknown_routes == [] and short.core.unknown_routes == []
        for core in (long.core, short.core):  # no create was ever re-sent blindly
            ids = _create_ids(core)
            assert len(ids) == len(set(ids)), ids
        hedged = Decimal("0.5") if result.final_state == "complete" else Decimal(0)
        assert long.core.positions["BTCUSDT"] == hedged
        assert short.core.positions["BTCUSDT"] == -hedged
        if case == "reconnect_missed_fill":
            assert long.venue.stream.reconnects >= 1
            assert _cancels(long.core) == []  # learnt on reconnect, not by a cancel


def _cancels(core: FakeExchange) -> list[str]:
    """The cancel requests sent, in any exchange's dialect."""
    return [path for method, path, params in core.trading_requests()
            if method == "DELETE" or path.endswith(("/order/cancel", "/cancel-order",
                                                    "/cancel-batch-orders"))
            or (path == "/exchange" and str(params.get("action", {}).get("type", ""))
                .startswith("cancel"))]
