"""The suite-wide guard really refuses anything beyond loopback (a guard that cannot
fail protects nothing)."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import ccxt.async_support as ccxt
import pytest

from tests.conftest import NetworkBlocked


def test_direct_connect_beyond_loopback_fails() -> None:
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed anyway


def test_name_lookup_fails() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("fapi.binance.com", 443)


def test_ccxt_without_a_double_cannot_reach_the_exchange() -> None:
    async def attempt() -> None:
        exchange = ccxt.binanceusdm({"timeout": 2000})
        try:
            await exchange.load_markets()
        finally:
            await exchange.close()

    with pytest.raises((ccxt.NetworkError, aiohttp.ClientError, OSError)):
        asyncio.run(attempt())


def test_loopback_still_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
