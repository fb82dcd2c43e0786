"""The hub's writes: every event once, the daily summaries with it, the live state.

`Store.ingest_batch(messages)` writes a batch of MQTT messages in ONE transaction:

1. events, sorted by id: `INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`. Only an
   event this transaction really inserted changes anything else, so a redelivery, or a
   second worker writing the same event at the same moment (it waits on the first one's
   key, then finds it there), changes nothing.
2. summaries (docs: /work/notes/chain-plan.md "Summaries"): new reps get their `reps`
   row, with any rep_update that came before them applied; a new rep_update revises its
   rep if the rep is there (else it waits in events); sets add to their day. The deltas
   go to `platform_days` and `platform_day_faults` (each code once per rep). A rep and
   its update written by two workers at once are serialised by an advisory lock on the
   rep's id, so each sees the other's row once it has committed.
3. live state: `boxes` and `cameras`, the newest by the message's own time wins (a late,
   retained or redelivered old status changes nothing); `boxes.last_seen` moves forward
   with every message.

Rows are locked in one global order in every transaction (event ids, rep ids, platform
days, fault rows, boxes, cameras), so workers never deadlock one another. A message that
cannot be stored (not JSON, not the contract, a value PostgreSQL refuses) is `MALFORMED`:
logged, counted, acknowledged like the rest, never retried. A lost database raises
`DatabaseUnavailable`; nothing of the batch is committed and the caller retries it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from edge.errors import HubError
from edge.hub.messages import (
    BoxStatus,
    CameraDoc,
    EventRow,
    Heartbeat,
    Malformed,
    Parsed,
    read_message,
)
from edge.hub.migrate import migrate
from edge.hub.summaries import Deltas, RepState, apply_updates

logger = logging.getLogger(__name__)

_LOG_MALFORMED_FIRST = 20  # then every 100th: a misbehaving box must not flood the log


class Outcome(StrEnum):
    """What became of one message."""

    INSERTED = "inserted"  # a new event, stored and summarised
    DUPLICATE = "duplicate"  # an event already stored (a redelivery, another worker)
    APPLIED = "applied"  # a status, state or stats message written
    STALE = "stale"  # a status or state older than the one stored
    MALFORMED = "malformed"  # cannot be stored: logged and counted


class DatabaseUnavailable(HubError):
    """PostgreSQL cannot be reached or went away; nothing of the batch was committed."""


@dataclass(frozen=True)
class Message:
    """One MQTT message as the worker hands it over."""

    topic: str
    payload: bytes
    received: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Counts:
    """Messages by outcome since the store was made."""

    inserted: int = 0
    duplicate: int = 0
    applied: int = 0
    stale: int = 0
    malformed: int = 0

    def add(self, outcomes: Iterable[Outcome]) -> None:
        """Counts a batch's outcomes."""
        for outcome in outcomes:
            setattr(self, outcome.value, getattr(self, outcome.value) + 1)


def rep_lock_key(rep_id: str) -> int:
    """The advisory lock key (signed 64-bit) of a rep: its id's first 8 bytes of SHA-1."""
    return int.from_bytes(hashlib.sha1(rep_id.encode()).digest()[:8], "big", signed=True)


class Store:
    """A hub worker's connection to PostgreSQL and the writes above; one thread uses it."""

    def __init__(self, conninfo: str, *, timezone: str = "UTC", topic_prefix: str = "hinge"):
        """Nothing connects before the first call.

        Args:
            conninfo: libpq connection string (`DatabaseConfig.conninfo()`).
            timezone: IANA zone whose dates are the summaries' days.
            topic_prefix: The boxes' upstream topic prefix.
        """
        self._conninfo = conninfo
        self.timezone = ZoneInfo(timezone)
        self.prefix = topic_prefix
        self.counts = Counts()
        self._conn: psycopg.Connection | None = None

    # ------------------------------------------------------------ connection
    def connection(self) -> psycopg.Connection:
        """The open connection (opened now if needed).

        Raises:
            DatabaseUnavailable: PostgreSQL cannot be reached.
        """
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self._conninfo)
            except psycopg.OperationalError as err:
                raise DatabaseUnavailable(
                    f"cannot connect to PostgreSQL: {_first_line(err)}"
                ) from None
        return self._conn

    def migrate(self) -> list[int]:
        """Applies the schema migrations (under the advisory lock); returns those applied."""
        conn = self.connection()
        conn.autocommit = True
        try:
            return migrate(conn)
        finally:
            conn.autocommit = False

    def close(self) -> None:
        """Closes the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ ingest
    def ingest(self, topic: str, payload: bytes) -> Outcome:
        """Writes one message in its own transaction (see `ingest_batch`)."""
        return self.ingest_batch([Message(topic, payload)])[0]

    def ingest_batch(self, messages: Sequence[Message]) -> list[Outcome]:
        """Writes a batch in one transaction; one outcome per message, in order.

        Raises:
            DatabaseUnavailable: The database went away; nothing was committed: retry.
        """
        parsed = [self._read(m) for m in messages]
        try:
            outcomes = self._write(parsed)
        except psycopg.OperationalError as err:
            self.close()
            raise DatabaseUnavailable(f"PostgreSQL went away: {_first_line(err)}") from None
        self.counts.add(outcomes)
        return outcomes

    def _read(self, message: Message) -> Parsed | Malformed:
        try:
            return read_message(
                message.topic, message.payload, self.prefix, self.timezone, message.received
            )
        except Malformed as err:
            self._log_malformed(message.topic, str(err))
            return err

    def _log_malformed(self, topic: str, why: str) -> None:
        seen = self.counts.malformed  # counted after the batch: close enough for a rate limit
        if seen < _LOG_MALFORMED_FIRST or seen % 100 == 0:
            logger.warning("malformed message on %s, dropped: %s", topic, why)

    def _write(self, parsed: list[Parsed | Malformed]) -> list[Outcome]:
        """One transaction; retried once per message alone if PostgreSQL refuses a value."""
        for attempt in range(3):
            try:
                return self._transaction(parsed)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                logger.warning("batch rolled back by a lock conflict, retrying (%d)", attempt + 1)
            except psycopg.OperationalError:
                raise
            except psycopg.Error as err:
                if len(parsed) == 1:
                    self._log_malformed("(one of the batch)", f"refused by PostgreSQL: {err}")
                    return [Outcome.MALFORMED]
                return [self._write([p])[0] for p in parsed]  # find the one refused
        return self._transaction(parsed)

    def _transaction(self, parsed: list[Parsed | Malformed]) -> list[Outcome]:
        conn = self.connection()
        outcomes = [
            Outcome.MALFORMED if isinstance(p, Malformed) else Outcome.APPLIED for p in parsed
        ]
        events = {}
        for index, item in enumerate(parsed):
            if isinstance(item, EventRow):
                if item.id in events:
                    outcomes[index] = Outcome.DUPLICATE
                else:
                    events[item.id] = index
        with conn.transaction(), conn.cursor() as cur:
            rows = [parsed[i] for i in events.values()]
            inserted = _insert_events(cur, rows)  # type: ignore[arg-type]
            for event_id, index in events.items():
                outcomes[index] = Outcome.INSERTED if event_id in inserted else Outcome.DUPLICATE
            new = [row for row in rows if row.id in inserted]  # type: ignore[union-attr]
            _tally_sequences(cur, new)  # type: ignore[arg-type]
            _summarise(cur, new)  # type: ignore[arg-type]
            _live_state(cur, parsed, outcomes)
        return outcomes

    def recount(self) -> list[str]:
        """Differences between the stored summaries and a recount from events (none: [])."""
        from edge.hub.recount import recount

        conn = self.connection()
        with conn.transaction():
            return recount(conn)


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


# ---------------------------------------------------------------- 1. events
_INSERT_EVENTS = """
INSERT INTO events (id, kind, gym, box, camera, seq, ts, day, payload)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                     %s::bigint[], %s::timestamptz[], %s::date[], %s::jsonb[])
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


def _insert_events(cur: psycopg.Cursor, rows: list[EventRow]) -> set[str]:
    """Inserts the rows in id order (the lock order); returns the ids really inserted."""
    if not rows:
        return set()
    rows = sorted(rows, key=lambda r: r.id)
    columns = [
        [r.id for r in rows],
        [r.kind for r in rows],
        [r.gym for r in rows],
        [r.box for r in rows],
        [r.camera for r in rows],
        [r.seq for r in rows],
        [r.ts for r in rows],
        [r.day for r in rows],
        [Jsonb(r.payload) for r in rows],
    ]
    cur.execute(_INSERT_EVENTS, columns)
    return {row[0] for row in cur.fetchall()}


_TALLY_SEQUENCES = """
INSERT INTO box_sequences AS s (gym, box, first_seq, last_seq, events)
SELECT gym, box, min(seq), max(seq), count(*)
FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS n(gym, box, seq)
GROUP BY gym, box ORDER BY gym, box
ON CONFLICT (gym, box) DO UPDATE SET
    first_seq = least(s.first_seq, excluded.first_seq),
    last_seq = greatest(s.last_seq, excluded.last_seq),
    events = s.events + excluded.events
"""


def _tally_sequences(cur: psycopg.Cursor, new: list[EventRow]) -> None:
    """Each box's first and last number and how many it has (box rows in one order)."""
    numbered = [row for row in new if row.seq is not None]
    if numbered:
        columns = [[r.gym for r in numbered], [r.box for r in numbered], [r.seq for r in numbered]]
        cur.execute(_TALLY_SEQUENCES, columns)


# ---------------------------------------------------------------- 2. summaries
_PENDING_UPDATES = """
SELECT id, ts, payload FROM events
WHERE kind = 'rep_update' AND payload ->> 'rep_id' = ANY(%s)
"""
_STORED_REPS = """
SELECT r.id, r.gym, r.camera, r.day, r.score, r.faults, r.updated_by, u.ts
FROM reps r LEFT JOIN events u ON u.id = r.updated_by
WHERE r.id = ANY(%s)
"""


def _summarise(cur: psycopg.Cursor, new: list[EventRow]) -> None:
    reps = [e for e in new if e.kind == "rep"]
    updates = [e for e in new if e.kind == "rep_update"]
    deltas = Deltas()
    for s in (e for e in new if e.kind == "set"):
        deltas.add_set(s.gym, s.camera, s.day, s.set_seconds)
    keys = sorted(
        {rep_lock_key(r.id) for r in reps} | {rep_lock_key(u.rep_id or "") for u in updates}
    )
    if keys:
        cur.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) k", [keys])
    new_ids = {r.id for r in reps}
    if reps:
        _new_reps(cur, reps, deltas)
    later = [u for u in updates if u.rep_id not in new_ids]  # a new rep took its own above
    if later:
        _revise_reps(cur, later, deltas)
    deltas.write(cur)


def _new_reps(cur: psycopg.Cursor, reps: list[EventRow], deltas: Deltas) -> None:
    """Inserts the reps rows, each with the updates that came before it applied."""
    cur.execute(_PENDING_UPDATES, [[r.id for r in reps]])
    waiting: dict[str, list[tuple[str, datetime, dict]]] = {}
    for update_id, ts, payload in cur.fetchall():
        waiting.setdefault(payload["rep_id"], []).append((update_id, ts, payload))
    rows = []
    for rep in reps:
        state = RepState(rep.score, rep.codes, None, None)
        state = apply_updates(state, waiting.get(rep.id, []))
        deltas.add_rep(rep.gym, rep.camera, rep.day, None, state)
        rows.append(
            (rep.id, rep.gym, rep.box, rep.camera, rep.day, rep.ts, rep.set_id, rep.exercise,
             state.score, list(state.codes), state.updated_by)
        )  # fmt: skip
    cur.executemany(
        "INSERT INTO reps (id, gym, box, camera, day, ts, set_id, exercise, score, faults, "
        "updated_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )


def _revise_reps(cur: psycopg.Cursor, updates: list[EventRow], deltas: Deltas) -> None:
    """Applies new updates to reps already stored; an update without its rep waits."""
    cur.execute(_STORED_REPS, [sorted({u.rep_id or "" for u in updates})])
    changed = []
    for rep_id, gym, camera, day, score, faults, updated_by, updated_ts in cur.fetchall():
        old = RepState(score, tuple(faults), updated_by, updated_ts)
        mine = [(u.id, u.ts, u.payload) for u in updates if u.rep_id == rep_id]
        new = apply_updates(old, mine)
        deltas.add_rep(gym, camera, day, old, new)
        changed.append((new.score, list(new.codes), new.updated_by, rep_id))
    cur.executemany(
        "UPDATE reps SET score = %s, faults = %s, updated_by = %s WHERE id = %s", changed
    )


# ---------------------------------------------------------------- 3. live state
_BOX_STATUS = """
INSERT INTO boxes AS b (gym, box, status, run_id, version, problem, since, last_seen)
VALUES (%(gym)s, %(box)s, %(status)s, %(run_id)s, %(version)s, %(problem)s, %(at)s, %(at)s)
ON CONFLICT (gym, box) DO UPDATE SET
    status = EXCLUDED.status, run_id = EXCLUDED.run_id, version = EXCLUDED.version,
    problem = EXCLUDED.problem, since = EXCLUDED.since,
    last_seen = GREATEST(b.last_seen, EXCLUDED.last_seen)
WHERE b.since IS NULL OR b.since <= EXCLUDED.since
   -- a new run after a last will: the box's clock may be behind the hub's
   OR (b.status = 'offline' AND EXCLUDED.status <> 'offline' AND b.run_id <> EXCLUDED.run_id)
RETURNING 1
"""
_BOX_SEEN = """
INSERT INTO boxes AS b (gym, box, status, last_seen) VALUES (%(gym)s, %(box)s, 'unknown', %(at)s)
ON CONFLICT (gym, box) DO UPDATE SET last_seen = GREATEST(b.last_seen, EXCLUDED.last_seen)
RETURNING 1
"""
_BOX_ALIVE = """
UPDATE boxes SET status = 'online', problem = NULL, since = %(received)s
WHERE gym = %(gym)s AND box = %(box)s AND status = 'offline' AND run_id = %(run_id)s
  AND since < %(received)s
RETURNING 1
"""
"""A heartbeat after its own run's last will: the will was stale (a QoS 1 message the
broker delivered again after the box had reconnected; the will has no time of its own, so
it is dated when the hub got it). A QoS 0 heartbeat is never re-sent, so it proves the box
connected now. A box that was `degraded` shows `online` until its next status."""
_CAMERA_DOC = """
INSERT INTO cameras AS c (gym, camera, box, {which}, updated)
VALUES (%(gym)s, %(camera)s, %(box)s, %(doc)s, %(at)s)
ON CONFLICT (gym, camera) DO UPDATE SET
    box = EXCLUDED.box, {which} = EXCLUDED.{which},
    updated = GREATEST(c.updated, EXCLUDED.updated)
WHERE c.{which} IS NULL OR (c.{which} ->> 'ts')::timestamptz <= EXCLUDED.updated
RETURNING 1
"""
_CAMERA_SQL = {which: _CAMERA_DOC.format(which=which) for which in ("status", "state")}


def _live_state(
    cur: psycopg.Cursor, parsed: list[Parsed | Malformed], outcomes: list[Outcome]
) -> None:
    """Boxes (sorted by gym, box), then cameras (by gym, camera): the lock order."""
    boxes, cameras, seen, alive = _sightings(parsed)
    for key, index, status in sorted(boxes, key=lambda b: (b[0], b[1] < 0)):
        if status is None:
            cur.execute(_BOX_SEEN, {"gym": key[0], "box": key[1], "at": seen[key]})
            if key in alive:
                cur.execute(_BOX_ALIVE, vars(alive[key]))
        elif not _applied(cur, _BOX_STATUS, vars(status)):
            outcomes[index] = Outcome.STALE
    for _, index, doc in sorted(cameras, key=lambda c: (c[0], c[1])):
        params = {**vars(doc), "doc": Jsonb(doc.doc)}
        if not _applied(cur, _CAMERA_SQL[doc.which], params):
            outcomes[index] = Outcome.STALE


_BoxEntry = tuple[tuple[str, str], int, BoxStatus | None]
_CameraEntry = tuple[tuple[str, str], int, CameraDoc]


def _sightings(
    parsed: list[Parsed | Malformed],
) -> tuple[
    list[_BoxEntry],
    list[_CameraEntry],
    dict[tuple[str, str], datetime],
    dict[tuple[str, str], Heartbeat],
]:
    """What a batch says about boxes and cameras, for `_live_state`.

    Box statuses and camera documents with their index in the batch, each box's latest
    time seen (a `None` entry after its statuses: the sort is stable), its latest heartbeat.
    """
    seen: dict[tuple[str, str], datetime] = {}
    alive: dict[tuple[str, str], Heartbeat] = {}
    boxes: list[_BoxEntry] = []
    cameras: list[_CameraEntry] = []
    for index, item in enumerate(parsed):
        if isinstance(item, BoxStatus):
            boxes.append(((item.gym, item.box), index, item))
        elif isinstance(item, EventRow | CameraDoc | Heartbeat):
            key = (item.gym, item.box)
            at = item.ts if isinstance(item, EventRow) else item.at
            seen[key] = max(at, seen.get(key, at))
            if isinstance(item, Heartbeat):
                alive[key] = item
            elif isinstance(item, CameraDoc):
                cameras.append(((item.gym, item.camera), index, item))
    return boxes + [(key, -1, None) for key in seen], cameras, seen, alive


def _applied(cur: psycopg.Cursor, sql: str, params: dict) -> bool:
    cur.execute(sql, params)
    return cur.fetchone() is not None


def wait_for_database(store: Store, timeout_s: float) -> None:
    """Connects, retrying until `timeout_s` (PostgreSQL starting with the hub).

    Raises:
        DatabaseUnavailable: Still unreachable at the deadline.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            store.connection()
            return
        except DatabaseUnavailable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
