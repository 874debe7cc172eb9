from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from loguru import logger

from fsm.sim import scenario as scenarios
from fsm.sim.runner import SimulationRun, simulate

pytest_plugins = ["tests.row_coverage"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``main`` reconfigures loguru globally; put back the library defaults afterwards."""
    yield
    logger.remove()
    logger.add(sys.stderr)
    logger.disable("fsm")
    logger.disable("venues")

# --------------------------------------------------------------------------- hypothesis
# Profiles, chosen with ATOMIC_ENTRY_HYPOTHESIS (default "dev"):
#
# * dev: the README's `python -m pytest` stays a few seconds; a developer's run still
#   tries a few hundred random worlds and keeps failures in the local database.
# * ci: `.ci/run`, deep. Derandomized (the same examples on every CI run, so a red
#   build reproduces byte for byte) and database-less (a CI box has no memory worth
#   trusting). Sized to explore well over 10,000 examples across the suite while
#   staying far under 20 minutes on a 2-core machine; the terminal summary prints the
#   count and the time.
#
# Engine runs happen in virtual time, so wall-clock deadlines mean nothing there.
# Each property test states its share as a multiple of the profile's max_examples
# (see ``examples``), so one knob scales the whole suite.
_COMMON = {
    "deadline": None,
    "suppress_health_check": (HealthCheck.too_slow, HealthCheck.data_too_large),
}
settings.register_profile("dev", max_examples=40, **_COMMON)  # type: ignore[arg-type]
settings.register_profile(
    "ci", max_examples=1000, derandomize=True, database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    print_blob=True, **_COMMON,  # type: ignore[arg-type]
)
PROFILE = os.environ.get("ATOMIC_ENTRY_HYPOTHESIS", "dev")
settings.load_profile(PROFILE)


def examples(share: float) -> int:
    """This test's number of examples: ``share`` times the profile's base figure."""
    return max(1, int(settings.default.max_examples * share))


EXAMPLES: Counter[str] = Counter()
"""Examples actually executed per property test (generation and shrinking alike)."""


def count_example(name: str, steps: int = 0, **tallies: int) -> None:
    """Called by every property test body, so the summary reports real figures.

    ``steps`` and each of ``tallies`` (faults injected, crashes that hit mid-entry) are
    summed per test under ``name (key)``; only plain examples make the total.
    """
    EXAMPLES[name] += 1
    for key, n in {"steps": steps, **tallies}.items():
        if n:
            EXAMPLES[f"{name} ({key.replace('_', ' ')})"] += n


_STARTED = time.perf_counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many random examples the property tests ran, for the README's figures."""
    if not EXAMPLES:
        return
    elapsed = time.perf_counter() - _STARTED
    total = sum(n for name, n in EXAMPLES.items() if not name.endswith(")"))
    write = terminalreporter.write_line
    terminalreporter.section(f"hypothesis examples (profile {PROFILE})")
    for name, n in sorted(EXAMPLES.items()):
        write(f"{n:>9}  {name}")
    write(f"{total:>9}  examples in total; session wall time {elapsed:.1f} s")


# --------------------------------------------------------------------------- scenarios


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Writes scenario text to a file in the test's temp dir (the loader takes paths)."""
    def write_file(text: str, name: str = "bad_scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


def run_builtin(name: str) -> SimulationRun:
    return simulate(scenarios.load_builtin(name))


def assert_safe(run: SimulationRun) -> None:
    """The issue's bar for every shipped scenario."""
    result = run.result
    assert run.violations == ()
    if run.scenario.expect_final_state == "stuck":
        # The one way to end unsafe, and only where the scenario says so: stuck, with an
        # alert naming every venue's residual and every order that may still be live.
        assert result.final_state == "stuck"
        alert = result.alerts[-1]
        assert all(venue in alert for venue in result.positions)
        assert all(o.client_id in alert for o in result.orders
                   if o.status not in ("filled", "canceled", "rejected"))
        return
    if run.scenario.expect_final_state == "unbalanced":
        # Every order ended, the net is beyond a lot and nothing tradable could close
        # it: never ``complete``, and an alert names the residual on every venue.
        assert result.final_state == "unbalanced"
        assert abs(result.net_exposure) > result.tolerance
        assert all(o.status in ("filled", "canceled", "rejected") for o in result.orders)
        assert all(venue in result.alerts[-1] for venue in result.positions)
        return
    assert result.final_state in ("complete", "rolled_back", "withdrawn")
    if result.final_state == "withdrawn":  # nothing filled, nothing opened
        assert all(leg.filled == 0 for leg in result.legs.values())
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


@pytest.fixture(autouse=True)
def private_journal(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                    ) -> None:
    """No test writes to the user's own journal: the default path points into a temp dir."""
    monkeypatch.setenv("ATOMIC_ENTRY_JOURNAL",
                       str(tmp_path_factory.mktemp("journal") / "journal.sqlite"))
