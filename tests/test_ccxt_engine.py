"""Done means: the real engine reaches the same outcomes on ccxt doubles as in simulation.

Each case replays one built-in scenario's race on the exchange doubles (real asyncio,
real ccxt request building, signing and parsing over loopback) and compares the final
state, the per-leg filled quantities and the invariants with the simulated run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest

from fsm.core import invariants
from fsm.core.config import EntryConfig
from fsm.core.result import EntryResult
from fsm.core.values import (
    EntryRequest,
    LegSpec,
)
from fsm.shell.engine import EntryEngine
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate
from tests.ccxtkit import SYMBOL, Double, double_venue

PAIRS = [("binanceusdm", "bybit"), ("bybit", "binanceusdm")]


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


CASES: dict[str, Callable[[Double, Double], None]] = {
    "one_leg_fills_first": _one_leg,
    "fill_during_cancel": _fill_during_cancel,
    "cancel_not_found_filled": _cancel_not_found,
    "hedge_timeout_live": _hedge_timeout_live,
}


def _outcome(result: EntryResult) -> tuple[str, dict[tuple[str, str], Decimal]]:
    filled: dict[tuple[str, str], Decimal] = {}
    for order in result.orders:
        key = (order.leg, order.purpose)
        filled[key] = filled.get(key, Decimal(0)) + order.filled
    return result.final_state, {k: v for k, v in filled.items() if v}


def _liquidity(result: EntryResult) -> dict[str, tuple[Decimal, Decimal]]:
    return {name: (leg.maker_qty, leg.taker_qty) for name, leg in result.economics.legs.items()}


@pytest.mark.parametrize("long_id,short_id", PAIRS, ids=["binance-bybit", "bybit-binance"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_engine_on_doubles_matches_simulation(case: str, long_id: str, short_id: str) -> None:
    simulated = simulate(scenarios.load_builtin(case))  # virtual time: outside any loop
    assert simulated.violations == ()
    asyncio.run(_on_doubles(case, long_id, short_id, simulated.result))


async def _on_doubles(case: str, long_id: str, short_id: str, simulated: EntryResult) -> None:
    async with double_venue("alpha", long_id, timeout_ms=300) as long, \
            double_venue("beta", short_id, timeout_ms=300) as short:
        CASES[case](long, short)
        engine = EntryEngine({"alpha": long.venue, "beta": short.venue},
                             EntryConfig(quote_timeout_s=0.8))
        request = EntryRequest(long=LegSpec("alpha", SYMBOL, Decimal("0.5")),
                               short=LegSpec("beta", SYMBOL, Decimal("0.5")), entry_id="sim1")
        try:
            result = await engine.enter(request)
        finally:
            await engine.close()
        truth = {o.client_id: (long.core if o.venue == "alpha" else short.core)
                 .orders[o.client_id].filled if o.client_id in
                 (long.core if o.venue == "alpha" else short.core).orders else Decimal(0)
                 for o in result.orders}
        assert invariants.check(result, truth) == []
        assert _outcome(result) == _outcome(simulated)
        # maker or taker, as each exchange's trades say (binance "maker"/"m", bybit
        # "isMaker"), reaches the result as the simulated venue tells it
        assert _liquidity(result) == _liquidity(simulated)
        assert long.core.unknown_routes == [] and short.core.unknown_routes == []
        for core in (long.core, short.core):  # no create was ever re-sent blindly
            creates = [r[2] for r in core.trading_requests() if r[1].endswith(("/order",
                                                                             "/order/create"))
                       and r[0] == "POST"]
            ids = [c.get("newClientOrderId") or c.get("orderLinkId") for c in creates]
            assert len(ids) == len(set(ids)), ids
        assert long.core.positions["BTCUSDT"] == Decimal("0.5")
        assert short.core.positions["BTCUSDT"] == Decimal("-0.5")
