"""``atomic-entry enter`` for a desk, against the loopback doubles: the config (file and
flags) reaches the entry, bad config and missing keys are refused before anything
connects, a run that sent nothing leaves no journal, and the output is the timeline
(``--json`` on request) with ``simulate``'s exit codes."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from fsm.cli import enter_config
from fsm.cli.enter import run
from fsm.cli.exchanges import REQUIRED
from fsm.cli.main import _parser
from fsm.core.config import EntryConfig, HedgeMode
from fsm.shell.journal import Journal
from tests.test_live_cli import ARGS, ENV, Doubles

CONFIG = """\
[config]
hedge_mode = "amend_to_cross"
send_retry_budget = 2
quote_timeout_s = 5
limit_order_offset_pct = "0.0002"
"""


class _NoVenues:
    """A factory that fails the test if a venue is ever built (so nothing connects)."""

    def __call__(self, *args: Any) -> Any:
        raise AssertionError("a venue was built before the input was checked")


def _enter(argv: list[str], factory: Any, environ: dict[str, str] | None = None
           ) -> tuple[int, str]:
    out = io.StringIO()
    code = run(_parser().parse_args(argv), environ=ENV if environ is None else environ,
               stdin=io.StringIO(), out=out, factory=factory)
    return code, out.getvalue()


def test_every_config_field_has_a_flag_with_its_bound_in_the_help(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["enter", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in attrs.fields(EntryConfig):
        assert enter_config.flag(field.name) in text, field.name
    assert "--hedge-retry-budget INT a whole number in [0, 50] (default 3)" in text
    assert "--max-book-age-s FLOAT seconds in (0.01, 600.0] (default 2.0)" in text
    assert "one of cancel_then_hedge, amend_to_cross" in text


def test_the_file_and_the_flags_reach_the_entry_flags_winning(tmp_path: Path) -> None:
    (tmp_path / "desk.toml").write_text(CONFIG, encoding="utf-8")
    journal = tmp_path / "j.sqlite"
    argv = [*ARGS, "--config", str(tmp_path / "desk.toml"), "--quote-timeout-s", "0.3",
            "--max-book-age-s", "1.5", "--journal", str(journal), "--json"]
    with Doubles() as doubles:  # nothing fills: the quotes are withdrawn after 0.3 s
        code, out = _enter(argv, doubles.factory)
    assert code == 0 and json.loads(out)["final_state"] == "withdrawn"
    stored = Journal(journal)
    try:
        config = stored.entry("cli1").config  # what the engine ran with, as journaled
    finally:
        stored.close()
    assert config == EntryConfig(hedge_mode=HedgeMode.AMEND_TO_CROSS, send_retry_budget=2,
                                 quote_timeout_s=0.3, max_book_age_s=1.5,
                                 limit_order_offset_pct=Decimal("0.0002"))


@pytest.mark.parametrize(("text", "named"), [
    ("[config]\nhedge_mod = \"market\"\n", "unknown field(s) hedge_mod"),
    ("[config]\nsend_retry_budget = 99\n", "EntryConfig.send_retry_budget: got 99"),
    ("[config]\nlimit_order_offset_pct = 0.001\n", "EntryConfig.limit_order_offset_pct"),
    ("quote_timeout_s = 5\n", "the top level: unknown key(s) quote_timeout_s"),
    ("[config\n", "not valid TOML"),
])
def test_a_bad_config_file_is_exit_2_naming_the_key_and_nothing_is_built(
        text: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(text, encoding="utf-8")
    journal = tmp_path / "j.sqlite"
    code, out = _enter([*ARGS, "--config", str(path), "--journal", str(journal)], _NoVenues())
    err = capsys.readouterr().err
    assert code == 2 and out == "", err
    assert err.startswith(f"atomic-entry: {path}: ") and named in err, err
    assert not journal.exists()


def test_a_missing_config_file_is_exit_2(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _enter([*ARGS, "--config", str(tmp_path / "none.toml")], _NoVenues())
    assert code == 2 and "none.toml: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "named"), [
    (["--hedge-mode", "fast"], "argument --hedge-mode: got 'fast', expected one of "),
    (["--send-retry-budget", "1.5"], "argument --send-retry-budget: got '1.5', expected a "
     "whole number in [0, 50]"),
    (["--limit-order-offset-pct", "0.5"], "argument --limit-order-offset-pct: got 0.5, "
     "expected a value in [-0.01, 0.05]"),
])
def test_a_bad_flag_is_refused_while_parsing(flags: list[str], named: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        _parser().parse_args([*ARGS, *flags])
    assert refused.value.code == 2
    assert named in capsys.readouterr().err


def test_flags_right_alone_and_wrong_together_are_exit_2_naming_the_flag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _enter([*ARGS, "--retry-backoff-s", "5", "--journal", str(tmp_path / "j")],
                     _NoVenues())
    assert code == 2
    assert capsys.readouterr().err == ("atomic-entry: --retry-backoff-max-s: got 1.0, "
                                       "expected at least retry_backoff_s (5.0)\n")
    assert not (tmp_path / "j").exists()


def test_missing_keys_are_named_before_any_connection(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    environ = {k: v for k, v in ENV.items() if k != "ATOMIC_ENTRY_BYBIT_SECRET"}
    journal = tmp_path / "j.sqlite"
    with Doubles() as doubles:
        code, out = _enter([*ARGS, "--journal", str(journal)], doubles.factory, environ)
        assert [core.requests for core in doubles.cores.values()] == [[], []]
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err == ("atomic-entry: nothing sent: missing API credentials: set "
                   "ATOMIC_ENTRY_BYBIT_SECRET\n")
    assert not journal.exists()


def test_the_required_keys_are_ccxts() -> None:
    import ccxt

    from fsm.cli.exchanges import _ENV_FIELDS

    for exchange, suffixes in REQUIRED.items():
        needed = {name for name, on in getattr(ccxt, exchange)().requiredCredentials.items()
                  if on}
        assert {_ENV_FIELDS[suffix] for suffix in suffixes} == needed, exchange


def test_a_run_that_sends_nothing_leaves_no_journal(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    journal = tmp_path / "j.sqlite"
    argv = [*ARGS[:5], "--qty", "0.00005", "--journal", str(journal)]  # under the minimum
    with Doubles() as doubles:
        code, _ = _enter(argv, doubles.factory)
        assert [core.trading_requests() for core in doubles.cores.values()] == [[], []]
    assert code == 2 and "minimum quantity" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_journal_created_on_write_appears_with_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "new" / "j.sqlite"
    journal = Journal(path, create_on_write=True)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == []  # probe removed
    journal.close_entry("none", "complete")
    assert path.exists()
    journal.close()


def test_a_journal_that_was_there_is_kept(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    Journal(journal).close()
    before = journal.read_bytes()
    with Doubles() as doubles:
        code, _ = _enter([*ARGS[:5], "--qty", "0.00005", "--journal", str(journal)],
                         doubles.factory)
    assert code == 2 and journal.read_bytes() == before


def test_the_default_output_is_the_timeline_and_json_on_request(tmp_path: Path) -> None:
    argv = [*ARGS[:-1], "0.3"]
    with Doubles() as doubles:
        code, text = _enter([*argv, "--journal", str(tmp_path / "a.sqlite")], doubles.factory)
        json_code, as_json = _enter([*argv[:-3], "cli2", "--quote-timeout", "0.3",
                                     "--journal", str(tmp_path / "b.sqlite"), "--json"],
                                    doubles.factory)
    assert code == json_code == 0
    lines = text.splitlines()
    assert lines[0].split() == ["time", "ms", "venue", "event", "state"]
    assert "-> place quote buy 0.5 @ 59994.0" in text
    assert "final state: withdrawn" in lines and lines[-1].startswith("cost: ")
    assert json.loads(as_json)["final_state"] == "withdrawn"
    with pytest.raises(ValueError):
        json.loads(text)
