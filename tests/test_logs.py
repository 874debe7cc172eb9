"""The library's logs: one call turns them on, an earlier ``logger.enable`` survives the
import, every line about an entry names it (text and JSON lines), venue lines come with
the same call, and a listener that raises is logged with its traceback.

Which order of enabling and importing works is a property of a fresh interpreter, so
those tests run in subprocesses; the rest run in this one and restore loguru after.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

import fsm
from fsm.core.config import EntryConfig
from fsm.core.result import EntryResult
from fsm.shell.engine import EntryEngine
from fsm.shell.routing import Routes
from tests.simkit import request, venue
from venues import protocol as base
from venues.sim.venue import ScriptedFill
from venues.sim.virtual_time import run_virtual

D = Decimal
ROOT = Path(__file__).resolve().parent.parent

# A line logged from inside each package: loguru names a record after its caller's module.
PROBE = """
def probe():
    for name in ("fsm.probe", "venues.probe"):
        exec("logger.warning('hello from ' + __name__)", {"__name__": name, "logger": logger})
"""


def _run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE + code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return [line for line in done.stdout.splitlines() if "hello from" in line]


def test_an_enable_made_before_importing_fsm_is_not_undone_by_the_import() -> None:
    """Before: ``import fsm`` disabled both packages again, and nothing was logged."""
    lines = _run("""
import sys
from loguru import logger
logger.remove(); logger.add(sys.stdout, format="{name} {message}")
logger.enable("fsm"); logger.enable("venues")
import fsm
probe()
""")
    assert lines == ["fsm.probe hello from fsm.probe", "venues.probe hello from venues.probe"]


def test_an_enable_made_before_importing_venues_alone_is_not_undone_either() -> None:
    """Before: ``venues`` disabled itself at import whatever had been asked."""
    lines = _run("""
import sys
from loguru import logger
logger.remove(); logger.add(sys.stdout, format="{name} {message}")
logger.enable("venues")
import venues.sim.venue
probe()
""")
    assert "venues.probe hello from venues.probe" in lines  # (fsm, never imported, logs too)


def test_importing_fsm_alone_keeps_the_library_quiet() -> None:
    assert _run("""
import sys
from loguru import logger
logger.remove(); logger.add(sys.stdout, format="{name} {message}")
import fsm
probe()
""") == []


@pytest.mark.parametrize("when", ["after importing the engine", "before importing the engine"])
def test_the_one_call_enables_both_packages_whenever_it_is_made(when: str) -> None:
    engine = "import fsm.shell.engine, venues.sim.venue\n"
    call = "import sys, fsm; fsm.enable_logging(sink=sys.stdout)\n"
    code = "from loguru import logger\n" + (engine + call if when.startswith("after")
                                            else call + engine) + "probe()\n"
    lines = _run(code)
    assert len(lines) == 2, lines
    assert "fsm.probe" in lines[0] and "venues.probe" in lines[1]


# ------------------------------------------------------------------ in this interpreter

Enable = Callable[..., list[str]]


@pytest.fixture
def enable() -> Iterator[Enable]:
    """``fsm.enable_logging`` into a list the test reads; its sinks removed after."""
    added: list[int] = []

    def call(**kwargs: Any) -> list[str]:
        lines: list[str] = []
        handler = fsm.enable_logging("DEBUG", sink=lines.append, **kwargs)
        assert handler is not None
        added.append(handler)
        return lines

    try:
        yield call
    finally:
        for handler in added:
            logger.remove(handler)
        logger.disable("fsm")
        logger.disable("venues")


def _failing_listener(*_: object) -> None:
    raise ValueError("listener bug")


def _two_concurrent_entries() -> list[EntryResult]:
    async def run() -> list[EntryResult]:
        alpha = venue("alpha", script=[ScriptedFill(at_s=0.2), ScriptedFill(at_s=0.4)])
        beta = venue("beta")
        for v in (alpha, beta):
            v.start()
        engine = EntryEngine({"alpha": alpha, "beta": beta}, EntryConfig(quote_timeout_s=5))
        engine.on_alert(_failing_listener)
        engine.on_transition(_failing_listener)
        try:
            return list(await asyncio.gather(engine.enter(request("0.5", "e1")),
                                             engine.enter(request("0.5", "e2"))))
        finally:
            await engine.close()
    return run_virtual(run())


def _about_an_entry(message: str) -> bool:
    return "-->" in message or message.startswith(("entry starts", "entry ends"))


def test_every_text_line_about_an_entry_names_it_and_venue_lines_come_too(
        enable: Enable) -> None:
    logged = enable()
    _two_concurrent_entries()
    about = [line for line in logged if _about_an_entry(line.split(" - ", 1)[1])]
    assert about and all(("entry_id=e1 |" in line) != ("entry_id=e2 |" in line)
                         for line in about)
    assert any("entry_id=e1 |" in line for line in about)
    assert any("entry_id=e2 |" in line for line in about)
    assert any("venue=alpha | venues.sim." in line for line in logged)
    assert any("venue=beta | venues.sim." in line for line in logged)


def test_json_lines_parse_and_carry_entry_id_venue_and_tracebacks(enable: Enable) -> None:
    logged = enable(json=True)
    _two_concurrent_entries()
    records = [json.loads(line) for line in logged]
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in logged)
    about = [r for r in records if _about_an_entry(r["message"])]
    assert {r.get("entry_id") for r in about} == {"e1", "e2"}
    assert {r["venue"] for r in records if r["logger"].startswith("venues.")} == {"alpha",
                                                                                  "beta"}
    failures = [r for r in records if "listener" in r["message"] and "failed" in r["message"]]
    assert failures and all("Traceback" in r["exception"] and "listener bug" in r["exception"]
                            for r in failures)
    assert {r.get("entry_id") for r in failures} == {"e1", "e2"}  # which entry it hit
    assert all("fsm_json_line" not in r for r in records)


@pytest.mark.parametrize("flags", [["-v"], ["-v", "--log-json"]])
def test_the_command_lines_verbose_logs_name_the_entry(flags: list[str]) -> None:
    """``-v`` goes through the same call: before, its lines named no entry."""
    done = subprocess.run([sys.executable, "-m", "fsm.cli", *flags, "simulate"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    lines = done.stderr.splitlines()
    if "--log-json" in flags:
        records = [json.loads(line) for line in lines]
        assert {r.get("entry_id") for r in records if "-->" in r["message"]} == {"sim1"}
        assert {"alpha", "beta"} <= {r.get("venue") for r in records}
    else:
        transitions = [line for line in lines if "-->" in line]
        assert transitions and all("| entry_id=sim1 |" in line for line in transitions)


def test_a_fill_reported_after_its_entry_ended_names_that_entry(enable: Enable) -> None:
    """Before: the late-fill warning came from the plain logger, with no entry_id."""
    logged = enable(json=True)
    routes = Routes()
    routes._finished[("alpha", "aet1Lq1")] = "e7"  # what retiring entry e7 leaves behind
    late = base.FillUpdate("alpha", "BTC/USDT:USDT", "aet1Lq1", "t9", D("0.1"), D("60000"), D(0))

    async def deliver() -> None:
        routes.deliver("alpha", late)

    asyncio.run(deliver())
    records = [json.loads(line) for line in logged]
    warned = [r for r in records if "reported after entry e7 ended" in r["message"]]
    assert [(r.get("entry_id"), r.get("venue")) for r in warned] == [("e7", "alpha")]
