"""The reminder ledger: SQLite in the state directory, one file per workbook, one row per (day, recipient, kind).

It is what makes "exactly once" hold across runs, crashes and a second process started by hand:
- `claim` (one IMMEDIATE transaction) decides whether a message may be sent now and marks it `sending`
  with a lease before any byte goes to the server; a second process sees the lease and skips it;
- `finish` commits `sent` right after the server accepted the message, one message at a time, so a crash
  loses at most the one message in flight;
- `sent` is final for the day (force=True resends under a new Message-ID), `refused` (5xx) is final for
  the day too, `deferred`/`error` are retried on the next run.

The window between "server accepted" and "sent committed" is the only place a crash leaves doubt; the row
stays `sending`. We choose **at-least-once** there: once the lease has expired (or its process is gone)
the next run sends it again, under the same Message-ID, so the receiving side can recognise the copy.
A missed reminder is silent; a duplicate with the same Message-ID is visible and usually collapsed.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from addon.config import Config, workbook_key

LEGACY_FILE_NAME = "reminders.sqlite3"  # one ledger for every workbook: a second workbook's reminders were taken as sent
Decision = Literal["send", "already_sent", "already_refused", "in_progress"]
Key = tuple[str, str, str]  # (recipient address, lower-case; kind; ISO day)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    day         TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    customers   TEXT NOT NULL,              -- JSON list of customer keys
    message_id  TEXT NOT NULL,
    outcome     TEXT NOT NULL,              -- sending | sent | deferred | refused | error
    detail      TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    resends     INTEGER NOT NULL DEFAULT 0, -- forced resends (each under a new Message-ID)
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    sent_at     TEXT,
    lease_until TEXT,
    owner       TEXT NOT NULL DEFAULT '',   -- host:pid that holds the `sending` lease
    PRIMARY KEY (day, recipient, kind)
);
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    day         TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_day ON events (day);
"""


@dataclass(frozen=True)
class Entry:
    day: str
    recipient: str
    kind: str
    customers: tuple[str, ...]
    message_id: str
    outcome: str
    detail: str
    attempts: int
    resends: int
    created: str
    updated: str
    sent_at: str | None
    lease_until: str | None
    owner: str

    @property
    def key(self) -> Key:
        return (self.recipient, self.kind, self.day)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    """False only when we can tell: same host, POSIX, and no such process. Elsewhere the lease decides."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or os.name != "posix":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Ledger:
    """One SQLite file; every state change is its own committed transaction."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def for_config(cls, config: Config) -> Ledger:
        path, legacy = ledger_path(config), config.state_path / LEGACY_FILE_NAME
        if not path.exists() and legacy.exists():
            _copy_database(legacy, path)  # keep what the shared ledger knew (at worst today's over-cautious skips)
        return cls(path)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def get(self, key: Key) -> Entry | None:
        row = self._db.execute(
            "SELECT * FROM messages WHERE recipient = ? AND kind = ? AND day = ?", key
        ).fetchone()
        return _entry(row) if row is not None else None

    def entries(self, day: date | None = None) -> list[Entry]:
        if day is None:
            rows = self._db.execute("SELECT * FROM messages ORDER BY day, kind, recipient").fetchall()
        else:
            rows = self._db.execute("SELECT * FROM messages WHERE day = ? ORDER BY kind, recipient", (day.isoformat(),)).fetchall()
        return [_entry(r) for r in rows]

    def events(self, key: Key | None = None) -> list[sqlite3.Row]:
        if key is None:
            return self._db.execute("SELECT * FROM events ORDER BY id").fetchall()
        return self._db.execute(
            "SELECT * FROM events WHERE recipient = ? AND kind = ? AND day = ? ORDER BY id", key
        ).fetchall()

    def claim(
        self,
        key: Key,
        customers: Iterable[str],
        make_id: Callable[[int], str],
        *,
        force: bool = False,
        lease: timedelta = timedelta(minutes=10),
    ) -> tuple[Decision, Entry]:
        """Decide and, when sending, commit `sending` with a lease: the step before any SMTP traffic.

        make_id(resends) gives the Message-ID: a retry keeps the id, a forced resend of a sent (or
        refused) message gets the next one.
        """
        now = self._now()
        stamp = now.isoformat()
        customers_json = json.dumps(list(customers), ensure_ascii=False)
        with self._transaction():
            existing = self.get(key)
            if existing is None:
                message_id = make_id(0)
                self._db.execute(
                    "INSERT INTO messages (day, recipient, kind, customers, message_id, outcome, attempts, resends,"
                    " created, updated, lease_until, owner) VALUES (?, ?, ?, ?, ?, 'sending', 1, 0, ?, ?, ?, ?)",
                    (key[2], key[0], key[1], customers_json, message_id, stamp, stamp, (now + lease).isoformat(), _me()),
                )
            else:
                final = {"sent": "already_sent", "refused": "already_refused"}
                if existing.outcome in final and not force:
                    return final[existing.outcome], existing  # type: ignore[return-value]
                if existing.outcome == "sending" and _lease_held(existing, now):
                    return "in_progress", existing
                resends = existing.resends + (1 if existing.outcome in final else 0)
                message_id = make_id(resends)
                self._db.execute(
                    "UPDATE messages SET customers = ?, message_id = ?, outcome = 'sending', detail = '',"
                    " attempts = attempts + 1, resends = ?, updated = ?, lease_until = ?, owner = ?"
                    " WHERE recipient = ? AND kind = ? AND day = ?",
                    (customers_json, message_id, resends, stamp, (now + lease).isoformat(), _me(), *key),
                )
            self._event(key, message_id, "sending", "", stamp)
        entry = self.get(key)
        assert entry is not None
        return "send", entry

    def finish(self, key: Key, outcome: str, detail: str = "") -> Entry:
        """Commit the result of one attempt: sent | deferred | refused | error."""
        stamp = self._now().isoformat()
        with self._transaction():
            self._db.execute(
                "UPDATE messages SET outcome = ?, detail = ?, updated = ?, lease_until = NULL,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
                " WHERE recipient = ? AND kind = ? AND day = ?",
                (outcome, detail, stamp, outcome, stamp, *key),
            )
            entry = self.get(key)
            self._event(key, entry.message_id if entry else "", outcome, detail, stamp)
        assert entry is not None
        return entry

    def note(self, key: Key, customers: Iterable[str], message_id: str, outcome: str, detail: str) -> None:
        """Record a message that was not attempted (the batch stopped); never overrides sent/refused."""
        stamp = self._now().isoformat()
        with self._transaction():
            existing = self.get(key)
            if existing is not None and existing.outcome in ("sent", "refused", "sending"):
                return
            if existing is None:
                self._db.execute(
                    "INSERT INTO messages (day, recipient, kind, customers, message_id, outcome, detail, attempts,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (key[2], key[0], key[1], json.dumps(list(customers), ensure_ascii=False), message_id, outcome, detail, stamp, stamp),
                )
            else:
                self._db.execute(
                    "UPDATE messages SET outcome = ?, detail = ?, updated = ? WHERE recipient = ? AND kind = ? AND day = ?",
                    (outcome, detail, stamp, *key),
                )
            self._event(key, message_id, outcome, detail, stamp)

    def _event(self, key: Key, message_id: str, outcome: str, detail: str, stamp: str) -> None:
        self._db.execute(
            "INSERT INTO events (at, day, recipient, kind, message_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stamp, key[2], key[0], key[1], message_id, outcome, detail),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT: the write lock is taken before reading, so two runs cannot both claim."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _lease_held(entry: Entry, now: datetime) -> bool:
    if not entry.lease_until:
        return False
    if datetime.fromisoformat(entry.lease_until) <= now:
        return False
    return _owner_alive(entry.owner)


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        day=row["day"],
        recipient=row["recipient"],
        kind=row["kind"],
        customers=tuple(json.loads(row["customers"])),
        message_id=row["message_id"],
        outcome=row["outcome"],
        detail=row["detail"],
        attempts=row["attempts"],
        resends=row["resends"],
        created=row["created"],
        updated=row["updated"],
        sent_at=row["sent_at"],
        lease_until=row["lease_until"],
        owner=row["owner"],
    )


def ledger_path(config: Config) -> Path:
    """The workbook's own ledger: two workbooks may owe the same person the same kind of message on one day."""
    return config.state_path / f"reminders-{workbook_key(config)}.sqlite3"


def known_ledger_path(config: Config) -> Path | None:
    """The ledger that holds what was sent for this workbook, to read without creating or copying anything:
    its own, else the shared one of earlier versions, else None."""
    for path in (ledger_path(config), config.state_path / LEGACY_FILE_NAME):
        if path.exists():
            return path
    return None


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy even while another process writes `source`; appears under its name only when complete."""
    partial = target.with_name(target.name + ".partial")
    with sqlite3.connect(str(source), timeout=30) as src, sqlite3.connect(str(partial)) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    os.replace(partial, target)
