"""The `mqtt-outbox` thread: the only place that hands events and retained values to paho.

paho's network thread only queues its reports here (connected, disconnected, message id
acknowledged): paho calls `on_publish` with its own message lock held, so work there that
took our locks could deadlock against a `publish()` call made under them. One thread owns
the in-flight bookkeeping, so no lock guards it.

In flight = handed to paho, not yet acknowledged (mid -> spool key). paho keeps QoS 1/2
messages across reconnects and sends them again itself, so the outbox sends from the
spool only keys that are not in flight; and it hands nothing to paho while offline
(paho's `MQTT_ERR_NO_CONN` return means "queued", not "failed").
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from edge.publish.backlog import Backlog

logger = logging.getLogger(__name__)

MAX_IN_FLIGHT = 100  # events handed to paho and not yet acknowledged (bounds paho's queue)
CONNECT, DISCONNECT, ACK, WAKE, STOPPING, EXIT = range(6)


@dataclass(frozen=True)
class _Retained:
    """A retained message in flight: which topic, what value, sent in which connection."""

    topic: str
    payload: str
    qos: int
    connection: int


class Outbox:
    """Sends spooled events and retained latest values; turns acknowledgements into acks."""

    def __init__(
        self,
        client: mqtt.Client,
        spool: Backlog,
        status_topic: str,
        online_payload: Callable[[str | None], str],
        qos: int,
    ) -> None:
        """Prepares the thread (not started).

        Args:
            client: The paho client (its loop runs elsewhere).
            spool: Where events wait (the spool, or memory while it fails).
            status_topic: `<prefix>/status`, published first on every connect.
            online_payload: Builds the status of a working daemon from the backlog's
                `problem`: `online`, or `degraded` with the problem (called on every
                connect, and whenever the problem changes).
            qos: QoS of retained state topics (the status always goes at QoS 1).
        """
        self._client, self._spool = client, spool
        self._status_topic, self._online_payload, self._qos = status_topic, online_payload, qos
        self._signals: deque[tuple[int, int]] = deque()
        self._wakeup = threading.Condition()
        self._drained = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-outbox", daemon=True)
        # Shared with callers, under _latest_lock:
        self._latest_lock = threading.Lock()
        self._latest: dict[str, str] = {}
        self._dirty: list[str] = []
        self._hold_status = False  # stop() has set `stopped`: a late reconnect keeps it
        # Owned by the outbox thread (read elsewhere only for stats):
        self._online = False
        self._stopping = False
        self._connection = 0  # connections made so far (the current one's number)
        self._announced_problem: str | None = None
        self._in_flight: dict[int, tuple[str, int]] = {}  # mid -> (key, qos)
        self._in_flight_keys: set[str] = set()
        self._retained_in_flight: dict[int, _Retained] = {}
        self.reconnects = 0
        self.published = 0

    @property
    def in_flight(self) -> int:
        """Events handed to paho and not yet acknowledged."""
        return len(self._in_flight)

    def start(self) -> None:
        """Starts the thread."""
        self._thread.start()

    def notify(self, kind: int, value: int = 0) -> None:
        """Queues a report (CONNECT, DISCONNECT, ACK mid, WAKE) for the thread."""
        with self._wakeup:
            self._signals.append((kind, value))
            self._wakeup.notify()

    def set_latest(self, topic: str, payload: str, *, final: bool = False) -> None:
        """Records a retained value; sent now if connected and again on every connect.

        Args:
            topic: Retained topic.
            payload: Its latest value.
            final: This is the last status (`stopped`): later connects must not replace it.
        """
        with self._latest_lock:
            self._latest[topic] = payload
            self._dirty.append(topic)
            self._hold_status = self._hold_status or final
        self.notify(WAKE)

    def finish(self, timeout_s: float) -> bool:
        """Waits for in-flight messages (while connected), then ends the thread.

        Returns:
            True if everything was acknowledged, or nothing more could be sent (offline).
        """
        if not self._thread.is_alive():
            return True
        self.notify(STOPPING)
        done = self._drained.wait(timeout_s)
        self.notify(EXIT)
        self._thread.join(timeout_s)
        return done

    def _run(self) -> None:
        while True:
            with self._wakeup:
                if not self._signals:
                    self._wakeup.wait(1.0)
                signals = list(self._signals)
                self._signals.clear()
            try:
                if not self._step(signals):
                    return
            except Exception:  # the thread's top loop: report, keep going
                logger.exception("MQTT outbox step failed; retrying")

    def _step(self, signals: list[tuple[int, int]]) -> bool:
        """Handles queued reports, then sends; False once told to exit."""
        acked: list[str] = []
        for kind, value in signals:
            if kind == EXIT:
                return False
            if kind == ACK:
                acked += self._handle_ack(value)
            else:
                self._handle_control(kind)
        if acked:
            self.published += len(acked)  # acknowledged, even if dropped from the spool since
            self._spool.ack_many(acked)
        self._spool.retry()  # events held in memory, while the spool cannot be written
        self._refresh_status()
        if self._online:
            self._send_retained()
            self._drain()
        if self._stopping and self._is_idle():
            self._drained.set()
        return True

    def _handle_control(self, kind: int) -> None:
        if kind == CONNECT:
            self._connection += 1
            if self._connection > 1:
                self.reconnects += 1
            self._online = True
            self._announce()
        elif kind == DISCONNECT:
            self._online = False
            # paho drops unsent QoS 0 packets on reconnect without calling on_publish:
            # forget them, so the spool sends those events again.
            for mid in [m for m, (_, qos) in self._in_flight.items() if qos == 0]:
                self._in_flight_keys.discard(self._in_flight.pop(mid)[0])
            for mid in [m for m, r in self._retained_in_flight.items() if r.qos == 0]:
                del self._retained_in_flight[mid]
        elif kind == STOPPING:
            self._stopping = True

    def _refresh_status(self) -> None:
        """Publishes `degraded` (or `online` again) when the backlog's problem changes."""
        problem = self._spool.problem
        if (problem is None) == (self._announced_problem is None):
            return  # the same state (the counts in its words may move; not worth a message)
        self._announced_problem = problem
        with self._latest_lock:
            if self._hold_status:
                return
            self._latest[self._status_topic] = self._online_payload(problem)
            self._dirty.append(self._status_topic)

    def _announce(self) -> None:
        """On every connect: `online` first, then every retained latest value again."""
        self._announced_problem = self._spool.problem
        online = self._online_payload(self._announced_problem)
        with self._latest_lock:
            if not self._hold_status:
                self._latest[self._status_topic] = online
            self._dirty = [self._status_topic, *self._latest]

    def _send_retained(self) -> None:
        with self._latest_lock:
            dirty, self._dirty = self._dirty, []
            values = [(topic, self._latest[topic]) for topic in dict.fromkeys(dirty)]
        for topic, payload in values:
            qos = 1 if topic == self._status_topic else self._qos
            info = self._client.publish(topic, payload, qos=qos, retain=True)
            self._retained_in_flight[info.mid] = _Retained(topic, payload, qos, self._connection)

    def _handle_ack(self, mid: int) -> list[str]:
        """The spool key acknowledged by `mid`, if it was an event."""
        if mid in self._in_flight:
            key, _ = self._in_flight.pop(mid)
            self._in_flight_keys.discard(key)
            return [key]
        retained = self._retained_in_flight.pop(mid, None)
        if retained is not None and retained.connection < self._connection:
            # paho re-sent an older value after a reconnect, possibly after the newer one
            # we published on connect: publish the latest again so it ends up retained.
            with self._latest_lock:
                if self._latest.get(retained.topic) != retained.payload:
                    self._dirty.append(retained.topic)
        return []

    def _drain(self) -> None:
        """Hands the oldest spooled events that are not in flight to paho, up to the window."""
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return
        # The oldest rows are mostly the ones in flight: read past them.
        for msg in self._spool.pending(limit=len(self._in_flight) + room):
            if msg.key in self._in_flight_keys:
                continue
            try:
                info = self._client.publish(msg.topic, msg.payload, qos=msg.qos)
            except ValueError as err:  # a message paho can never send: do not retry forever
                logger.error("dropping spooled event %s: MQTT cannot carry it (%s)", msg.key, err)
                self._spool.drop_unsendable(msg.key)
                continue
            # rc MQTT_ERR_NO_CONN (connection just lost) still means queued by paho.
            self._in_flight[info.mid] = (msg.key, msg.qos)
            self._in_flight_keys.add(msg.key)
            room -= 1
            if room == 0:
                return

    def _is_idle(self) -> bool:
        if not self._online:
            return True  # nothing more can be delivered; the spool keeps the rest
        with self._latest_lock:
            dirty = bool(self._dirty)
        busy = self._in_flight or self._retained_in_flight or dirty
        return not busy and self._spool.count() == 0
