"""The durable journal: what each entry was asked, every event it saw, every command it sent.

An embedded SQLite database in WAL mode. For each entry the engine writes the
request and config when the entry opens, then one transaction per processed event:
the event, and the commands it caused, committed *before* any of those commands is
sent. So after a crash the journal holds every order intent that may have reached a
venue, and replaying the events through a fresh ``EntryModel`` (which is
deterministic) rebuilds each unfinished entry exactly as it stood; ``fsm.shell.recovery``
then asks the venues for what happened since.

Durability is a setting (``sync``): ``normal`` (the default) survives the process
being killed, which is the crash ``atomic-entry recover`` is for; ``full`` also
survives the machine losing power, at the cost of an fsync per event. The README
reports what each costs per record on this machine.

Opening the file (``fsm.shell.journal_file``) refuses what is not a sound, writable
journal of this layout, leaving it as it was; reading an entry whose records are
damaged raises ``JournalDamaged``. Every error here is a ``JournalError``.

``create_on_write`` (``enter``) leaves a journal that does not exist yet uncreated until
its first write, having proved at open that it can be created (a journal created
beside it under a private name, then removed): an entry refused before it sent anything leaves no
journal behind, yet an unwritable place still refuses the entry before anything is sent.
``read_only`` (``atomic-entry report``) reads an existing journal through a connection
that cannot write: a report needs no write permission and changes nothing.

Nothing secret is written: requests, configs and venue answers carry no keys, and
``origin`` (how to reach the venues again) is given by the caller without them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

from fsm.core import events as ev
from fsm.core.commands import Command
from fsm.core.config import EntryConfig
from fsm.core.values import EntryRequest
from fsm.shell import codec
from fsm.shell.journal_file import (
    BREAKER_SCHEMA,
    ENV_PATH,
    SCHEMA_VERSION,
    JournalDamaged,
    JournalError,
    JournalUnwritable,
    NotAJournal,
    connect,
    default_path,
)

SYNC_MODES = ("normal", "full")
# ENV_PATH and default_path live with the file (the command line's help reads them there).
__all__ = ["ENV_PATH", "SCHEMA_VERSION", "JournalDamaged", "JournalError", "JournalUnwritable",
           "NotAJournal", "default_path"]


@attrs.frozen
class JournaledStep:
    """One processed event and the commands it caused, as written."""

    step: int
    at: float
    event: ev.Event
    commands: tuple[Command, ...]


@attrs.frozen
class JournaledEntry:
    """Everything the journal knows about one entry."""

    entry_id: str
    request: EntryRequest
    config: EntryConfig
    origin: Mapping[str, Any]
    version: str
    opened_at: str
    final_state: str | None
    steps: tuple[JournaledStep, ...]

    @property
    def finished(self) -> bool:
        return self.final_state is not None


@attrs.frozen
class BreakerRecord:
    """One journaled breaker transition (``fsm.core.breaker.BreakerTransition`` as written):
    ``at`` is the writing engine's clock, ``wall`` the UTC time for people."""

    seq: int
    scope: str
    at: float
    wall: str
    trigger: str
    source: str
    dest: str
    row: int
    reason: str


def _probe(path: Path, sync: str) -> None:
    """Prove that a journal can be created at ``path`` without creating it there: one is
    created the same way beside it, under a name no other process uses, and removed."""
    probe = path.with_name(f".{path.name}.probe-{secrets.token_hex(6)}")
    try:
        connect(probe, sync).close()
    except JournalError as exc:  # named as the journal asked for, not the probe
        raise type(exc)(str(exc).replace(str(probe), str(path))) from None
    finally:
        for suffix in ("", "-wal", "-shm"):
            probe.with_name(probe.name + suffix).unlink(missing_ok=True)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _version() -> str:
    try:
        return metadata.version("atomic-entry")
    except metadata.PackageNotFoundError:
        return "unknown"


class Journal:
    """One SQLite journal file; any number of entries of one process write to it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sync: str = "normal",
        origin: Mapping[str, Any] | None = None,
        create_on_write: bool = False,
        read_only: bool = False,
    ) -> None:
        if sync not in SYNC_MODES:
            raise JournalError(f"journal sync {sync!r}: expected one of {', '.join(SYNC_MODES)}")
        self.path = Path(path)
        self.origin = dict(origin or {})
        self._sync = sync
        self._conn: sqlite3.Connection | None = None
        if create_on_write and not os.path.lexists(self.path):
            _probe(self.path, sync)  # the file itself comes with the first write
        else:
            self._conn = connect(self.path, sync, read_only=read_only)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path, self._sync)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    # ----------------------------------------------------------------- writing
    def open_entry(self, entry_id: str, request: EntryRequest, config: EntryConfig) -> None:
        """Record a new entry before anything is sent for it; an id is used only once."""
        try:
            self._db.execute(
                "INSERT INTO entries (entry_id, request, config, origin, version, opened_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry_id, codec.dumps(request), codec.dumps(config),
                 json.dumps(self.origin, sort_keys=True), _version(), _now()),
            )
        except sqlite3.IntegrityError:
            raise JournalError(
                f"entry {entry_id!r} is already in journal {self.path}; client order ids "
                "derive from the entry id, so an entry id is used once"
            ) from None
        except sqlite3.Error as exc:
            raise JournalUnwritable(f"journal {self.path}: cannot open entry {entry_id}: "
                                    f"{exc}") from None

    def record(
        self,
        entry_id: str,
        step: int,
        event: ev.Event,
        commands: Sequence[Command],
    ) -> None:
        """Write one processed event and its commands in one transaction.

        Called before any of ``commands`` is sent. The step that ends an entry does not
        close it: ``close_entry`` follows once its commands (the final alert) are out, so
        a crash in between leaves the entry for ``recover``, which raises them again.
        """
        rows: list[tuple[str, int, str, str, str, float]] = [
            (entry_id, step, "event", type(event).__name__, codec.dumps(event), event.at)
        ]
        rows.extend(
            (entry_id, step, "command", type(c).__name__, codec.dumps(c), event.at)
            for c in commands
        )
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO records (entry_id, step, kind, type, body, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise JournalError(f"journal {self.path}: cannot record {entry_id} step {step}: "
                               f"{exc}") from None

    def close_entry(self, entry_id: str, final_state: str, note: str | None = None) -> None:
        """Mark an entry finished: its last step's commands are out, or it never started."""
        try:
            self._db.execute(
                "UPDATE entries SET final_state = ?, closed_at = ?, note = ? WHERE entry_id = ?",
                (final_state, _now(), note, entry_id),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: cannot close {entry_id}: {exc}") from None

    def record_breaker(self, scope: str, at: float, trigger: str, source: str, dest: str,
                       row: int, reason: str) -> int:
        """Write one breaker transition (the table is made on the first, for older journals);
        returns its sequence number."""
        try:
            self._db.executescript(BREAKER_SCHEMA)
            cursor = self._db.execute(
                "INSERT INTO breaker (scope, at, wall, trigger, source, dest, row, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (scope, at, _now(), trigger, source, dest, row, reason))
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: cannot record the {scope} breaker's "
                               f"{trigger}: {exc}") from None
        return int(cursor.lastrowid or 0)

    # ----------------------------------------------------------------- reading
    def breaker_records(self, after: int = 0) -> list[BreakerRecord]:
        """The breaker transitions after sequence number ``after``, oldest first (none in a
        journal not created yet, or written before the breakers existed)."""
        if self._conn is None and not self.path.exists():
            return []
        with self._reading("its breaker transitions"):
            known = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='breaker'").fetchone()
            if known is None:
                return []
            return [BreakerRecord(int(r[0]), str(r[1]), float(r[2]), str(r[3]), str(r[4]),
                                  str(r[5]), str(r[6]), int(r[7]), str(r[8]))
                    for r in self._db.execute(
                        "SELECT seq, scope, at, wall, trigger, source, dest, row, reason "
                        "FROM breaker WHERE seq > ? ORDER BY seq", (after,))]

    def entry_ids(self, *, unfinished: bool = False) -> list[str]:
        where = " WHERE final_state IS NULL" if unfinished else ""
        with self._reading("its list of entries"):
            return [str(row[0]) for row in self._db.execute(
                f"SELECT entry_id FROM entries{where} ORDER BY rowid"
            )]

    def unfinished(self) -> list[JournaledEntry]:
        return [self.entry(entry_id) for entry_id in self.entry_ids(unfinished=True)]

    def entry(self, entry_id: str) -> JournaledEntry:
        with self._reading(f"entry {entry_id}"):
            row = self._db.execute(
                "SELECT request, config, origin, version, opened_at, final_state FROM entries "
                "WHERE entry_id = ?", (entry_id,),
            ).fetchone()
            if row is None:
                raise JournalError(f"no entry {entry_id!r} in journal {self.path}")
            request, config, origin, version, opened_at, final_state = row
            records = self._db.execute(
                "SELECT step, kind, type, body, at FROM records WHERE entry_id = ? ORDER BY seq",
                (entry_id,),
            )
            return JournaledEntry(
                entry_id, codec.loads(request, EntryRequest), codec.loads(config, EntryConfig),
                _origin(origin), version, opened_at, final_state,
                tuple(_steps(records)),
            )

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Whatever a damaged file makes SQLite, the decoder or the codec raise, as one
        ``JournalDamaged`` naming the file and the part of it; nothing is written."""
        try:
            yield
        except JournalError:
            raise
        except (UnicodeDecodeError, sqlite3.Error, codec.CodecError, ValueError,
                TypeError) as exc:
            if isinstance(exc, UnicodeDecodeError) or "decode to UTF-8" in str(exc):
                raise JournalDamaged(f"journal {self.path} is damaged: {what} holds text "
                                     "that is not UTF-8 (a flipped byte?)") from None
            raise JournalDamaged(f"journal {self.path} is damaged: cannot read {what}: "
                                 f"{exc}") from None

    def records(self) -> int:
        """How many records the journal holds (events plus commands)."""
        with self._reading("its records"):
            return int(self._db.execute("SELECT count(*) FROM records").fetchone()[0])


def _origin(text: str) -> dict[str, Any]:
    """How to reach the entry's venues again: a JSON object, as ``open_entry`` wrote it."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise codec.CodecError(f"its origin is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise codec.CodecError(f"its origin is a JSON {type(value).__name__}, expected an "
                               "object such as {\"kind\": \"simulated\", ...}")
    return value


def _steps(records: Iterable[tuple[int, str, str, str, float]]) -> Iterator[JournaledStep]:
    """Group records into steps: each step is one event followed by its commands."""
    current: tuple[int, float, ev.Event] | None = None
    commands: list[Command] = []
    for step, kind, type_name, body, at in records:
        value = codec.load_tagged(kind, type_name, body)
        if kind == "event":
            if current is not None:
                yield JournaledStep(current[0], current[1], current[2], tuple(commands))
            current, commands = (step, at, value), []
        elif current is None or current[0] != step:
            raise codec.CodecError(f"command {type_name} of step {step} has no event")
        else:
            commands.append(value)
    if current is not None:
        yield JournaledStep(current[0], current[1], current[2], tuple(commands))
