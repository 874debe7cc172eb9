"""Metrics (issue 17, item 1): the documented series, scraped from the real HTTP endpoint.

Simulated entries run with a Prometheus sink; ``/metrics`` is served on loopback (a
free port) and read over HTTP as Prometheus would, then parsed with
``prometheus_client``'s own parser. Values are checked against what the entries'
results say, labels against the legs they are about, and no label carries an entry id.
The command line is run for real too: ``simulate --metrics-port 0`` in a child process
scraped while it holds, ``--metrics-textfile``, and every bad value refused with exit 2.
"""

from __future__ import annotations

import enum
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from fsm.cli.main import main
from fsm.core.result import EntryResult
from fsm.shell import metrics as sinks
from fsm.shell.metrics_prom import HISTOGRAMS, PromMetrics
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate

ROOT = Path(__file__).resolve().parents[1]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
RUNS = ("one_leg_fills_first", "venue_unavailable_then_back", "book_moves_through_quote",
        "cancel_not_found_while_unknown", "sibling_cancel_refused_stuck")


def _parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:  # loopback only
        assert answer.status == 200
        return str(answer.read().decode())


def _leg(venue: str, leg: str) -> frozenset[tuple[str, str]]:
    return frozenset({("venue", venue), ("symbol", "BTC/USDT:USDT"), ("leg", leg)})


@pytest.fixture(scope="module")
def scraped() -> Iterator[tuple[Samples, dict[str, EntryResult], str]]:
    sink = PromMetrics()
    results = {name: simulate(scenarios.load_builtin(name), metrics=sink).result
               for name in RUNS}
    sink.set_breaker_state("beta", "halted")
    sink.set_breaker_state(sinks.GLOBAL_BREAKER, "conservative")
    server = sink.serve(0, "127.0.0.1")
    try:
        text = _scrape(f"http://127.0.0.1:{server.server_port}/metrics")
    finally:
        server.shutdown()
        server.server_close()
    yield _parse(text), results, text


class TestScrape:
    def test_every_documented_series_is_there(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        names = {name for name, _ in scraped[0]}
        expected = {f"atomic_entry_{h}_count" for h in HISTOGRAMS} | {
            "atomic_entry_entries_total", "atomic_entry_alerts_total",
            "atomic_entry_request_failures_total", "atomic_entry_live_entries",
            "atomic_entry_book_age_seconds", "atomic_entry_breaker_state"}
        assert expected <= names

    def test_entries_by_final_state_and_none_live(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        samples, results, _ = scraped
        ended: dict[str, int] = {}
        for result in results.values():
            ended[result.final_state] = ended.get(result.final_state, 0) + 1
        assert ended == {"complete": 4, "stuck": 1}
        for state, count in ended.items():
            assert samples[("atomic_entry_entries_total",
                            frozenset({("final_state", state)}))] == count
        assert samples[("atomic_entry_live_entries", frozenset())] == 0
        assert samples[("atomic_entry_alerts_total", frozenset())] == sum(
            len(r.alerts) for r in results.values()) == 1

    def test_timings_in_seconds_on_the_leg_they_are_about(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        samples, results, _ = scraped
        # Long filled first in every run but book_moves_through_quote, where short did.
        long_first = [r for n, r in results.items() if n != "book_moves_through_quote"]
        short_first = results["book_moves_through_quote"]
        first = "atomic_entry_time_to_first_fill_seconds"
        assert samples[(f"{first}_count", _leg("alpha", "long"))] == len(long_first)
        assert samples[(f"{first}_sum", _leg("alpha", "long"))] == pytest.approx(
            sum(r.timings.time_to_first_fill_ms or 0 for r in long_first) / 1000)
        assert samples[(f"{first}_sum", _leg("beta", "short"))] == pytest.approx(
            (short_first.timings.time_to_first_fill_ms or 0) / 1000)
        # the cancel confirmed and the hedge completed are the sibling's leg
        cancel = "atomic_entry_cancel_confirmation_seconds"
        assert samples[(f"{cancel}_sum", _leg("alpha", "long"))] == pytest.approx(
            (short_first.timings.cancel_confirm_ms or 0) / 1000)
        hedged = [r for r in long_first if r.timings.hedge_completion_ms is not None]
        hedge = "atomic_entry_hedge_completion_seconds"
        assert samples[(f"{hedge}_count", _leg("beta", "short"))] == len(hedged) == 2
        assert samples[(f"{hedge}_sum", _leg("beta", "short"))] == pytest.approx(
            sum(r.timings.hedge_completion_ms or 0 for r in hedged) / 1000)
        notional = "atomic_entry_unhedged_notional_seconds_sum"
        assert samples[(notional, _leg("alpha", "long"))] == pytest.approx(
            sum(float(r.timings.unhedged_notional_seconds) for r in long_first))

    def test_cost_in_bps_by_component(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        samples, results, _ = scraped
        fees = [float(r.economics.fees_bps) for r in results.values()
                if r.economics.fees_bps is not None]
        key = frozenset({("symbol", "BTC/USDT:USDT"), ("component", "fees")})
        assert samples[("atomic_entry_cost_bps_count", key)] == len(fees)
        assert samples[("atomic_entry_cost_bps_sum", key)] == pytest.approx(sum(fees))

    def test_failed_requests_by_venue_kind_and_outcome(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        failures = {dict(labels)["venue"] + " " + dict(labels)["kind"] + " "
                    + dict(labels)["outcome"]: value
                    for (name, labels), value in scraped[0].items()
                    if name == "atomic_entry_request_failures_total"}
        # venue_unavailable_then_back: 3 cancels and 2 hedges refused as unavailable;
        # cancel_not_found_while_unknown: the long quote's create timed out;
        # sibling_cancel_refused_stuck: two cancels refused
        assert failures == {"beta cancel unavailable": 3, "beta place unavailable": 2,
                            "alpha place unknown": 1, "beta cancel refused": 2}

    def test_book_age_and_breaker_state(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        samples = scraped[0]
        for venue in ("alpha", "beta"):
            age = samples[("atomic_entry_book_age_seconds",
                           frozenset({("venue", venue), ("symbol", "BTC/USDT:USDT")}))]
            assert age >= 0
        assert samples[("atomic_entry_breaker_state", frozenset({("venue", "beta")}))] == 2
        assert samples[("atomic_entry_breaker_state", frozenset({("venue", "global")}))] == 1

    def test_no_label_names_an_entry_or_an_order(
        self, scraped: tuple[Samples, dict[str, EntryResult], str]
    ) -> None:
        samples, results, _ = scraped
        values = {v for _, labels in samples for _, v in labels}
        ids = {r.entry_id for r in results.values()} | {
            o.client_id for r in results.values() for o in r.orders}
        assert values & ids == set()
        assert {k for _, labels in samples for k, _ in labels} <= {
            "venue", "symbol", "leg", "final_state", "kind", "outcome", "component", "le"}


def test_breaker_states_are_named() -> None:
    class State(enum.Enum):  # as a breaker table may name them
        HALTED = "halted"

    assert [sinks.breaker_level(s) for s in ("active", "CONSERVATIVE", "halted")] == [0, 1, 2]
    assert sinks.breaker_level(State.HALTED) == 2
    with pytest.raises(ValueError, match="expected one of active, conservative, halted"):
        PromMetrics().set_breaker_state("alpha", "tripped")


def test_a_failing_sink_is_logged_and_the_entry_goes_on() -> None:
    class Broken(sinks.NoMetrics):
        def entry_ended(self, result: EntryResult) -> None:
            raise RuntimeError("sink down")

    lines: list[str] = []
    logger.enable("fsm")
    handler = logger.add(lines.append, level="ERROR")
    try:
        run = simulate(scenarios.load_builtin("one_leg_fills_first"), metrics=Broken())
    finally:
        logger.remove(handler)
        logger.disable("fsm")
    assert run.result.final_state == "complete"
    assert any("sink down" in line for line in lines)


# --------------------------------------------------------------------------- the CLI
# (``restore_logging``, from conftest: ``main`` reconfigures loguru)
@pytest.mark.usefixtures("restore_logging")
def test_simulate_writes_a_textfile(tmp_path: Path) -> None:
    target = tmp_path / "atomic_entry.prom"
    assert main(["simulate", "--scenario", "one_leg_fills_first",
                 "--metrics-textfile", str(target)]) == 0
    samples = _parse(target.read_text())
    assert samples[("atomic_entry_entries_total", frozenset({("final_state", "complete")}))] == 1
    assert ("atomic_entry_hedge_completion_seconds_count", _leg("beta", "short")) in samples


def _taken_port() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(("argv", "message"), [
    (["--metrics-port", "70000"], "expected a port number from 0 (any free port) to 65535"),
    (["--metrics-port", "http"], "expected a port number from 0 (any free port) to 65535"),
    (["--metrics-textfile", "out.txt"], "expected a file ending in one of .prom"),
    (["--metrics-textfile", "/no/such/dir/x.prom"], "in an existing directory"),
    (["--metrics-host", "127.0.0.1"], "--metrics-host needs --metrics-port N"),
    (["--metrics-port", "0", "--metrics-host", "203.0.113.7"], "cannot listen there"),
    (["--metrics-port", "TAKEN"], "cannot listen there"),
])
def test_bad_metrics_flags_exit_2(argv: list[str], message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Refused at parse time (argparse's exit 2) or when the server starts, before the run."""
    taken = _taken_port()
    argv = [str(taken.getsockname()[1]) if a == "TAKEN" else a for a in argv]
    try:
        code = main(["simulate", *argv])
    except SystemExit as exc:
        code = exc.code
    finally:
        taken.close()
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("restore_logging")
def test_without_prometheus_client_metrics_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.delitem(sys.modules, "fsm.shell.metrics_prom")
    assert main(["simulate", "--metrics-textfile", str(tmp_path / "m.prom")]) == 2
    _, err = capsys.readouterr()
    assert "metrics need prometheus_client: pip install 'atomic-entry[metrics]'" in err
    assert not (tmp_path / "m.prom").exists()


def test_simulate_serves_until_interrupted() -> None:
    """The real command in a child process: it prints its URL, runs, keeps serving; a
    scrape then finds the run; SIGINT ends it with the run's exit code."""
    child = subprocess.Popen(
        [sys.executable, "-m", "fsm.cli", "simulate", "--scenario", "one_leg_fills_first",
         "--metrics-port", "0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, child.kill)  # a hang fails the test, not the suite
    watchdog.start()
    try:
        assert child.stderr is not None
        first = child.stderr.readline()
        url = re.fullmatch(r"metrics: (http://127\.0\.0\.1:\d+/metrics)\n", first)
        assert url is not None, first
        held = child.stderr.readline()
        assert held == f"metrics: serving {url[1]} until interrupted (Ctrl-C)\n"
        samples = _parse(_scrape(url[1]))
        assert samples[("atomic_entry_entries_total",
                        frozenset({("final_state", "complete")}))] == 1
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 0
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
        child.wait()


def test_the_step_that_sends_the_cancel_calls_no_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing the sink does sits between a fill and the cancel it causes: the engine
    meters only failures, books and endings, never a fill."""
    from fsm.core.commands import CancelOrder
    from fsm.shell.engine import Step

    trace: list[str] = []

    class Recording(sinks.NoMetrics):
        def __getattribute__(self, name: str) -> object:
            if not name.startswith("_"):
                trace.append(name)
            return object.__getattribute__(self, name)

    scenario = scenarios.load_builtin("one_leg_fills_first")

    def marked(step: Step) -> None:
        trace.append("CANCEL" if any(isinstance(c, CancelOrder) for c in step.commands)
                     else "step")

    from fsm.sim import runner

    real = runner.EntryEngine

    class Marking(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.on_step(marked)

    monkeypatch.setattr(runner, "EntryEngine", Marking)
    simulate(scenario, metrics=Recording())
    at = trace.index("CANCEL")
    before = trace[:at]
    since = before[len(before) - before[::-1].index("step"):]  # calls of the cancel's step
    assert since == []
    assert {"entry_started", "book_arrived", "entry_ended", "entry_retired"} <= set(trace)


def test_enter_writes_its_metrics_and_a_taken_port_connects_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``enter`` on the loopback exchange doubles (real ccxt): the textfile has the entry;
    a port it cannot bind is exit 2 before any venue is built."""
    from tests.test_enter_desk import _enter, _NoVenues
    from tests.test_live_cli import ARGS, Doubles

    target = tmp_path / "enter.prom"
    with Doubles() as doubles:
        code, _ = _enter([*ARGS[:-1], "0.3", "--journal", str(tmp_path / "j.sqlite"),
                          "--metrics-textfile", str(target)], doubles.factory)
    assert code == 0
    samples = _parse(target.read_text())
    assert samples[("atomic_entry_entries_total",
                    frozenset({("final_state", "withdrawn")}))] == 1
    venues = {dict(labels).get("venue") for name, labels in samples
              if name == "atomic_entry_book_age_seconds"}
    assert venues == {"binanceusdm", "bybit"}
    taken = _taken_port()
    try:
        code, _ = _enter([*ARGS, "--journal", str(tmp_path / "k.sqlite"), "--metrics-port",
                          str(taken.getsockname()[1])], _NoVenues())
    finally:
        taken.close()
    assert code == 2
    assert "nothing sent: --metrics-host 127.0.0.1 --metrics-port" in capsys.readouterr().err
    assert not (tmp_path / "k.sqlite").exists()


def test_the_breaker_gauge_follows_the_engine_s_breakers(tmp_path: Path) -> None:
    """The engine gives its breakers' states to the sink: a halt restored from the journal
    shows at the first entry (refused), a reset shows at once; nobody sets them by hand."""
    import asyncio

    from fsm.core.values import EntryRequest, LegSpec
    from fsm.shell.breakers import BreakerHalted
    from fsm.shell.engine import EntryEngine
    from fsm.shell.journal import Journal

    journal = Journal(tmp_path / "j.sqlite")
    journal.record_breaker("beta", 1.0, "unfinished", "active", "halted", 6, "stuck")
    sink = PromMetrics()

    def gauge() -> dict[str | None, float]:
        return {dict(labels).get("venue"): value
                for (name, labels), value in _parse(generate_latest(sink.registry).decode()).items()
                if name == "atomic_entry_breaker_state"}

    async def main() -> None:
        engine = EntryEngine({}, journal=journal, metrics=sink)
        request = EntryRequest(LegSpec("alpha", "BTC/USDT:USDT", "0.5"),
                               LegSpec("beta", "BTC/USDT:USDT", "0.5"), "m1")
        with pytest.raises(BreakerHalted):
            await engine.enter(request)
        assert gauge() == {"alpha": 0, "beta": 2, sinks.GLOBAL_BREAKER: 0}
        engine.reset_breaker("beta")
        assert gauge()["beta"] == 0
        await engine.close()

    try:
        asyncio.run(main())
    finally:
        journal.close()
