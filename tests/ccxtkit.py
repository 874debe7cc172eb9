"""Builds CcxtVenues wired to loopback exchange doubles, for the ccxt tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any

import attrs

from tests.doubles.binance import BinanceDouble
from tests.doubles.bybit_ws import BybitWsDouble
from tests.doubles.core import FakeExchange, Rules
from tests.doubles.hyperliquid import USER, HyperliquidDouble
from tests.doubles.loopback import LoopbackServer
from tests.doubles.okx import OkxDouble
from venues.ccxt.adapter import CcxtVenue

SYMBOL = "BTC/USDT:USDT"
# Recognisable fake credentials: the secret-leak tests grep every output for them.
FAKE_KEY = "FAKEKEY7f3a9c2e41b8d6APIKEYMARK"
FAKE_SECRET = "FAKESECRET0d9e8f7a6b5c4SECRETMARK"
BOOK = ([("60000.0", "2.0"), ("59999.0", "5.0"), ("59990.0", "20.0")],
        [("60000.5", "2.0"), ("60001.5", "5.0"), ("60010.0", "20.0")])
SCENARIO_RULES = Rules(lot=Decimal("0.001"), tick=Decimal("0.5"), min_qty=Decimal("0.001"),
                       min_notional=Decimal("5"), maker_fee=Decimal("0.0002"),
                       taker_fee=Decimal("0.0005"))
HOSTS = {"binanceusdm": ("binance.com", "binancefuture.com"), "bybit": ("bybit.com",)}
# every exchange with a double (HOSTS: the two the CLI tests serve)
ALL_HOSTS = {**HOSTS, "okx": ("okx.com",),
             "hyperliquid": ("hyperliquid.xyz", "hyperliquid-testnet.xyz")}
WIRES: dict[str, Any] = {"binanceusdm": BinanceDouble, "bybit": BybitWsDouble, "okx": OkxDouble,
                         "hyperliquid": HyperliquidDouble}
# okx wants a passphrase as well; hyperliquid signs with a wallet key (a fixed test key)
CREDENTIALS: dict[str, dict[str, str]] = {
    "okx": {"apiKey": FAKE_KEY, "secret": FAKE_SECRET, "password": "FAKEPASSPHRASE"},
    "hyperliquid": {"walletAddress": USER, "privateKey": "0x" + "11" * 32}}
# hyperliquid's perps settle in USDC, and prices have at most 5 significant figures
# (a tick of 1 at 60000): its double quotes a book on whole dollars
HL_SYMBOL = "BTC/USDC:USDC"
HL_BOOK = ([("60000", "2.0"), ("59999", "5.0"), ("59990", "20.0")],
           [("60001", "2.0"), ("60002", "5.0"), ("60010", "20.0")])
HL_RULES = dataclasses.replace(SCENARIO_RULES, tick=Decimal("1"), min_notional=Decimal("10"))
# ccxt's request timeout runs on the real clock, and a loaded machine (the suite beside
# other work on two cores) has taken more than 300 ms to answer a loopback request. A
# test waits this long only when something is wrong; the one request a test wants to
# time out gets its short timeout from ``short_timeout``.
TIMEOUT_MS = 5000


def symbol_for(exchange_id: str) -> str:
    """The BTC perpetual's unified symbol on ``exchange_id``."""
    return HL_SYMBOL if exchange_id == "hyperliquid" else SYMBOL


@attrs.define
class Double:
    venue: CcxtVenue
    core: FakeExchange
    wire: Any  # one of WIRES
    server: LoopbackServer


@asynccontextmanager
async def double_venue(
    name: str, exchange_id: str, *, rules: Rules | None = None, timeout_ms: int = TIMEOUT_MS,
    stream: str | None = None, **venue_kwargs: Any,
) -> AsyncIterator[Double]:
    """A CcxtVenue named ``name`` talking to a fresh double of ``exchange_id``."""
    hyperliquid = exchange_id == "hyperliquid"
    core = FakeExchange(name, {"BTCUSDT": HL_BOOK if hyperliquid else BOOK},
                        rules or (HL_RULES if hyperliquid else SCENARIO_RULES))
    wire: Any = WIRES[exchange_id](core)
    server = LoopbackServer()
    for host in ALL_HOSTS[exchange_id]:
        server.route(host, wire.handle)
    await server.start()
    session = server.session()
    if stream is None:
        stream = "poll" if exchange_id == "bybit" else "ws"
    credentials = CREDENTIALS.get(exchange_id, {"apiKey": FAKE_KEY, "secret": FAKE_SECRET})
    venue = CcxtVenue(
        name, exchange_id, credentials=credentials,
        sandbox=True, config={"session": session, "rateLimit": 5, "timeout_on_exit": 0},
        stream=stream, poll_interval_s=0.05,
        timeout_ms=timeout_ms, **venue_kwargs,
    )
    try:
        # Markets load with a generous timeout: the first request pays the loopback TLS
        # handshake and ccxt's parsing of every market, which a loaded machine can stretch
        # past the short timeouts the races are written with. The races' own requests
        # keep ``timeout_ms``.
        for instance in (venue.trading, venue.background):
            instance.timeout = max(timeout_ms, 30_000)
        await venue.start()
        for instance in (venue.trading, venue.background):
            instance.timeout = timeout_ms
        yield Double(venue, core, wire, server)
    finally:
        await venue.close()
        await session.close()
        await server.stop()


@contextmanager
def short_timeout(double: Double, timeout_ms: int) -> Iterator[None]:
    """Requests on ``double``'s trading instance (create, cancel, order queries) time out
    after ``timeout_ms`` inside the block: for the request a test wants to time out (a
    hanging create), while its other requests keep the generous timeout and do not race
    the clock on a loaded machine."""
    trading = double.venue.trading
    before = trading.timeout
    trading.timeout = timeout_ms
    try:
        yield
    finally:
        trading.timeout = before
