"""The journal: what it writes, what it refuses, and what happens when it cannot write."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fsm.shell.engine import EntryAborted, EntryEngine
from fsm.shell.journal import Journal, JournalError, NotAJournal, default_path
from fsm.shell.recovery import RecoveryError, replay
from fsm.sim import scenario as scenarios
from fsm.sim.runner import origin, recover_on, simulate
from venues.market import PlaceOrder
from venues.sim.virtual_time import run_virtual

SCENARIO = scenarios.load_builtin("one_leg_fills_first")


def test_a_run_is_journaled_step_by_step_and_replays_to_the_same_path(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", origin=origin(SCENARIO))
    run = simulate(SCENARIO, journal)
    entry = journal.entry("sim1")
    assert entry.final_state == run.result.final_state == "complete"
    assert [(s.event, s.commands) for s in entry.steps] == [
        (s.event, s.commands) for s in run.steps]
    assert entry.request == SCENARIO.request and entry.config == SCENARIO.config
    assert entry.origin["scenario"] == SCENARIO.name
    rebuilt = replay(entry)
    assert [t.row for t in rebuilt.model.path] == [s.row for s in run.result.path]
    assert journal.entry_ids(unfinished=True) == []


def test_an_entry_id_is_journaled_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    simulate(SCENARIO, journal)
    with pytest.raises(JournalError, match="'sim1' is already in journal"):
        simulate(SCENARIO, journal)


def test_bad_settings_and_foreign_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="expected one of normal, full"):
        Journal(tmp_path / "j.sqlite", sync="sometimes")
    Journal(tmp_path / "old.sqlite").close()
    with sqlite3.connect(tmp_path / "old.sqlite") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(JournalError, match="schema 99"):
        Journal(tmp_path / "old.sqlite")
    (tmp_path / "text.sqlite").write_text("not a database")
    with pytest.raises(NotAJournal, match="not an SQLite database"):
        Journal(tmp_path / "text.sqlite")


def test_the_default_path_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATOMIC_ENTRY_JOURNAL", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ATOMIC_ENTRY_JOURNAL")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_path() == tmp_path / "state" / "atomic-entry" / "journal.sqlite"


class _FailingJournal(Journal):
    """A disk that fills up at one step."""

    fail_at = 3

    def record(self, entry_id, step, event, commands):  # type: ignore[no-untyped-def]
        if step == self.fail_at:
            raise JournalError("disk full")
        super().record(entry_id, step, event, commands)


def test_a_journal_that_cannot_write_stops_the_entry_loudly_and_sends_nothing_of_that_step(
    tmp_path: Path,
) -> None:
    journal = _FailingJournal(tmp_path / "j.sqlite")
    alerts: list[str] = []

    async def run() -> dict[str, list[str]]:
        venues = SCENARIO.build_venues()
        for venue in venues.values():
            venue.start()
        engine = EntryEngine(venues, SCENARIO.config, journal=journal)
        engine.on_alert(lambda _, alert: alerts.append(alert.message))
        with pytest.raises(EntryAborted, match=r"the journal failed .* orders possibly live: "):
            await engine.enter(SCENARIO.request)
        await asyncio.sleep(1)
        return {name: venue.client_ids() for name, venue in venues.items()}

    held = run_virtual(run())
    # the long quote had filled; the short one still rests and is named
    assert alerts and "disk full" in alerts[0] and "possibly live: aesim1Sq1" in alerts[0]
    # Step 3 (the first fill) would have cancelled the sibling quote: it was not sent, so
    # no cancel reached the venue, and the journal has nothing of step 3.
    assert held == {"alpha": ["aesim1Lq1"], "beta": ["aesim1Sq1"]}
    assert [s.step for s in journal.entry("sim1").steps] == [0, 1, 2]


def test_a_journal_the_code_no_longer_agrees_with_is_not_recovered(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    simulate(SCENARIO, journal)
    with sqlite3.connect(path) as db:  # the run "crashed" at its last step, and the first
        db.execute("UPDATE entries SET final_state = NULL")  # quote was sent at another price
        body = db.execute("SELECT body FROM records WHERE type = 'PlaceOrder' ORDER BY seq"
                          ).fetchone()[0]
        db.execute("UPDATE records SET body = ? WHERE body = ?",
                   (body.replace('"price":"', '"price":"1'), body))
    entry = Journal(path).entry("sim1")
    with pytest.raises(RecoveryError, match=r"diverged at step 0 .* aesim1Lq1 on alpha"):
        replay(entry)

    async def recover() -> list[object]:
        venues = SCENARIO.build_venues()
        return list(await recover_on(venues, Journal(path)))

    outcome = run_virtual(recover())[0]
    assert outcome.result is None and "not recovered" in outcome.note  # type: ignore[attr-defined]
    assert Journal(path).entry_ids(unfinished=True) == ["sim1"]  # left for a human


def test_recover_needs_a_journal() -> None:
    async def run() -> None:
        await EntryEngine(SCENARIO.build_venues()).recover()

    with pytest.raises(RecoveryError, match="needs a journal"):
        run_virtual(run())


def test_placed_orders_are_journaled_before_they_reach_the_venue(tmp_path: Path) -> None:
    """Every order a venue ever saw has its intent in the journal, written earlier."""
    journal = Journal(tmp_path / "j.sqlite")
    run = simulate(SCENARIO, journal)
    intents = {c.client_id for s in journal.entry("sim1").steps for c in s.commands
               if isinstance(c, PlaceOrder)}
    assert intents == {o.client_id for o in run.result.orders}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fsm.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_recover_finishes_a_killed_run_in_another_process(tmp_path: Path) -> None:
    """The Done-means of issue 5, as a user runs it: kill a run, recover its journal."""
    journal = str(tmp_path / "run.sqlite")
    killed = _cli("simulate", "--journal", journal, "--crash-at", "3", cwd=tmp_path)
    assert killed.returncode == 3, killed.stderr
    assert "KILLED after sending the commands of step 3" in killed.stdout
    recovered = _cli("recover", "--journal", journal, cwd=tmp_path)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "left it in active.first_leg_filled.cancelling" in recovered.stdout
    assert "final state: complete" in recovered.stdout
    assert "open orders at the venues: none" in recovered.stdout
    assert "1 unfinished entry recovered: complete 1; nothing left open" in recovered.stdout
    again = _cli("recover", "--journal", journal, cwd=tmp_path)
    assert again.returncode == 0 and "nothing to recover" in again.stdout


def test_recover_and_crash_refuse_bad_input(tmp_path: Path) -> None:
    missing = _cli("recover", "--journal", str(tmp_path / "none.sqlite"), cwd=tmp_path)
    assert missing.returncode == 2 and "no journal at" in missing.stderr
    no_journal = _cli("simulate", "--crash-at", "2", cwd=tmp_path)
    assert no_journal.returncode == 2 and "--crash-at needs --journal" in no_journal.stderr
