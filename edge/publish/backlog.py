"""The backlog: events waiting for the broker, in the spool, or in memory while it fails.

When the spool cannot be written (disk full, I/O error, read-only filesystem) an event is
not lost at once: it waits in a bounded queue in memory, in order, behind anything held
before it. Every later `put` and the outbox thread (about once a second) retry the disk;
meanwhile the outbox sends held events from memory like spooled ones, so a broker that
is reachable still gets them. Acknowledgements that cannot be deleted from the disk are
remembered, so an acknowledged event is not sent again in a loop.

What is finally lost is counted by reason and logged once per episode, not per event:

- `full`: the spool reached `max_messages` (its `when_full` policy dropped one);
- `unwritable`: the spool could not be written and the memory queue was full too, or
  the daemon stopped with events still held in memory;
- `unsendable`: MQTT cannot carry the message (too large for the protocol).

While the spool fails or is full, `problem` says so: the health endpoint reports
`degraded` and the retained `<prefix>/status` says `degraded` with the same words.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable

from edge.errors import SpoolError
from edge.publish.spool import Spool, SpooledMessage

logger = logging.getLogger(__name__)

MEMORY_MESSAGES = 1000
"""Events held in memory at most while the spool cannot be written: a rep event is about
1 kB of JSON, so 1 MB; at a few reps a minute per camera, hours of a gym's sets."""
DROP_REASONS = ("full", "unwritable", "unsendable")


class Backlog:
    """The spool plus a bounded memory queue for when it fails; the outbox's only store.

    Thread-safe: the cameras' threads put, the outbox thread reads, acknowledges and
    retries.
    """

    def __init__(self, spool: Spool, memory_messages: int = MEMORY_MESSAGES) -> None:
        """Wraps an open spool.

        Args:
            spool: The spool (owned by the caller, who closes it).
            memory_messages: Events held in memory at most while the spool fails. Beyond
                it the spool's `when_full` policy applies to the memory queue too.
        """
        self.spool = spool
        self._memory_max = memory_messages
        self._lock = threading.RLock()
        self._held: deque[SpooledMessage] = deque()
        self._undeleted: set[str] = set()  # acknowledged, but the delete failed
        self._lost = dict.fromkeys(DROP_REASONS[1:], 0)
        self._failing_since: float | None = None  # monotonic start of the episode
        self._error = ""
        self._episode_drops = 0

    # ------------------------------------------------------------------ writing
    def put(self, key: str, topic: str, payload: str, qos: int) -> bool:
        """Stores an event in the spool, or holds it in memory while the spool fails.

        Returns:
            False if the event was dropped (spool full with `reject_new`, or the spool
            failing and the memory queue full with `reject_new`); True otherwise.
        """
        with self._lock:
            self._retry_locked()
            if self._failing_since is None:
                try:
                    return self.spool.put(key, topic, payload, qos)
                except SpoolError as err:
                    self._start_episode(err)
            return self._hold(SpooledMessage(key, topic, payload, qos, time.time()))

    def _hold(self, message: SpooledMessage) -> bool:
        if any(m.key == message.key for m in self._held):
            return True
        if len(self._held) >= self._memory_max:
            if self.spool.config.when_full == "reject_new" or self._memory_max == 0:
                self._lose("unwritable", message.key)
                return False
            self._lose("unwritable", self._held.popleft().key)
        self._held.append(message)
        return True

    def retry(self) -> None:
        """Tries the disk again for held events and failed deletes (the outbox's timer)."""
        with self._lock:
            self._retry_locked()

    def _retry_locked(self) -> None:
        if self._failing_since is None:
            return
        try:
            if self._undeleted:
                self.spool.ack_many(self._undeleted)
                self._undeleted.clear()
            while self._held:
                message = self._held[0]
                self.spool.put(message.key, message.topic, message.payload, message.qos)
                self._held.popleft()
        except SpoolError as err:
            self._error = _short(err)
            return
        self._end_episode()

    # ------------------------------------------------------------------ reading
    def pending(self, limit: int = 100) -> list[SpooledMessage]:
        """Up to `limit` events, oldest first: the spool's, then those held in memory."""
        with self._lock:
            stored = self.spool.pending(limit + len(self._undeleted))
            out = [m for m in stored if m.key not in self._undeleted][:limit]
            out += list(self._held)[: limit - len(out)]
        return out

    def ack(self, key: str) -> bool:
        """Forgets a delivered event; False if it was not there."""
        return self.ack_many([key]) == 1

    def ack_many(self, keys: Iterable[str]) -> int:
        """Forgets delivered events (memory and disk); returns how many were there."""
        keys = set(keys)
        with self._lock:
            held = len(self._held)
            self._held = deque(m for m in self._held if m.key not in keys)
            found = held - len(self._held)
            keys -= self._undeleted
            try:
                return found + self.spool.ack_many(keys)
            except SpoolError as err:
                # Not deleted now: hidden from pending() and deleted once the disk works.
                if self._failing_since is None:
                    self._start_episode(err)
                self._undeleted |= keys
                return found + len(keys)

    def drop_unsendable(self, key: str) -> None:
        """Drops an event MQTT can never carry (counted as `unsendable`)."""
        self.ack(key)
        with self._lock:
            self._lost["unsendable"] += 1

    def count(self) -> int:
        """Events waiting, on disk and in memory."""
        with self._lock:
            return max(0, self.spool.count() - len(self._undeleted)) + len(self._held)

    @property
    def held(self) -> int:
        """Events held in memory because the spool cannot be written."""
        return len(self._held)

    @property
    def dropped(self) -> int:
        """Events lost since start, every reason."""
        return sum(self.dropped_by_reason().values())

    def dropped_by_reason(self) -> dict[str, int]:
        """Events lost since start by reason (`full`, `unwritable`, `unsendable`)."""
        with self._lock:
            return {"full": self.spool.dropped, **self._lost}

    @property
    def problem(self) -> str | None:
        """Why events are at risk now (the spool fails, or is full); None when all is well."""
        with self._lock:
            if self._failing_since is not None:
                return (
                    f"spool cannot be written ({self._error}): {len(self._held)} events held "
                    f"in memory (at most {self._memory_max}), {self._episode_drops} dropped"
                )
        full = self.spool.full_episode_drops
        if full is not None:
            return f"spool full ({self.spool.config.max_messages} events): {full} dropped"
        return None

    def close(self) -> None:
        """Counts what is still held in memory as lost (it cannot outlive the process)."""
        with self._lock:
            self._retry_locked()
            if self._held:
                logger.error(
                    "stopping with %d events held in memory that the spool could not store: "
                    'they are lost (counted in hinge_spool_dropped_total{reason="unwritable"})',
                    len(self._held),
                )
                self._lost["unwritable"] += len(self._held)
                self._held.clear()

    # ------------------------------------------------------------------ episodes
    def _start_episode(self, err: SpoolError) -> None:
        self._failing_since = time.monotonic()
        self._error = _short(err)
        self._episode_drops = 0
        logger.error(
            "%s; events are held in memory (at most %d) and the spool is retried: nothing "
            "is lost unless that fills",
            err,
            self._memory_max,
        )

    def _lose(self, reason: str, key: str) -> None:
        self._lost[reason] += 1
        self._episode_drops += 1
        if self._episode_drops == 1:  # once per episode; the count says the rest
            logger.error(
                "spool cannot be written and %d events are held in memory: dropping events "
                "(first %s) until the disk works again; counted in "
                'hinge_spool_dropped_total{reason="%s"} and shown in /healthz',
                self._memory_max,
                key,
                reason,
            )

    def _end_episode(self) -> None:
        assert self._failing_since is not None
        logger.warning(
            "spool writable again after %.0f s; %d events were dropped meanwhile",
            time.monotonic() - self._failing_since,
            self._episode_drops,
        )
        self._failing_since = None


def _short(err: SpoolError) -> str:
    """The database's own words (`database or disk is full`), without our advice."""
    cause = err.__cause__
    return str(cause) if cause is not None else str(err)
