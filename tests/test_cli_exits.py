"""Exit codes and bad command-line input (issue 13, items 11 and 13).

One convention for ``simulate``, ``enter`` and ``recover`` (``fsm.cli.exits``): 0
complete, withdrawn or rolled back; 1 a safety invariant broken; 2 bad input, nothing
sent; 3 killed; 4 stuck or unbalanced; 70 an unexpected error, one line and a logged
traceback. A bad flag is refused while the command line is parsed: before any market
data is read, any order sent, or any run started that it would spoil afterwards.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from fsm.cli import enter as enter_command
from fsm.cli.exits import FINAL_STATE_EXITS, Exit, for_final_state, worst
from fsm.cli.main import _parser, main
from fsm.core.spec import ENTRY_STATES, terminal_names
from fsm.sim.scenario import DEFAULT_SCENARIO, load_builtin
from tests.test_live_cli import ARGS, ENV, Doubles

pytestmark = pytest.mark.usefixtures("restore_logging")  # main reconfigures loguru


# ------------------------------------------------------------------ the convention


def test_every_final_state_of_the_entry_table_has_an_exit_code() -> None:
    finals = {str(state) for state in terminal_names(ENTRY_STATES)}
    assert finals <= set(FINAL_STATE_EXITS), finals - set(FINAL_STATE_EXITS)
    assert [for_final_state(s) for s in ("complete", "withdrawn", "rolled_back")] == [0, 0, 0]
    assert for_final_state("stuck") == Exit.UNFINISHED == 4
    assert for_final_state("no such state") == Exit.UNFINISHED  # never OK by default


def test_the_most_serious_code_wins() -> None:
    assert worst([]) == Exit.OK
    assert worst([Exit.OK, Exit.BAD_INPUT, Exit.UNFINISHED]) == Exit.UNFINISHED
    assert worst([Exit.UNFINISHED, Exit.UNSAFE, Exit.OK]) == Exit.UNSAFE


@pytest.mark.parametrize(("scenario", "code"), [
    ("one_leg_fills_first", 0),
    ("nobody_fills_withdrawn", 0),
    ("hedge_rejected_rollback", 0),
    ("both_venues_down_stuck", 4),  # exited 0 before: a naked leg reported as success
])
def test_simulate_exits_by_final_state(scenario: str, code: int,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--json", "--scenario", scenario]) == code
    assert json.loads(capsys.readouterr().out)["final_state"] in FINAL_STATE_EXITS


def test_enter_exits_0_for_a_clean_withdrawn(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*ARGS[:-1], "0.3", "--journal", str(tmp_path / "j.sqlite"), "--json"]
    with Doubles() as doubles:  # nothing fills: the quotes time out and are withdrawn
        code = enter_command.run(_parser().parse_args(argv), environ=ENV,
                                 factory=doubles.factory)
    assert json.loads(capsys.readouterr().out)["final_state"] == "withdrawn"
    assert code == 0  # was 1: anything but complete


def test_simulate_crash_at_the_last_step_reports_the_ending(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fsm.sim import runner

    last = len(runner.simulate(load_builtin(DEFAULT_SCENARIO)).steps) - 1
    journal = str(tmp_path / "j.sqlite")
    assert main(["simulate", "--journal", journal, "--crash-at", str(last)]) == 0
    out = capsys.readouterr().out
    assert "KILLED" not in out and "unfinished" not in out
    assert f"the entry ended (complete) at step {last}" in out
    assert main(["recover", "--journal", journal]) == 0
    assert "nothing to recover" in capsys.readouterr().out


def test_an_unexpected_error_is_one_line_code_70_and_a_logged_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    from fsm.sim import runner  # what ``simulate`` runs, loaded when it runs

    monkeypatch.setattr(runner, "simulate", boom)
    assert main(["simulate"]) == Exit.INTERNAL == 70
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("atomic-entry: unexpected error in simulate: RuntimeError: boom")
    found = re.search(r"traceback: (\S+\.log)\)$", err.strip())
    assert found is not None, err
    log = Path(found.group(1))
    try:
        assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()
    finally:
        log.unlink()


def test_a_closed_pipe_keeps_the_runs_code_and_prints_no_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # `simulate --json | head` with head already gone
    with os.fdopen(write, "w") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        assert main(["simulate", "--json", "--scenario", "both_venues_down_stuck"]) == 4
    assert "Traceback" not in capsys.readouterr().err


# ------------------------------------------------------------------ bad flags


def _parse_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The flag is refused by the parser: exit 2, before the command runs."""
    with pytest.raises(SystemExit) as caught:
        _parser().parse_args(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("value", ["inf", "-5", "nan", "1e9", "soon"])
def test_recover_refuses_a_downtime_out_of_bounds(
        value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _parse_error(["recover", "--downtime", value], capsys).endswith(
        f"argument --downtime: got {value!r}; expected a non-negative number of seconds of "
        "at most 86,400 (one day)")


@pytest.mark.parametrize(("argv", "expected"), [
    (["simulate", "--diagram", "/nonexistent/x.svg"],
     "argument --diagram: got '/nonexistent/x.svg'; expected a file in an existing directory "
     "(/nonexistent does not exist; create it first)"),
    (["simulate", "--diagram", "run.xyz"],
     "argument --diagram: got 'run.xyz'; expected a file ending in one of .svg, .png, .dot, "
     "none"),
    (["simulate", "--journal", "/nonexistent/deeper/j.sqlite"],
     "argument --journal: got '/nonexistent/deeper/j.sqlite'; expected a file in an existing "
     "directory (/nonexistent/deeper does not exist; create it first)"),
    (["bench", "--json", "/nonexistent/b.json"],
     "argument --json: got '/nonexistent/b.json'; expected a file in an existing directory "
     "(/nonexistent does not exist; create it first)"),
    (["diagrams", "--out", "/nonexistent/deeper/out"],
     "argument --out: got '/nonexistent/deeper/out'; expected a directory in an existing "
     "directory (/nonexistent/deeper does not exist; create it first)"),
    ([*ARGS, "--journal", "/nonexistent/j.sqlite"],
     "argument --journal: got '/nonexistent/j.sqlite'; expected a file in an existing "
     "directory (/nonexistent does not exist; create it first)"),
])
def test_a_path_in_a_missing_directory_is_refused_before_the_run(
        argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _parse_error(argv, capsys).endswith(expected)
    assert not Path("/nonexistent").exists()


def test_diagrams_out_creates_one_new_directory_only(tmp_path: Path) -> None:
    assert main(["diagrams", "--out", str(tmp_path / "new")]) == 0
    assert (tmp_path / "new" / "entry.dot").is_file()


def test_an_empty_scenario_name_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", ""]) == 2  # ran the default scenario before
    out, err = capsys.readouterr()
    assert out == "" and "the scenario name is empty" in err


def test_a_fifo_scenario_is_bad_input(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    assert main(["simulate", "--scenario", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err


class _NoVenues:
    """A venue factory that fails the test if the command gets as far as building one."""

    def __call__(self, *args: Any) -> Any:
        raise AssertionError("a venue was built: market data would have been read")


@pytest.mark.parametrize(("value", "shown"), [
    ("nan", "nan"), ("0", "0.0"), ("-5", "-5.0"), ("1e9", "1000000000.0"), ("x", "'x'")])
def test_enter_refuses_a_bad_config_flag_while_parsing(
        value: str, shown: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        _parser().parse_args([*ARGS, "--quote-timeout", value])
    assert refused.value.code == 2
    assert ("argument --quote-timeout-s/--quote-timeout: got "
            f"{shown}, expected seconds in (0.0, 86400.0]") in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "expected"), [
    (["--entry-id", "cli-1"], "entry_id 'cli-1': expected 1 to 16 ASCII letters or digits"),
    (["--entry-id", "cli1\n"], "entry_id 'cli1\\n': expected 1 to 16 ASCII letters or digits"),
    (["--qty", "1e30"], "--qty: got 1e30, expected a quantity greater than 0 and at most "
     "1,000,000,000,000, with at most 12 decimal places, such as 0.01"),
])
def test_enter_refuses_bad_flags_before_any_market_data(
        flags: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args([*ARGS, *flags])
    assert enter_command.run(args, environ=ENV, factory=_NoVenues()) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err == f"atomic-entry: {expected}\n"


def test_recover_without_an_exchange_s_keys_is_refused_before_anything_connects(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A venue recovery cannot read leaves its orders unresolved: with a key missing,
    ``recover`` names the variables, exits 2, builds no venue and leaves the journal's
    entry unfinished for a run that has the keys."""
    from fsm.cli.recover import KeysMissing, recover_ccxt
    from fsm.core.config import EntryConfig
    from fsm.core.values import EntryRequest, LegSpec
    from fsm.shell.journal import Journal

    path = tmp_path / "j.sqlite"
    journal = Journal(path, origin={"kind": "ccxt", "sandbox": True})
    journal.open_entry("cx1", EntryRequest(LegSpec("okx", "BTC/USDT:USDT", "0.01"),
                                           LegSpec("bybit", "BTC/USDT:USDT", "0.01"), "cx1"),
                       EntryConfig())
    built: list[str] = []

    def factory(exchange: str, creds: Any, sandbox: bool) -> Any:
        built.append(exchange)
        raise AssertionError("no venue may be built without its keys")

    environ = {"ATOMIC_ENTRY_OKX_API_KEY": "k", "ATOMIC_ENTRY_OKX_SECRET": "s",
               "ATOMIC_ENTRY_BYBIT_API_KEY": "k"}
    with pytest.raises(KeysMissing, match=r"set ATOMIC_ENTRY_BYBIT_SECRET, "
                       r"ATOMIC_ENTRY_OKX_PASSWORD$"):
        recover_ccxt(journal, journal.unfinished(), live=False, factory=factory,
                     environ=environ)
    journal.close()
    assert built == []

    for name in [n for n in os.environ if n.startswith("ATOMIC_ENTRY_")]:
        monkeypatch.delenv(name)
    assert main(["recover", "--journal", str(path)]) == Exit.BAD_INPUT
    out = capsys.readouterr()
    assert "NOT RECOVERED: nothing sent: missing API credentials: set " \
        "ATOMIC_ENTRY_BYBIT_API_KEY" in out.out + out.err, out
    assert "Traceback" not in out.out + out.err
    assert Journal(path).entry_ids(unfinished=True) == ["cx1"]
