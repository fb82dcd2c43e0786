"""The hub worker: the central broker's messages into PostgreSQL, each acknowledged after commit.

`HubWorker` holds a persistent MQTT session (3.1.1, clean_session=False, client id
`hub-<name>`, QoS 1, paho's `manual_ack`): the broker keeps what arrives while the worker
is down and redelivers what it never acknowledged. paho's thread puts each message on a
queue; the writer thread takes batches (up to `hub.batch_max` messages, or what came in
`hub.batch_wait_ms`), writes each in one transaction (`Store.ingest_batch`) and only then
acknowledges its messages. So:

- the worker killed at any moment: what was not committed was not acknowledged, and
  comes again; what was committed and not acknowledged comes again and is a duplicate;
- PostgreSQL away: the writer retries the same batch with backoff and acknowledges
  nothing meanwhile; the broker stops sending at its in-flight window, and keeps the rest;
- a broker node lost: the client reconnects to the next node of `broker.nodes`.

`request_stop()` (SIGTERM) writes and acknowledges what has arrived, then disconnects.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from edge.hub.config import HubBrokerConfig, WorkerConfig
from edge.hub.store import DatabaseUnavailable, Message, Store
from edge.publish.link import _DropReconnectNoise, apply_credentials

logger = logging.getLogger(__name__)
_PAHO_LOGGER = logging.getLogger("edge.hub.paho")
_PAHO_LOGGER.addFilter(_DropReconnectNoise())  # the worker logs each failed attempt itself

TOPICS = ("+/+/+/rep", "+/+/+/set", "+/+/+/status", "+/+/+/state", "+/+/status", "+/+/stats")
"""Subscriptions under the topic prefix (docs/mqtt.md, "Upstream")."""


@dataclass(frozen=True)
class _Pending:
    message: Message
    mid: int
    qos: int
    arrived: float  # monotonic


@dataclass
class Figures:
    """The worker's figures since it started (logged every `hub.stats_interval_s`)."""

    received: int = 0
    batches: int = 0
    db_retries: int = 0
    reconnects: int = 0
    lag_max_s: float = 0.0
    lag_sum_s: float = 0.0
    connected: bool = False
    subscribed: bool = False
    node: str = ""


class HubWorker:
    """One hub worker: `start()`, `request_stop()`, `join()`; `figures()` while it runs."""

    def __init__(self, broker: HubBrokerConfig, worker: WorkerConfig, store: Store) -> None:
        """Builds the client; nothing connects before `start()`.

        Args:
            broker: The central broker's section (nodes, credentials, TLS, prefix).
            worker: This worker's section (name, batches, retry cap).
            store: Where messages are written (its connection is used by the writer only).
        """
        self.broker, self.worker, self.store = broker, worker, store
        self.client_id = f"hub-{worker.name}"
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._node = 0
        self._figures = Figures(node=str(broker.nodes[0]))
        self._lock = threading.Lock()
        self.client = self._create_client()
        self._writer = threading.Thread(target=self._write_loop, name="hub-writer", daemon=True)

    def _create_client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,  # the broker keeps our queue while we are away
            protocol=mqtt.MQTTv311,
            manual_ack=True,  # acknowledged after the transaction commits
        )
        client.enable_logger(_PAHO_LOGGER)
        apply_credentials(client, self.broker)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    # ------------------------------------------------------------ lifecycle
    def start(self) -> HubWorker:
        """Connects (in the background, to the first node) and starts the writer."""
        node = self.broker.nodes[0]
        self.client.connect_async(node.host, node.port, keepalive=self.broker.keepalive_s)
        self.client.loop_start()
        self._writer.start()
        return self

    def request_stop(self) -> None:
        """Asks the worker to finish (safe from a signal handler)."""
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> bool:
        """Waits until the worker has stopped; True if it has."""
        return self._stopped.wait(timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Writes and acknowledges what has arrived, then disconnects."""
        self.request_stop()
        self.join(timeout_s)

    # ------------------------------------------------------------ paho's thread
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("broker %s refused the hub: %s", self._figures.node, reason_code)
            return
        # Subscribing again with a session present costs the retained statuses once more,
        # and makes sure a node that lost our session's subscriptions has them again.
        client.subscribe([(f"{self.broker.topic_prefix}/{t}", 1) for t in TOPICS])
        with self._lock:
            self._figures.connected = True
        logger.info(
            "connected to broker %s as %s (session %s)",
            self._figures.node,
            self.client_id,
            "resumed" if flags.session_present else "new",
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            logger.error("broker %s refused subscriptions: %s", self._figures.node, refused)
        with self._lock:
            self._figures.subscribed = not refused

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            was = self._figures.connected
            self._figures.connected = self._figures.subscribed = False
        if was and not self._stop.is_set():
            logger.warning("lost broker %s (%s)", self._figures.node, reason_code)
            self._next_node()

    def _on_connect_fail(self, client, userdata) -> None:
        logger.warning("cannot reach broker %s; trying the next node", self._figures.node)
        self._next_node()

    def _next_node(self) -> None:
        """The next node of the cluster for paho's next reconnect attempt.

        Called in paho's thread with no socket open (a failed attempt, a lost connection):
        `connect_async` only sets the address its loop's next attempt uses (the backoff is
        kept), as the box's publisher does (edge.publish.mqtt).
        """
        nodes = self.broker.nodes
        self._node = (self._node + 1) % len(nodes)
        node = nodes[self._node]
        self.client.connect_async(node.host, node.port, keepalive=self.broker.keepalive_s)
        with self._lock:
            self._figures.node = str(node)
            self._figures.reconnects += 1

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        message = Message(msg.topic, bytes(msg.payload), datetime.now(UTC))
        self._queue.put(_Pending(message, msg.mid, msg.qos, time.monotonic()))

    # ------------------------------------------------------------ the writer
    def _write_loop(self) -> None:
        next_log = time.monotonic() + self.worker.stats_interval_s
        try:
            while not (self._stop.is_set() and self._queue.empty()):
                batch = self._take_batch()
                if batch and self._write(batch):
                    self._acknowledge(batch)
                if time.monotonic() >= next_log:
                    self.log_figures()
                    next_log = time.monotonic() + self.worker.stats_interval_s
        except Exception:
            logger.exception("hub writer failed; stopping (unacknowledged messages come again)")
        finally:
            self._shutdown()

    def _take_batch(self) -> list[_Pending]:
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.worker.batch_wait_ms / 1000
        while len(batch) < self.worker.batch_max:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[_Pending]) -> bool:
        """Writes the batch, retrying while the database is away; False: stopped first."""
        delay = 0.25
        while True:
            try:
                self.store.ingest_batch([p.message for p in batch])
                return True
            except DatabaseUnavailable as err:
                with self._lock:
                    self._figures.db_retries += 1
                if self._stop.is_set():
                    logger.warning(
                        "stopping with the database away: %d messages come again", len(batch)
                    )
                    return False
                logger.warning("%s; retrying in %.1f s, acknowledging nothing", err, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.worker.db_retry_max_s)

    def _acknowledge(self, batch: list[_Pending]) -> None:
        now = time.monotonic()
        for pending in batch:
            self.client.ack(pending.mid, pending.qos)  # not connected: it comes again
        lag = max(now - p.arrived for p in batch)
        with self._lock:
            f = self._figures
            f.received += len(batch)
            f.batches += 1
            f.lag_max_s = max(f.lag_max_s, lag)
            f.lag_sum_s += sum(now - p.arrived for p in batch)

    def _shutdown(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()
        self.log_figures()
        self._stopped.set()

    # ------------------------------------------------------------ figures
    def figures(self) -> dict[str, float | int | str | bool]:
        """Messages written by outcome, batches, retries, reconnects, lag, connection."""
        with self._lock:
            f = self._figures
            counts = vars(self.store.counts)
            mean = f.lag_sum_s / f.received if f.received else 0.0
            return {
                **counts,
                "received": f.received,
                "batches": f.batches,
                "db_retries": f.db_retries,
                "reconnects": f.reconnects,
                "queued": self._queue.qsize(),
                "lag_mean_ms": round(mean * 1000, 1),
                "lag_max_ms": round(f.lag_max_s * 1000, 1),
                "connected": f.connected,
                "subscribed": f.subscribed,
                "node": f.node,
            }

    def log_figures(self) -> None:
        """One log line of `figures()`."""
        logger.info(
            "hub %s: %s", self.client_id, " ".join(f"{k}={v}" for k, v in self.figures().items())
        )
