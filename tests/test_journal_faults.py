"""A journal that is damaged, foreign, empty or unwritable: one clear message, exit 2, and
the file left byte for byte as it was, by every command that opens one and by the API.

Each fault is made on a real journal (a simulated run killed mid-entry, so ``recover``
has work to do); the directory is hashed before and after, so a file written into, a
schema added to a foreign database, or ``-wal``/``-shm`` debris left beside it all fail.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fsm.cli.enter import run as run_enter
from fsm.cli.exits import Exit
from fsm.cli.main import _parser, main
from fsm.shell.journal import (
    Journal,
    JournalDamaged,
    JournalError,
    JournalUnwritable,
    NotAJournal,
)
from venues import protocol as base


def _killed_run(path: Path) -> None:
    assert main(["simulate", "--journal", str(path), "--crash-at", "3"]) == Exit.KILLED


def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        db = sqlite3.connect(path)
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()
    return damage


def _corrupt_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    assert len(data) >= 3 * 4096
    data[4096:4096 + 64] = b"\xff" * 64  # the b-tree header of page 2
    path.write_bytes(bytes(data))


def _flip_text_byte(path: Path) -> None:
    data = path.read_bytes()
    at = data.index(b'"symbol":"')  # inside a request: JSON text in a TEXT column
    path.write_bytes(data[:at + 2] + b"\xff" + data[at + 3:])


def _zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def _text_file(path: Path) -> None:
    path.write_text("host = example.org\n")


def _other_database(path: Path) -> None:
    path.unlink()
    _sql("CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ann')")(path)


FAULTS: dict[str, tuple[Callable[[Path], None], type[JournalError], str]] = {
    "corrupted page": (_corrupt_page, JournalDamaged, "malformed|damaged"),
    "flipped byte in a text column": (_flip_text_byte, JournalDamaged, "not UTF-8"),
    "older layout, same version": (
        _sql("ALTER TABLE entries DROP COLUMN version"), JournalDamaged,
        "table entries lacks column version"),
    "origin not JSON": (_sql("UPDATE entries SET origin = '{\"kind\": '"), JournalDamaged,
                        "origin is not JSON"),
    "origin not an object": (_sql("UPDATE entries SET origin = '[1, 2]'"), JournalDamaged,
                             "origin is a JSON list, expected an object"),
    "zero-byte file": (_zero_bytes, NotAJournal, r"empty file \(0 bytes\)"),
    "text file": (_text_file, NotAJournal, "not an SQLite database"),
    "another program's database": (_other_database, NotAJournal,
                                   "another program .tables: users"),
}


def _state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _enter(journal: Path) -> int:
    def factory(*_: object) -> base.Venue:
        raise AssertionError("a venue was built: the journal must be refused first")

    args = _parser().parse_args(["enter", "--long", "binanceusdm:BTC/USDT:USDT", "--short",
                                 "bybit:BTC/USDT:USDT", "--qty", "0.01", "--journal",
                                 str(journal)])
    keys = {f"ATOMIC_ENTRY_{ex}_{name}": "k" for ex in ("BINANCEUSDM", "BYBIT")
            for name in ("API_KEY", "SECRET")}  # present: the journal is what is refused
    return run_enter(args, environ=keys, factory=factory)


COMMANDS: dict[str, Callable[[Path], int]] = {
    "recover": lambda p: main(["recover", "--journal", str(p)]),
    "simulate": lambda p: main(["simulate", "--journal", str(p)]),
    "simulate --crash-at": lambda p: main(["simulate", "--journal", str(p), "--crash-at", "2"]),
    "enter": _enter,
}
#: Commands that only read a journal: every fault is theirs, an unwritable file is not.
READERS: dict[str, Callable[[Path], int]] = {
    "report": lambda p: main(["report", "sim1", "--journal", str(p)]),
}


@pytest.fixture(scope="module")
def killed_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("killed") / "run.sqlite"
    _killed_run(path)
    return path


# Only ``recover`` reads the entries in a journal; the others add one, so damage inside
# the text of an old entry (found when that entry is read) does not concern them.
READ_ONLY_BY_RECOVER = ("origin not JSON", "origin not an object",
                        "flipped byte in a text column")
CASES = [(fault, command) for fault in FAULTS for command in [*COMMANDS, *READERS]
         if command in ("recover", *READERS) or fault not in READ_ONLY_BY_RECOVER]


@pytest.mark.parametrize(("fault", "command"), CASES)
def test_a_faulty_journal_is_refused_by_every_command_and_left_as_it_was(
    fault: str, command: str, killed_journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    damage, _, _ = FAULTS[fault]
    path = tmp_path / "run.sqlite"
    shutil.copy(killed_journal, path)
    damage(path)
    before = _state(tmp_path)
    capsys.readouterr()
    code = {**COMMANDS, **READERS}[command](path)
    err = capsys.readouterr().err
    assert code == Exit.BAD_INPUT, err
    assert str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert _state(tmp_path) == before


@pytest.mark.parametrize("fault", FAULTS)
def test_the_api_raises_a_typed_error_and_leaves_the_file_as_it_was(
    fault: str, killed_journal: Path, tmp_path: Path,
) -> None:
    damage, error, expected = FAULTS[fault]
    path = tmp_path / "run.sqlite"
    shutil.copy(killed_journal, path)
    damage(path)
    before = _state(tmp_path)
    with pytest.raises(error, match=expected):
        journal = Journal(path)
        try:
            journal.unfinished()
        finally:
            journal.close()
    assert _state(tmp_path) == before


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Make files immutable (as root, where permission bits stop nothing)."""
    made: list[Path] = []

    def make(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            path.chmod(0o444)
        made.append(path)
        try:
            path.open("ab").close()
        except OSError:
            return
        pytest.skip("cannot make a file unwritable here")

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o644)


def _immutable_copy(journal: Path, folder: Path, immutable: Callable[[Path], None]
                    ) -> tuple[Path, dict[str, str]]:
    """A copy of ``journal`` in ``folder`` that cannot be written, and the folder's hashes."""
    path = folder / "run.sqlite"
    shutil.copy(journal, path)
    immutable(path)
    return path, _state(folder)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unwritable_journal_is_refused_when_opened_before_anything_is_sent(
    command: str, killed_journal: Path, tmp_path: Path,
    immutable: Callable[[Path], None], capsys: pytest.CaptureFixture[str],
) -> None:
    path, before = _immutable_copy(killed_journal, tmp_path, immutable)
    capsys.readouterr()
    code = COMMANDS[command](path)
    err = capsys.readouterr().err
    assert code == Exit.BAD_INPUT, err
    assert str(path) in err and "not writable" in err and "Traceback" not in err
    assert _state(tmp_path) == before
    with pytest.raises(JournalUnwritable, match="not writable"):
        Journal(path)


def test_report_reads_an_unwritable_journal_and_leaves_it_as_it_was(
    killed_journal: Path, tmp_path: Path, immutable: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, before = _immutable_copy(killed_journal, tmp_path, immutable)
    capsys.readouterr()
    assert READERS["report"](path) == Exit.KILLED  # the entry the journal left unfinished
    assert "UNFINISHED" in capsys.readouterr().out
    assert _state(tmp_path) == before


def _report_text(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert READERS["report"](path) == Exit.KILLED
    return capsys.readouterr().out


def test_report_reads_a_journal_whose_log_holds_commits_of_a_live_writer(
    killed_journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "run.sqlite"
    shutil.copy(killed_journal, path)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        assert "fill aesim1Lq1" in _report_text(path, capsys)
        # The last step's records removed, in a commit the log alone holds:
        writer.execute("DELETE FROM records WHERE step = (SELECT max(step) FROM records)")
        assert path.with_name(path.name + "-wal").stat().st_size > 0
        assert "fill aesim1Lq1" not in _report_text(path, capsys)
    finally:
        writer.close()


def test_a_journal_that_cannot_be_created_for_a_full_disk_is_not_left_half_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    connect = sqlite3.connect

    def full_disk(database: str | Path, **kwargs: Any) -> sqlite3.Connection:
        db: sqlite3.Connection = connect(database, **kwargs)
        db.execute("PRAGMA max_page_count = 1")  # the next page has no room
        return db

    monkeypatch.setattr(sqlite3, "connect", full_disk)
    path = tmp_path / "run.sqlite"
    for name, command in COMMANDS.items():
        if name == "recover":  # nothing there to recover: refused before sqlite is asked
            continue
        capsys.readouterr()
        assert command(path) == Exit.BAD_INPUT
        err = capsys.readouterr().err
        assert str(path) in err and "full" in err and "Traceback" not in err, err
        assert list(tmp_path.iterdir()) == []
    with pytest.raises(JournalUnwritable, match="disk is full"):
        Journal(path)
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_path_and_a_sound_journal_still_open(killed_journal: Path,
                                                     tmp_path: Path) -> None:
    Journal(tmp_path / "new" / "j.sqlite").close()
    shutil.copy(killed_journal, tmp_path / "run.sqlite")
    journal = Journal(tmp_path / "run.sqlite")
    assert journal.entry_ids(unfinished=True) == ["sim1"]
    journal.close()


def test_a_journal_whose_process_died_with_its_log_unmerged_still_opens(
    tmp_path: Path,
) -> None:
    """The write-ahead log is part of the journal: its tables may be there alone."""
    live = Journal(tmp_path / "live.sqlite")
    live.close_entry("none", "complete")  # a write, so the log is in use
    dead = tmp_path / "dead"
    dead.mkdir()
    for suffix in ("", "-wal"):  # what a killed process leaves: the file and its log
        shutil.copy(tmp_path / f"live.sqlite{suffix}", dead / f"run.sqlite{suffix}")
    live.close()
    assert (dead / "run.sqlite-wal").stat().st_size > 0
    journal = Journal(dead / "run.sqlite")
    assert journal.entry_ids() == []
    journal.close()


def test_a_file_that_claims_to_be_writable_but_is_not_is_found_out_by_a_rolled_back_write(
    killed_journal: Path, tmp_path: Path, immutable: Callable[[Path], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "run.sqlite"
    shutil.copy(killed_journal, path)
    immutable(path)
    monkeypatch.setattr("os.access", lambda *_, **__: True)  # a file system that lies
    before = _state(tmp_path)
    with pytest.raises(JournalUnwritable, match="cannot be written: attempt to write a "
                                                "readonly database"):
        Journal(path)
    assert _state(tmp_path) == before
