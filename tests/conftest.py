from __future__ import annotations

from decimal import Decimal

import pytest

from fsm import scenario as scenarios
from fsm.simulation import SimulationRun, simulate


def run_builtin(name: str) -> SimulationRun:
    return simulate(scenarios.load_builtin(name))


def assert_safe(run: SimulationRun) -> None:
    """The issue's bar for every shipped scenario."""
    result = run.result
    assert run.violations == ()
    assert result.final_state in ("complete", "rolled_back")
    assert abs(result.net_exposure) <= result.tolerance
    assert all(o.status in ("filled", "canceled", "rejected") for o in result.orders)
    if run.scenario.expect_final_state:
        assert result.final_state == run.scenario.expect_final_state


@pytest.fixture
def d() -> type[Decimal]:
    return Decimal


# -- no network: every test, enforced ---------------------------------------------------

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", ""}


def _is_loopback(host: object) -> bool:
    import ipaddress

    if host is None:
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkBlocked(OSError):
    """A test tried to reach beyond loopback."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection or name lookup that is not loopback (AF_UNIX is allowed)."""
    import socket

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if not _is_loopback(host):
                raise NetworkBlocked(f"test tried to connect to {address!r}: beyond loopback")

    def connect(sock: socket.socket, address: object) -> None:
        check(sock, address)
        real_connect(sock, address)  # type: ignore[arg-type]

    def connect_ex(sock: socket.socket, address: object) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not _is_loopback(host):
            raise NetworkBlocked(f"test tried to resolve {host!r}: beyond loopback")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
