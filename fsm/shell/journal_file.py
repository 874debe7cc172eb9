"""Opening a journal file without harming it: refuse what is not ours, check before writing.

A journal is the only record of orders a dead process may have left live, so a file
that is not one (empty, another program's database, text), one that is damaged, or
one this process cannot write must be refused *as it is*, byte for byte, and refused
when it is opened: an entry that found out at its first write would already have read
market data and, in a recovery, would be half-way through. Nothing is written to an
existing file until it has been read as a journal of our layout and a rolled-back
write has shown it writable. A journal that cannot be created (disk full) is removed
again, so the next run does not find a half-made file.

``fsm.shell.journal`` is the journal itself; this module only finds and opens its file
(``default_path`` is here, not there, so that the command line can name it in its help
without loading the journal).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ENV_PATH = "ATOMIC_ENTRY_JOURNAL"

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"

# The circuit breakers' transitions. Not in ``COLUMNS``: a journal written before the
# breakers existed has no such table and is still sound; its first transition creates it.
BREAKER_SCHEMA = """
CREATE TABLE IF NOT EXISTS breaker (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    scope   TEXT NOT NULL,
    at      REAL NOT NULL,
    wall    TEXT NOT NULL,
    trigger TEXT NOT NULL,
    source  TEXT NOT NULL,
    dest    TEXT NOT NULL,
    row     INTEGER NOT NULL,
    reason  TEXT NOT NULL
);
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    entry_id    TEXT PRIMARY KEY,
    request     TEXT NOT NULL,
    config      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    version     TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    final_state TEXT,
    closed_at   TEXT,
    note        TEXT
);
CREATE TABLE IF NOT EXISTS records (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL REFERENCES entries (entry_id),
    step     INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('event', 'command')),
    type     TEXT NOT NULL,
    body     TEXT NOT NULL,
    at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_entry ON records (entry_id, seq);
""" + "\n" + BREAKER_SCHEMA

# The columns each table of this schema version must have; a file that claims the
# version with fewer was written by an older layout and would fail mid-recovery.
COLUMNS: dict[str, frozenset[str]] = {
    "meta": frozenset({"key", "value"}),
    "entries": frozenset({"entry_id", "request", "config", "origin", "version", "opened_at",
                          "final_state", "closed_at", "note"}),
    "records": frozenset({"seq", "entry_id", "step", "kind", "type", "body", "at"}),
}


class JournalError(RuntimeError):
    """The journal cannot be opened, written or read as expected; the message says why."""


class NotAJournal(JournalError):
    """The file is not an atomic-entry journal (empty, text, another program's database)."""


class JournalDamaged(JournalError):
    """The file is a journal, but a page, a record or a layout in it cannot be read."""


class JournalUnwritable(JournalError):
    """The journal cannot be written (read-only, immutable, disk full)."""


def default_path() -> Path:
    """``$ATOMIC_ENTRY_JOURNAL``, else the per-user state directory (XDG)."""
    explicit = os.environ.get(ENV_PATH)
    if explicit:
        return Path(explicit).expanduser()
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "atomic-entry" / "journal.sqlite"


def connect(path: Path, sync: str, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the journal at ``path``, created if there is no file there.

    ``read_only`` (a report reading what happened): the journal must exist, is checked
    the same way, and is read through a connection that cannot write, so reading needs no
    write permission and leaves the file as it was.
    """
    if not _inspect(path):
        if read_only:
            raise JournalError(f"no journal at {path}; expected the file a run wrote")
        return _create(path, sync)
    wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
    # Without a write-ahead log to read, the file alone is checked through an
    # immutable connection, which creates nothing beside it; with one (a process
    # has it open, or died), the log is part of the journal and is read as well.
    quiet = not wal.exists() or wal.stat().st_size == 0
    uri = f"file:{quote(str(path.resolve()))}?" + ("immutable=1" if quiet else "mode=ro")
    if read_only:
        _read(path, uri, _check_layout, uri=True)
        return sqlite3.connect(uri, uri=True, isolation_level=None)
    _check_access(path, path, path.parent)
    _read(path, uri if quiet else str(path), _check_layout, uri=quiet)
    made = [s for s in (wal, shm) if not s.exists()]
    try:
        return _open_existing(path, sync)
    except BaseException:
        # The check wrote nothing; what it created beside the file goes, unless the
        # log now holds a commit (another process opened the journal meanwhile).
        if wal in made and wal.exists() and wal.stat().st_size == 0:
            for sibling in made:
                sibling.unlink(missing_ok=True)
        raise


def _read(path: Path, target: str, check: Callable[[sqlite3.Connection, Path], None],
          *, uri: bool) -> None:
    """Run a read-only ``check`` on the journal; SQLite's complaints become ours."""
    try:
        db = sqlite3.connect(target, uri=uri)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open journal {path}: {exc}") from None
    try:
        check(db, path)
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise JournalDamaged(f"journal {path} is damaged: {exc}") from None
    finally:
        db.close()


def _inspect(path: Path) -> bool:
    """Whether a journal file exists at ``path``; refuse what cannot be one, unopened."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JournalError(f"journal {path}: cannot look at it: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise NotAJournal(f"journal {path} is not a regular file; expected an atomic-entry "
                          "journal or a path where none exists yet")
    if info.st_size == 0:
        raise NotAJournal(f"journal {path} is an empty file (0 bytes), not an atomic-entry "
                          "journal; it is left as it is. Give a journal a run wrote, or a "
                          "path where none exists yet")
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise JournalError(f"journal {path}: cannot read it: {exc.strerror}") from None
    if head != SQLITE_MAGIC:
        raise NotAJournal(f"journal {path} is not an SQLite database, so not an atomic-entry "
                          "journal; it is left as it is")
    return True


def _open_existing(path: Path, sync: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        _check_writable(db, path)
        db.execute(f"PRAGMA synchronous={sync.upper()}")
        db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        db.close()
        raise JournalUnwritable(f"journal {path} cannot be opened for writing: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db


def _create(path: Path, sync: str) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalUnwritable(f"cannot create journal {path}: {exc.strerror}") from None
    _check_access(path, path.parent)
    try:  # exclusively: what we remove on failure must be what we made
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        raise JournalError(f"journal {path} was created by another process while this one "
                           "was creating it; try again") from None
    except OSError as exc:
        raise JournalUnwritable(f"cannot create journal {path}: {exc.strerror}") from None
    try:
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={sync.upper()}")
            db.executescript(SCHEMA)
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except BaseException:
            db.close()
            raise
    except BaseException as exc:
        # Half made (a full disk): remove it, so the next run finds the path as it was.
        for made in (path, path.with_name(path.name + "-wal"),
                     path.with_name(path.name + "-shm")):
            made.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            raise JournalUnwritable(f"cannot create journal {path}: {exc}") from None
        raise
    return db


def _check_access(path: Path, *needed: Path) -> None:
    """Refuse before SQLite opens it read-only behind our back (it falls back silently)."""
    for where in needed:
        if where.exists() and not os.access(where, os.W_OK):
            what = "the journal" if where == path else f"its directory {where}"
            raise JournalUnwritable(f"journal {path}: {what} is not writable (read-only, "
                                    "immutable or on a read-only file system); a journal "
                                    "must be written before anything is sent")


def _check_layout(db: sqlite3.Connection, path: Path) -> None:
    """Read-only checks that the file is a sound journal of this schema version."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "meta" not in tables:
        raise NotAJournal(f"journal {path} is an SQLite database of another program (tables: "
                          f"{', '.join(sorted(tables)) or 'none'}), not an atomic-entry "
                          "journal; it is left as it is")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None:
        raise NotAJournal(f"journal {path} has a meta table but no schema version, so it is "
                          "not an atomic-entry journal; it is left as it is")
    if row[0] != str(SCHEMA_VERSION):
        raise JournalError(f"journal {path} has schema {row[0]}; this version reads schema "
                           f"{SCHEMA_VERSION}")
    for table, wanted in COLUMNS.items():
        have = {column[1] for column in db.execute(f"PRAGMA table_info({table})")}
        if missing := wanted - have:
            raise JournalDamaged(
                f"journal {path} claims schema {SCHEMA_VERSION}, but its table {table} lacks "
                f"column{'s' if len(missing) > 1 else ''} {', '.join(sorted(missing))} (an "
                f"older layout?); expected {', '.join(sorted(wanted))}")
    problems = [str(r[0]) for r in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise JournalDamaged(f"journal {path} is damaged: {'; '.join(problems)}")


def _check_writable(db: sqlite3.Connection, path: Path) -> None:
    """A write, rolled back: SQLite opens an unwritable file read-only without a word."""
    try:
        db.execute("BEGIN")
        db.execute("UPDATE meta SET value = value WHERE key = 'schema'")
    except sqlite3.Error as exc:
        raise JournalUnwritable(f"journal {path} cannot be written: {exc}; a journal must be "
                                "written before anything is sent") from None
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
