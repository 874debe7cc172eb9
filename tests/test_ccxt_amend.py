"""Amend per venue (issue 15, Deliver 1): each exchange's amend names the order by our
client id the way that exchange reads it, or amend is declared unsupported so the entry
falls back to cancel-then-hedge; the doubles apply the venues' post-only amend rule."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import attrs
import pytest

from fsm.core.config import EntryConfig, HedgeMode
from fsm.core.values import EntryRequest, LegSpec
from fsm.shell.engine import EntryEngine
from tests.ccxtkit import SYMBOL, double_venue
from tests.doubles.core import purpose_of
from tests.test_ccxt_requests import (
    HL_BOOK,
    HL_META,
    OKX_INSTRUMENT,
    OKX_ORDER_ACK,
    QUOTE,
    Recorder,
)
from venues.ccxt.adapter import CcxtVenue
from venues.market import OrderStatus
from venues.protocol import NotSupported

OKX_CREDS = {"apiKey": "k" * 8, "secret": "s" * 8, "password": "p" * 8}
OKX_AMEND_ACK = {"code": "0", "msg": "", "data": [
    {"clOrdId": "aet1Lq1", "ordId": "312269865356374016", "reqId": "", "sCode": "0",
     "sMsg": ""}]}
OKX_LIVE = {"code": "0", "msg": "", "data": [{
    "instType": "SWAP", "instId": "BTC-USDT-SWAP", "ordId": "312269865356374016",
    "clOrdId": "aet1Lq1", "px": "60000.3", "sz": "30", "ordType": "limit", "side": "buy",
    "posSide": "net", "tdMode": "cross", "accFillSz": "0", "fillPx": "", "fillSz": "0",
    "avgPx": "", "state": "live", "fee": "0", "feeCcy": "USDT", "reduceOnly": "false",
    "cTime": "1695190491421", "uTime": "1695190491500", "tag": ""}]}


def test_okx_amend_names_clordid_with_the_new_size_in_contracts() -> None:
    """0.3 BTC at 0.01 BTC a contract is 30 contracts, by ``clOrdId``, no ``ordId``."""
    recorder = Recorder({"/api/v5/public/instruments": {"code": "0", "msg": "",
                                                         "data": [OKX_INSTRUMENT]},
                         "/api/v5/trade/batch-orders": OKX_ORDER_ACK,
                         "/api/v5/trade/amend-order": OKX_AMEND_ACK,
                         "/api/v5/trade/order": OKX_LIVE,
                         "/api/v5/trade/fills-history": {"code": "0", "msg": "", "data": []}})

    async def main() -> Any:
        venue = CcxtVenue("v", "okx", credentials=OKX_CREDS, sandbox=False,
                          config={"timeout_on_exit": 0})
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        try:
            await venue.place(QUOTE)
            return await venue.amend(SYMBOL, "aet1Lq1", Decimal("60000.3"), Decimal("0.3"))
        finally:
            await venue.close()

    ack = asyncio.run(main())
    assert ack.status is OrderStatus.OPEN
    (amend,) = [p for _, path, p in recorder.sent if path == "/api/v5/trade/amend-order"]
    assert amend == {"instId": "BTC-USDT-SWAP", "clOrdId": "aet1Lq1", "newSz": "30",
                     "newPx": "60000.3"}


def test_hyperliquid_declares_amend_unsupported() -> None:
    """ccxt's hyperliquid edit wants the numeric oid (a cloid cannot name the order)."""
    recorder = Recorder({"/info:metaAndAssetCtxs": HL_META, "/info:meta": HL_META[0],
                         "/info:l2Book": HL_BOOK})

    async def main() -> bool:
        venue = CcxtVenue("v", "hyperliquid",
                          credentials={"walletAddress": "0x" + "ab" * 20,
                                       "privateKey": "0x" + "11" * 32},
                          sandbox=False, config={"timeout_on_exit": 0})
        for instance in (venue.trading, venue.background):
            instance.fetch = recorder.fetch
        try:
            supports = (await venue.market_rules("BTC/USDC:USDC")).supports_amend
            with pytest.raises(NotSupported):
                await venue.amend("BTC/USDC:USDC", "aet1Lq1", Decimal("60000"),
                                  Decimal("0.5"))
            return supports
        finally:
            await venue.close()

    assert asyncio.run(main()) is False
    assert not [p for _, path, p in recorder.sent if path == "/exchange"]


@pytest.mark.parametrize("exchange", ["binanceusdm", "bybit"])
def test_amend_to_cross_of_a_plain_quote_takes(exchange: str) -> None:
    """Quotes are plain GTC unless post-only is asked for: amended through the touch
    (asks from 60000.5) the quote takes, which is the hedge amend-to-cross relies on."""
    async def main() -> tuple[bool, Any, str]:
        async with double_venue("v", exchange) as d:
            supports = (await d.venue.market_rules(SYMBOL)).supports_amend
            await d.venue.place(attrs.evolve(QUOTE, price=Decimal("59990")))
            ack = await d.venue.amend(SYMBOL, "aet1Lq1", Decimal("60001.5"), Decimal("0.5"))
            return supports, ack, d.core.orders["aet1Lq1"].status

    supports, ack, status = asyncio.run(main())
    assert supports and status == "filled"
    assert (ack.status, ack.filled) == (OrderStatus.FILLED, Decimal("0.5"))


@pytest.mark.parametrize("exchange", ["binanceusdm", "bybit"])
def test_post_only_quotes_declare_amend_unsupported(exchange: str) -> None:
    """A crossing amend cancels a post-only order on every venue, so with post-only
    quotes the adapter offers no amend: the entry cancels then hedges instead."""
    async def main() -> bool:
        async with double_venue("v", exchange, post_only_quotes=True) as d:
            supports = (await d.venue.market_rules(SYMBOL)).supports_amend
            await d.venue.place(attrs.evolve(QUOTE, price=Decimal("59990")))
            with pytest.raises(NotSupported):
                await d.venue.amend(SYMBOL, "aet1Lq1", Decimal("60001.5"), Decimal("0.5"))
            assert not [r for r in d.core.trading_requests() if r[0] == "PUT"
                        or r[1].endswith("/order/amend")]
            return supports

    assert asyncio.run(main()) is False


def test_double_cancels_a_post_only_order_an_amend_makes_cross() -> None:
    """The doubles apply the venues' rule: a crossing amend of a post-only order
    cancels it (it never takes); a non-crossing one just moves it."""
    async def main() -> tuple[str, str, Any]:
        async with double_venue("v", "binanceusdm") as d:
            core = d.core
            for cid in ("aet1Lq1", "aet1Lq2"):
                core.create(client_id=cid, symbol="BTCUSDT", side="buy", kind="limit",
                            qty=Decimal("0.5"), price=Decimal("59990"), tif="post_only",
                            reduce_only=False)
            crossed = core.amend(core.orders["aet1Lq1"], Decimal("60001.5"))
            moved = core.amend(core.orders["aet1Lq2"], Decimal("59995"))
            return crossed.status, moved.status, crossed.filled

    assert asyncio.run(main()) == ("canceled", "new", Decimal(0))


def test_binance_double_reads_order_id_first() -> None:
    """As binance does: ``orderId`` wins over ``origClientOrderId`` and must be numeric,
    so the literal "None" ccxt's edit_order(None, ...) sends is refused."""
    async def main() -> Any:
        async with double_venue("v", "binanceusdm") as d:
            await d.venue.place(attrs.evolve(QUOTE, price=Decimal("59990")))
            await d.venue.start()
            return await d.venue.trading.fapiPrivatePutOrder({
                "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.5", "price": "59980",
                "orderId": "None", "origClientOrderId": "aet1Lq1"})

    with pytest.raises(Exception, match="-1102"):
        asyncio.run(main())





# -- the engine on the doubles -------------------------------------------------------

@pytest.mark.parametrize("short_id", ["binanceusdm", "bybit"])
@pytest.mark.parametrize("post_only", [False, True], ids=["plain", "post-only"])
def test_engine_amend_to_cross_on_doubles(short_id: str, post_only: bool) -> None:
    """As the README's amend table says: with plain quotes the lagging quote is amended
    through the touch and becomes the hedge (no hedge order); with post-only quotes the
    adapter offers no amend and the entry cancels, then hedges. Hedged either way."""
    long_id = "bybit" if short_id == "binanceusdm" else "binanceusdm"

    async def main() -> tuple[list[str], list[str], str]:
        async with double_venue("alpha", long_id, post_only_quotes=post_only) as long, \
                double_venue("beta", short_id, post_only_quotes=post_only) as short:
            long.core.script.fill_after_create["q"] = 0.2
            # the quote timeout (real clock) only fires if the 0.2 s fill never shows:
            # generous, so that a loaded machine's slow poll is not taken for no fill
            engine = EntryEngine({"alpha": long.venue, "beta": short.venue},
                                 EntryConfig(quote_timeout_s=5.0,
                                             hedge_mode=HedgeMode.AMEND_TO_CROSS))
            request = EntryRequest(long=LegSpec("alpha", SYMBOL, Decimal("0.5")),
                                   short=LegSpec("beta", SYMBOL, Decimal("0.5")),
                                   entry_id="sim1")
            try:
                result = await engine.enter(request)
            finally:
                await engine.close()
            assert long.core.positions["BTCUSDT"] == Decimal("0.5")
            assert short.core.positions["BTCUSDT"] == Decimal("-0.5")
            amends = [r[1] for r in short.core.trading_requests()
                      if r[0] == "PUT" or r[1].endswith("/order/amend")]
            purposes = sorted(purpose_of(cid) or "?" for cid in short.core.orders)
            return amends, purposes, result.final_state

    amends, purposes, final = asyncio.run(main())
    assert final == "complete"
    if post_only:
        assert (amends, purposes) == ([], ["h", "q"])
    else:
        assert len(amends) == 1 and purposes == ["q"]
