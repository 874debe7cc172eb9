"""ccxt's number formatting (``decimal_to_precision``) sets ROUND_HALF_UP and traps
Underflow on the *live* Decimal context. Left alone, every later Decimal operation in
the engine's task (economics rounding, depth arithmetic) would silently round another
way after the first order is placed; the adapter keeps ccxt inside a context of its own.
"""

from __future__ import annotations

import asyncio
import decimal
from decimal import Decimal

import pytest

from tests.ccxtkit import SYMBOL, Double, double_venue
from tests.test_ccxt_venue import order


def context_fingerprint() -> tuple[int, str, bool]:
    context = decimal.getcontext()
    return context.prec, context.rounding, bool(context.traps[decimal.Underflow])


@pytest.mark.parametrize("exchange", ["binanceusdm", "bybit"])
def test_trading_calls_leave_the_callers_decimal_context_alone(exchange: str) -> None:
    async def main() -> tuple[int, str, bool]:
        async with double_venue("v", exchange) as double:  # type: ignore[arg-type]
            d: Double = double
            await d.venue.market_rules(SYMBOL)
            await d.venue.book(SYMBOL, 2)
            await d.venue.place(order())
            await d.venue.query(SYMBOL, "aet1Lq1")
            await d.venue.amend(SYMBOL, "aet1Lq1", Decimal("59980.0"), Decimal("0.4"))
            await d.venue.cancel(SYMBOL, "aet1Lq1")
            return context_fingerprint()

    with decimal.localcontext() as mine:
        mine.rounding = decimal.ROUND_HALF_EVEN
        mine.traps[decimal.Underflow] = False
        before = context_fingerprint()
        after = asyncio.run(main())
    assert after == before
