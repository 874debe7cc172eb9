"""Serve exchange doubles on loopback while ccxt keeps the exchanges' real URLs.

Why not aioresponses: it needs aiohttp 3.13.x (ccxt pulls 3.14 here) and cannot serve
websockets. Why not rewrite ``urls['api']`` to ``http://127.0.0.1``: binance picks its
error table by URL prefix (``https://fapi.binance.com/``), so rewritten URLs silently
change which ccxt exception a code maps to, which is precisely what we test.

So ccxt gets an aiohttp session whose resolver answers every exchange host name with
127.0.0.1 and our server's port, and one TLS server (self-signed certificate made at
test time; the session does not verify it) dispatches by Host header. ccxt builds,
signs and parses exactly as in production, REST and websocket alike, and the resolver
refuses any host it does not know: no test can reach the network through it.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KNOWN_SUFFIXES = ("binance.com", "binancefuture.com", "bybit.com", "okx.com",
                  "hyperliquid.xyz", "hyperliquid-testnet.xyz")


class NetworkRefused(OSError):
    """A test tried to reach something that is not a loopback double."""


def _server_ssl_context() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "exchange-double.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="exchange-double-"))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


class LoopbackResolver(AbstractResolver):
    """Every known exchange host is 127.0.0.1:<port>; anything else is refused."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.hosts: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if not any(host == s or host.endswith("." + s) for s in KNOWN_SUFFIXES):
            raise NetworkRefused(f"test resolver: {host} is not an exchange double")
        self.hosts.append(host)
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self.port,
                              family=socket.AF_INET, proto=0, flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        return None


class LoopbackServer:
    """One TLS server for every double; ``route(host_suffix, handler)`` adds an exchange."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, Handler]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def route(self, host_suffix: str, handler: Handler) -> None:
        self._routes.append((host_suffix, handler))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0]
        for suffix, handler in self._routes:
            if host == suffix or host.endswith("." + suffix):
                return await handler(request)
        return web.json_response({"error": f"no double for host {host}"}, status=502)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=_server_ssl_context())
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(resolver=LoopbackResolver(self.port), ssl=False,
                                         force_close=False)
        return aiohttp.ClientSession(connector=connector)


def session_config(server: LoopbackServer) -> dict[str, Any]:
    """The ccxt config that routes an exchange instance to the doubles."""
    return {"session": server.session()}
