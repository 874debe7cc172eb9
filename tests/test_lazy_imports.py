"""Commands load the heavy libraries only where they use them (issue 12, item 5).

ccxt and aiohttp are 400-odd modules and most of the CLI's start-up cost; a simulated
run never talks to an exchange, so it must not load them, nor graphviz or matplotlib
(with numpy) unless it draws, nor prometheus_client unless metrics are asked for (issue 17).
The check runs the real command in a fresh interpreter and reads which modules it
imported (``-X importtime`` names every one), so it holds whatever imports them:
this package, a dependency, or an import added later. The same holds for our own
heavy parts: building the parser (``--help``) loads none of the engine, the journal or
the simulator.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("ccxt", "aiohttp", "graphviz", "matplotlib", "numpy", "prometheus_client")


def _imported(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "fsm.cli", *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert "fsm.cli.main" in names  # the trace is there, so an absence below means something
    return names


def _heavy(names: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in roots)


@pytest.mark.parametrize("argv", [("simulate",), ("simulate", "--list")])
def test_simulate_loads_no_exchange_library_and_no_drawing_library(argv: tuple[str, ...]) -> None:
    assert _heavy(_imported(*argv), HEAVY) == []


def test_drawing_a_run_is_what_loads_graphviz(tmp_path: Path) -> None:
    """The same trace does see a heavy import when the command really needs it."""
    names = _imported("simulate", "--diagram", str(tmp_path / "run.dot"))
    assert _heavy(names, ("graphviz",)) != []
    assert _heavy(names, ("ccxt", "aiohttp")) == []


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib not installed (the plot extra)")
def test_plotting_a_run_is_what_loads_matplotlib(tmp_path: Path) -> None:
    names = _imported("simulate", "--plot", str(tmp_path / "run.svg"))
    assert _heavy(names, ("matplotlib",)) != []


def test_asking_for_metrics_is_what_loads_prometheus_client(tmp_path: Path) -> None:
    names = _imported("simulate", "--metrics-textfile", str(tmp_path / "run.prom"))
    assert _heavy(names, ("prometheus_client",)) != []
    assert _heavy(names, ("ccxt", "aiohttp", "graphviz")) == []


def test_building_the_parser_loads_neither_the_engine_nor_the_simulator() -> None:
    """``atomic-entry --help`` builds every command's parser and runs none: the engine,
    the journal, the decision core and the simulator are each command's to load."""
    names = _imported("--help")
    assert "fsm.cli.enter" in names  # every command's parser was built
    assert sorted(names & {"fsm.shell.engine", "fsm.shell.journal", "fsm.core.entry",
                           "fsm.core.spec", "fsm.sim.runner", "fsm.sim.scenario"}) == []
