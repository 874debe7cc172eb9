"""``atomic-entry enter`` end to end against the doubles, and the credential leak check."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from loguru import logger

from fsm.cli.enter import run
from fsm.cli.exits import Exit
from fsm.cli.main import _parser, main
from fsm.shell.journal import Journal
from tests.ccxtkit import (
    ALL_HOSTS,
    BOOK,
    FAKE_KEY,
    FAKE_SECRET,
    HL_BOOK,
    HL_RULES,
    HOSTS,
    SCENARIO_RULES,
    TIMEOUT_MS,
)
from tests.doubles.binance import BinanceDouble
from tests.doubles.bybit import BybitDouble
from tests.doubles.core import FakeExchange
from tests.doubles.hyperliquid import HyperliquidDouble
from tests.doubles.loopback import LoopbackServer
from tests.doubles.okx import OkxDouble
from venues import protocol as base
from venues.ccxt.adapter import CcxtVenue
from venues.market import PlaceOrder, Purpose

ENV = {"ATOMIC_ENTRY_BINANCEUSDM_API_KEY": FAKE_KEY,
       "ATOMIC_ENTRY_BINANCEUSDM_SECRET": FAKE_SECRET,
       "ATOMIC_ENTRY_BYBIT_API_KEY": FAKE_KEY, "ATOMIC_ENTRY_BYBIT_SECRET": FAKE_SECRET}
ARGS = ["enter", "--long", "binanceusdm:BTC/USDT:USDT", "--short", "bybit:BTC/USDT:USDT",
        "--qty", "0.5", "--entry-id", "cli1", "--quote-timeout", "0.8"]


Wire = BinanceDouble | BybitDouble | OkxDouble | HyperliquidDouble
_WIRES: dict[str, type[Wire]] = {"binanceusdm": BinanceDouble, "bybit": BybitDouble,
                                 "okx": OkxDouble, "hyperliquid": HyperliquidDouble}


class Doubles:
    """The doubles (binance and bybit unless ``exchanges`` says) served from their own
    thread and loop, as a remote exchange would be."""

    def __init__(self, quote_create_timeout_ms: Mapping[str, int] | None = None,
                 exchanges: Sequence[str] = tuple(HOSTS)) -> None:
        hl = "hyperliquid"
        self.cores = {ex: FakeExchange(ex, {"BTCUSDT": HL_BOOK if ex == hl else BOOK},
                                       HL_RULES if ex == hl else SCENARIO_RULES)
                      for ex in exchanges}
        # per exchange: a short timeout for its quote creates, which the test hangs
        self.quote_create_timeout_ms = dict(quote_create_timeout_ms or {})
        self.servers: dict[str, LoopbackServer] = {}
        self.wires: dict[str, Wire] = {}  # their .account is settable
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Doubles:
        self.thread.start()
        for ex, core in self.cores.items():
            wire = _WIRES[ex](core)
            self.wires[ex] = wire
            server = LoopbackServer()
            for host in ALL_HOSTS[ex]:
                server.route(host, wire.handle)
            asyncio.run_coroutine_threadsafe(server.start(), self.loop).result(5)
            self.servers[ex] = server
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            asyncio.run_coroutine_threadsafe(server.stop(), self.loop).result(5)
        # A request handler the client left mid-request is still pending: end it here, or
        # the loop's teardown destroys it pending ("Task was destroyed but it is pending").
        asyncio.run_coroutine_threadsafe(_end_pending_tasks(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def factory(self, exchange: str, creds: Mapping[str, str], sandbox: bool) -> base.Venue:
        assert sandbox
        session = self.servers[exchange].session()
        venue = _DoubleVenue(exchange, exchange, credentials=creds, sandbox=sandbox,
                             config={"session": session, "rateLimit": 5,
                                     "timeout_on_exit": 0},
                             stream="poll", poll_interval_s=0.05, timeout_ms=TIMEOUT_MS)
        venue.loopback_session = session
        venue.quote_create_timeout_ms = self.quote_create_timeout_ms.get(exchange)
        return venue


async def _end_pending_tasks() -> None:
    """Cancel every task of this loop but the caller, and wait until each has ended."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class _DoubleVenue(CcxtVenue):
    """A venue on a double's loopback session, which it closes with itself (ccxt only lets
    go of a session it was given, and the command's loop ends with the venue)."""

    loopback_session: aiohttp.ClientSession | None = None
    #: the timeout of a quote's create (the request a test makes its double hang), else
    #: the venue's own (generous: a loaded machine is slow on every other request)
    quote_create_timeout_ms: int | None = None

    async def place(self, order: PlaceOrder) -> base.PlaceAck:
        if self.quote_create_timeout_ms is None or order.purpose is not Purpose.QUOTE:
            return await super().place(order)
        before, self.trading.timeout = self.trading.timeout, self.quote_create_timeout_ms
        try:
            return await super().place(order)
        finally:
            self.trading.timeout = before

    async def close(self) -> None:
        await super().close()
        if self.loopback_session is not None:
            await self.loopback_session.close()


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[list[str]]:
    logs: list[str] = []
    logger.enable("fsm")
    logger.enable("venues")
    sink = logger.add(logs.append, level="DEBUG", format="{message} {extra}")
    yield logs
    logger.remove(sink)


def _run(argv: list[str], doubles: Doubles, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    stdin_io = io.StringIO(stdin)
    code = run(_parser().parse_args(argv), environ=ENV, stdin=stdin_io, out=out,
               factory=doubles.factory)
    return code, out.getvalue()


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert FAKE_KEY not in text and FAKE_SECRET not in text


def test_dry_run_prints_the_plan_and_sends_nothing(captured: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        code, out = _run([*ARGS, "--dry-run"], doubles)
        assert code == 0
        plan = json.loads(out)
        assert plan["sent"] == 0 and plan["checks"] == "passed"
        assert plan["legs"]["long"]["client_id"] == "aecli1Lq1"
        assert plan["legs"]["long"]["quote_price"] == "59994.0"
        assert plan["legs"]["short"]["quote_price"] == "60006.0"
        for core in doubles.cores.values():
            assert core.trading_requests() == []
    err = capsys.readouterr()
    _assert_no_secret(out, err.out, err.err, *captured)


def test_dry_run_shows_the_plan_a_taker_start_at_its_budget_price() -> None:
    with Doubles() as doubles:
        code, out = _run([*ARGS, "--dry-run", "--plan", "taker_maker"], doubles)
        assert code == 0
        plan = json.loads(out)
        assert plan["plan"]["name"] == "taker_maker"
        assert [plan["legs"][leg]["start"] for leg in ("long", "short")] == ["taker", "maker"]
        # the entry's own opening IOC: 50 bp over the mid, down to the tick
        assert plan["legs"]["long"]["quote_price"] == "60300.0"
        assert plan["legs"]["short"]["quote_price"] == "60006.0"
        for core in doubles.cores.values():
            assert core.trading_requests() == []


def test_failed_pretrade_check_names_venue_rule_numbers_and_sends_nothing(
        captured: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        argv = [*ARGS[:5], "--qty", "0.00005", "--dry-run"]
        code, out = _run(argv, doubles)
        assert code == 2
        for core in doubles.cores.values():
            assert core.trading_requests() == []
    err = capsys.readouterr().err
    assert "binanceusdm" in err and "minimum quantity 0.001" in err and "0.00005" in err
    _assert_no_secret(out, err, *captured)


def test_real_run_on_doubles_completes_without_leaking_keys(
        captured: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        doubles.cores["binanceusdm"].script.fill_after_create["q"] = 0.2
        # the quote timeout (real clock) only fires if the 0.2 s fill never shows:
        # generous, so that a loaded machine's slow poll is not taken for no fill
        code, out = _run([*ARGS, "--quote-timeout", "5", "--json"], doubles)
        result = json.loads(out)
        assert code == 0 and result["final_state"] == "complete"
        assert doubles.cores["binanceusdm"].positions["BTCUSDT"] == Decimal("0.5")
        assert doubles.cores["bybit"].positions["BTCUSDT"] == Decimal("-0.5")
    err = capsys.readouterr()
    _assert_no_secret(out, err.out, err.err, *captured)


def test_venue_errors_do_not_leak_keys(captured: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    # the hung create must time out (its error is one of those checked); nothing else
    # does, so only binance's quote creates get a short timeout
    with Doubles(quote_create_timeout_ms={"binanceusdm": 500}) as doubles:
        doubles.cores["bybit"].script.rate_limit_create["q"] = 5
        doubles.cores["binanceusdm"].script.hang_create["q"] = 1.0
        code, out = _run(ARGS, doubles)
        assert code in (0, 1)
    err = capsys.readouterr()
    assert captured  # the logs were captured, so the grep below means something
    _assert_no_secret(out, err.out, err.err, *captured)


def test_live_without_terminal_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        code, _ = _run([*ARGS, "--live"], doubles)
    assert code == 2
    assert "--yes-i-mean-live" in capsys.readouterr().err


def test_bad_leg_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    with Doubles() as doubles:
        code, _ = _run(["enter", "--long", "kraken:BTC/USD", "--short", "bybit:BTC/USDT:USDT",
                        "--qty", "1"], doubles)
    assert code == 2 and "kraken" in capsys.readouterr().err


def test_cli_module_stays_thin() -> None:
    assert "enter" in _parser().format_help()
    assert sys.modules["fsm.cli.enter"]


@pytest.mark.parametrize("qty", ["0", "-1", "NaN", "abc"])
def test_bad_quantity_is_refused_before_any_connection(
        qty: str, capsys: pytest.CaptureFixture[str]) -> None:
    """No doubles here: the suite's network guard fails any attempt to connect."""
    code = main(["enter", "--long", "binanceusdm:BTC/USDT:USDT", "--short",
                 "bybit:BTC/USDT:USDT", "--qty", qty, "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2 and "--qty" in err, err
    assert "load_markets" not in err


def test_a_halted_breaker_refuses_the_entry_with_exit_5_and_sends_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)  # as an earlier run left it: bybit halted
    journal.record_breaker("bybit", 1.0, "unfinished", "active", "halted", 6,
                           "entry x ended stuck (exposure may be open on bybit)")
    journal.close()
    with Doubles() as doubles:
        code, _ = _run([*ARGS, "--journal", str(path)], doubles)
        for core in doubles.cores.values():
            assert core.trading_requests() == []
    assert code == Exit.HALTED == 5
    err = capsys.readouterr().err
    assert "nothing sent: refused: the bybit circuit breaker is halted (entry x ended stuck" in err
    assert "atomic-entry breaker --reset bybit" in err


def test_a_halted_entry_still_writes_its_metrics_textfile(tmp_path: Path) -> None:
    """An entry refused by a halted breaker writes the textfile all the same, so
    node-exporter shows this run's refusal, not the previous run's figures."""
    pytest.importorskip("prometheus_client")
    path, target = tmp_path / "j.sqlite", tmp_path / "enter.prom"
    target.write_text("# the previous run's file\n")
    journal = Journal(path)
    journal.record_breaker("bybit", 1.0, "unfinished", "active", "halted", 6, "stuck")
    journal.close()
    with Doubles() as doubles:
        code, _ = _run([*ARGS, "--journal", str(path), "--metrics-textfile", str(target)],
                       doubles)
    assert code == Exit.HALTED
    text = target.read_text()
    assert "previous run" not in text
    assert 'atomic_entry_breaker_state{venue="bybit"} 2.0' in text
