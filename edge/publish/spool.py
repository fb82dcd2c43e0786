"""The outbox: events waiting for the broker's acknowledgement, kept on disk in SQLite.

An event is written here before it is handed to MQTT and deleted only when the broker has
acknowledged it, so a broker outage, a lost network or a killed daemon loses nothing that
was `put()` (a restart sends what is left; consumers drop duplicates by `id`).

Durability: WAL journal with `synchronous=FULL`. WAL alone (`NORMAL`) already survives a
killed process, since every commit is in the WAL file before `put()` returns; `FULL` adds
an fsync per commit so a power cut (the common failure of a box in a gym) cannot roll back
events that were reported stored. The cost, one fsync per event and per acknowledgement
batch, is nothing at rep rates (a few per second).

A spool that SQLite cannot read as a database (corrupt, truncated, not a database), or
that another version of hinge-edge wrote in another format, is moved aside as
`<name>.corrupt-<UTC time>` and a new one started, logged as an error: an unattended
camera box should keep coaching and publishing rather than stop until someone logs in,
and the old file is kept for inspection, not deleted. A spool that cannot be opened at
all (permissions, a missing disk, held by another process) raises `SpoolError`,
since moving it aside could not help.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.errors import SpoolError
from edge.publish.config import SpoolConfig

logger = logging.getLogger(__name__)

SPOOL_FILE = "outbox.sqlite3"
_FILE_FORMAT = 1
"""The spool file's own format (SQLite `user_version`), not the payloads' schema version."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the send order
    key TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    qos INTEGER NOT NULL,
    created_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (  -- the box's event sequence (edge/publish/sequence.py)
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class SpooledMessage:
    """One message waiting in the spool.

    Attributes:
        key: The stable id it was put with (the event's `id`).
        topic: MQTT topic.
        payload: JSON text.
        qos: MQTT QoS to publish with.
        created_s: Wall-clock time it was spooled (Unix seconds).
    """

    key: str
    topic: str
    payload: str
    qos: int
    created_s: float


class Spool:
    """A bounded, durable, idempotent outbox in `<spool.path>/outbox.sqlite3`.

    Thread-safe (one connection behind a lock). One process at a time: the database is
    opened in exclusive locking mode, so a second daemon on the same directory fails
    clearly instead of sending the same events twice.
    """

    def __init__(self, config: SpoolConfig) -> None:
        """Opens (or creates) the spool.

        Args:
            config: The `spool` section: the folder of the spool file (created if
                missing), `max_messages` kept at most, and what happens beyond it
                (`when_full`): `drop_oldest` drops the oldest message to make room,
                `reject_new` refuses the new one. Either way the drop is counted in
                `dropped`; the first of each full episode is logged with its key.

        Raises:
            SpoolError: The folder or file cannot be created, opened or locked.
        """
        self.config = config
        self.path = config.path / SPOOL_FILE
        self.dropped = 0
        self.full_episode_drops: int | None = None  # while full: dropped so far, else None
        self._lock = threading.Lock()
        self._db = self._open()
        self._count = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        if self._count:
            logger.info("spool %s holds %d unsent messages", self.path, self._count)

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SpoolError(
                f"cannot create the spool folder {self.path.parent}: {err}; "
                "point the spool directory at a writable folder"
            ) from err
        try:
            return self._connect()
        except sqlite3.DatabaseError as err:
            if _is_locked(err) or not _is_corrupt(err):
                raise self._open_error(err) from err
            self._move_aside(err)
        try:
            return self._connect()
        except sqlite3.DatabaseError as err:
            raise self._open_error(err) from err

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False, isolation_level=None)
        try:
            # Exclusive mode: the lock is taken by the first access below and held until
            # close, and the WAL index lives in memory (no -shm file).
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _UnusableError(f"integrity check failed: {check}")
            db.executescript(_SCHEMA)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                db.execute(f"PRAGMA user_version={_FILE_FORMAT}")
            elif version != _FILE_FORMAT:
                raise _UnusableError(
                    f"spool format {version}, this hinge-edge reads {_FILE_FORMAT}"
                )
        except BaseException:
            db.close()
            raise
        return db

    def _open_error(self, err: sqlite3.DatabaseError) -> SpoolError:
        if _is_locked(err):
            return SpoolError(
                f"spool {self.path} is locked by another process: is another hinge-edge "
                "running with the same spool directory? Give each daemon its own"
            )
        return SpoolError(
            f"cannot open the spool {self.path}: {err}; check that the folder is writable "
            "by this user and the disk is not full"
        )

    def _move_aside(self, err: sqlite3.DatabaseError) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for suffix in ("", "-wal", "-shm"):
            src = self.path.with_name(self.path.name + suffix)
            try:
                if src.exists():
                    src.rename(self.path.with_name(f"{self.path.name}.corrupt-{stamp}{suffix}"))
            except OSError as move_err:
                raise SpoolError(
                    f"spool {self.path} is unreadable ({err}) and cannot be moved aside "
                    f"({move_err}): move or delete it by hand"
                ) from move_err
        logger.error(
            "spool %s is unreadable (%s): moved aside as %s.corrupt-%s and started empty; "
            "events that were waiting in it are not sent (inspect or delete the old file)",
            self.path,
            err,
            self.path.name,
            stamp,
        )

    def put(self, key: str, topic: str, payload: str, qos: int) -> bool:
        """Stores a message unless its key is already there (idempotent on `key`).

        Returns:
            True if the message is in the spool after the call (stored now or earlier);
            False if the spool was full and the policy is `reject_new`.

        Raises:
            SpoolError: The database could not be written (disk full, I/O error).
        """
        with self._lock, self._writing():
            exists = self._db.execute("SELECT 1 FROM outbox WHERE key = ?", (key,)).fetchone()
            if exists:
                return True
            if self._count >= self.config.max_messages and not self._make_room(key):
                return False
            self._db.execute(
                "INSERT INTO outbox (key, topic, payload, qos, created_s) VALUES (?, ?, ?, ?, ?)",
                (key, topic, payload, qos, time.time()),
            )
            self._count += 1
            return True

    def _make_room(self, key: str) -> bool:
        """Applies the full policy (inside put's transaction); True if `key` may go in."""
        if self.config.when_full == "reject_new":
            self.dropped += 1
            self._note_full(f"rejected new {key}", 1)
            return False
        excess = self._count - self.config.max_messages + 1  # 1 unless max_messages was lowered
        rows = self._db.execute(
            "SELECT seq, key FROM outbox ORDER BY seq LIMIT ?", (excess,)
        ).fetchall()
        self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq, _ in rows])
        self._count -= len(rows)
        self.dropped += len(rows)
        self._note_full(f"dropped oldest {rows[0][1]}", len(rows))
        return True

    def _note_full(self, what: str, dropped: int) -> None:
        """Counts drops of this full episode; logs its first only (not one line per event)."""
        if self.full_episode_drops is None:
            self.full_episode_drops = 0
            logger.warning(
                "spool full (%d messages): %s, and so on until the broker takes events "
                'again; counted in hinge_spool_dropped_total{reason="full"}',
                self.config.max_messages,
                what,
            )
        self.full_episode_drops += dropped

    def pending(self, limit: int = 100) -> list[SpooledMessage]:
        """Up to `limit` messages, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, topic, payload, qos, created_s FROM outbox ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [SpooledMessage(*row) for row in rows]

    def ack(self, key: str) -> bool:
        """Deletes a delivered message; False if it was not there (already acked or dropped)."""
        return self.ack_many([key]) == 1

    def ack_many(self, keys: Iterable[str]) -> int:
        """Deletes delivered messages in one transaction; returns how many were there."""
        keys = list(keys)
        if not keys:
            return 0
        with self._lock, self._writing():
            cursor = self._db.executemany("DELETE FROM outbox WHERE key = ?", [(k,) for k in keys])
            self._count -= cursor.rowcount
        if self.full_episode_drops is not None and self._count < self.config.max_messages:
            logger.info(
                "spool has room again; %d events were dropped while it was full",
                self.full_episode_drops,
            )
            self.full_episode_drops = None
        return cursor.rowcount

    def count(self) -> int:
        """Messages waiting."""
        return self._count

    def counter(self, name: str) -> int:
        """A counter kept beside the messages (0 until first saved)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def save_counter(self, name: str, value: int) -> None:
        """Saves a counter durably (as durable as a `put`).

        Raises:
            SpoolError: The database could not be written (disk full, I/O error).
        """
        with self._lock, self._writing():
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def close(self) -> None:
        """Closes the database (releases the lock); the spool cannot be used afterwards."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction; on a database error the count is re-read, SpoolError raised."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as err:
            self._count = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
            raise SpoolError(
                f"cannot write to the spool {self.path}: {err}; check free disk space"
            ) from err

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _UnusableError(sqlite3.DatabaseError):
    """The file opens as SQLite but fails the integrity check or has another format."""


def _is_locked(err: sqlite3.DatabaseError) -> bool:
    return "locked" in str(err) or "busy" in str(err)


def _is_corrupt(err: sqlite3.DatabaseError) -> bool:
    text = str(err)
    return (
        isinstance(err, _UnusableError)
        or "not a database" in text
        or "malformed" in text
        or "corrupt" in text
    )
