"""`Publisher`: rep/set events through the spool to MQTT, plus retained state and status.

Delivery rules (docs/mqtt.md):

- An event goes into the spool first and leaves it only in paho's `on_publish` for its
  message id: the broker's PUBACK (QoS 1) or PUBCOMP (QoS 2), or the write to the socket
  at QoS 0. A broker outage, a network loss or a killed daemon therefore loses nothing
  that was spooled.
- Duplicates remain possible where the protocol makes them: a message whose PUBACK was
  lost is sent again (by paho after a reconnect, or from the spool after a restart).
  Every event carries a unique, stable `id`; consumers drop repeats by it. Within one
  process nothing is sent twice on purpose (see `edge/publish/outbox.py`).
- Retained "latest value" topics are not spooled: the latest value of each is kept in
  memory and published again on every connect, so a broker restarted without
  persistence still ends up with current values.
- `<prefix>/status` is retained: `online` on every connect, `degraded` while events are
  at risk (the spool cannot be written, or is full: `edge/publish/backlog.py`), `stopped`
  on a clean stop, and `offline` as the last will, sent by the broker if the connection
  dies.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from edge import __version__
from edge.contract import DaemonStatus, StatusName, now_iso
from edge.publish.backlog import MEMORY_MESSAGES, Backlog
from edge.publish.config import MqttConfig, SiteConfig
from edge.publish.link import LinkState, create_client
from edge.publish.outbox import ACK, CONNECT, DISCONNECT, WAKE, Outbox
from edge.publish.spool import Spool
from edge.publish.topics import Topics

logger = logging.getLogger(__name__)


class Publisher:
    """Publishes events (spooled, at-least-once) and retained state to one MQTT broker."""

    def __init__(
        self,
        config: MqttConfig,
        spool: Spool,
        *,
        run_id: str,
        version: str = __version__,
        memory_messages: int = MEMORY_MESSAGES,
        site: SiteConfig | None = None,
    ) -> None:
        """Builds the client; nothing connects until `start()`.

        Args:
            config: The `mqtt` section: broker, credentials, TLS, QoS, prefix, backoff. Its
                `host` must be set (the daemon fills in its local broker's for a null one).
            spool: The outbox on disk; owned by the caller, who closes it after `stop()`.
            run_id: This run of the daemon (in the status payloads and the last will).
            version: Daemon version for the status payloads.
            memory_messages: Events held in memory at most while the spool cannot be
                written (then retried); beyond it they are dropped and counted.
            site: The box's gym and id, carried by its status payloads; None (or an
                empty site) for a single box.

        Raises:
            ValueError: `config.host` is null.
        """
        if config.host is None:
            raise ValueError("mqtt.host is null: give the publisher the broker's address")
        self.config = config
        self._endpoints = config.endpoints()  # the broker, then its failover nodes
        self._endpoint = 0
        self._site = (site.gym, site.box) if site is not None else (None, None)
        self.topics = Topics(config.topic_prefix)
        self._spool = Backlog(spool, memory_messages)
        self._run_id, self._version = run_id, version
        self._link = LinkState(config)
        # The broker sends the will at a time the daemon cannot know: `since` is null.
        will = DaemonStatus("offline", run_id, version, since=None).sited(*self._site).to_json()
        self._client = create_client(config, self.topics.status, will)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._outbox = Outbox(
            self._client, self._spool, self.topics.status, self._working_status, config.qos
        )
        self._started = False

    def _status(self, status: StatusName, problem: str | None = None) -> str:
        """The `<prefix>/status` payload of a status that begins now."""
        return (
            DaemonStatus(status, self._run_id, self._version, since=now_iso(), problem=problem)
            .sited(*self._site)
            .to_json()
        )

    def _working_status(self, problem: str | None) -> str:
        """`online`, or `degraded` with why events are at risk."""
        return self._status("online") if problem is None else self._status("degraded", problem)

    def start(self) -> None:
        """Connects in the background (retrying forever) and starts the outbox thread."""
        self._started = True
        self._outbox.start()
        config = self.config
        host, port = self._endpoints[self._endpoint]
        self._client.connect_async(host, port, keepalive=config.keepalive_s)
        self._client.loop_start()
        logger.info(
            "MQTT publisher for %s started (prefix %s, QoS %d, %d events spooled)",
            ", ".join(f"{h}:{p}" for h, p in self._endpoints),
            self.topics.prefix,
            config.qos,
            self._spool.count(),
        )

    def publish_event(self, key: str, topic: str, payload: str) -> bool:
        """Spools an event, then sends it when the broker is reachable.

        Args:
            key: The event's stable, unique id (a repeated key is stored once).
            topic: e.g. `topics.rep(camera)`.
            payload: JSON text.

        Returns:
            False if the event was dropped (counted): the spool is full and refuses new
            messages (policy `reject_new`), or cannot be written and the memory queue
            that stands in for it is full. While the spool cannot be written the event
            waits in memory, is retried there and sent from there.
        """
        stored = self._spool.put(key, topic, payload, self.config.qos)
        self._outbox.notify(WAKE)
        return stored

    def publish_retained(self, topic: str, payload: str) -> None:
        """Publishes a retained "latest value" now if connected, and again on every connect."""
        self._outbox.set_latest(topic, payload)

    def publish_now(self, topic: str, payload: str) -> bool:
        """Publishes a transient message (QoS 0, not retained, not spooled) if connected.

        Returns:
            Whether it was handed to the network (False while disconnected: it is dropped).
        """
        if self._link.state != "connected":
            return False
        return self._client.publish(topic, payload, qos=0).rc == 0

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Publishes `stopped`, waits for events in flight, and disconnects cleanly.

        The clean disconnect means the broker does not send the last will: the retained
        status stays `stopped`. What is not acknowledged within `timeout_s` stays in the
        spool for the next start.

        Returns:
            True if everything was acknowledged (or nothing could be sent: offline).
        """
        if not self._started:
            return True
        self._started = False
        self._outbox.set_latest(self.topics.status, self._status("stopped"), final=True)
        done = self._outbox.finish(timeout_s)
        self._link.stopped()  # first: the disconnect below is not a lost connection
        self._client.disconnect()
        self._client.loop_stop()
        self._spool.close()  # what is only in memory now is lost, and counted
        left = self._spool.count()
        logger.info("MQTT publisher stopped; %d events left in the spool for next start", left)
        return done

    @property
    def connection_state(self) -> str:
        """`connected`, `connecting`, `refused:<reason>`, `unreachable:<reason>` or `stopped`."""
        return self._link.state

    def stats(self) -> dict[str, Any]:
        """Figures for `<prefix>/stats` and the health endpoint (counts since start)."""
        return {
            "connected": self._link.state == "connected",
            "connection_state": self._link.state,
            "reconnects": self._outbox.reconnects,
            "published": self._outbox.published,
            "in_flight": self._outbox.in_flight,
            "pending": self._spool.count(),
            "held_in_memory": self._spool.held,
            "dropped": self._spool.dropped,
            "dropped_by_reason": self._spool.dropped_by_reason(),
            "problem": self._spool.problem,
            "last_error": self._link.last_error,
        }

    # paho callbacks, in paho's thread: record and queue for the outbox, nothing else.

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._link.refused(reason_code.getName())
            return
        self._link.connected()
        self._outbox.notify(CONNECT)

    def _on_connect_fail(self, client, userdata) -> None:
        # paho calls this inside its `except OSError:` block: the error is the active one.
        self._link.unreachable(sys.exc_info()[1])
        self._next_endpoint()

    def _next_endpoint(self) -> None:
        """After a failed connect: the next node of a clustered broker, if there are others.

        Called in paho's thread between its connection attempts: `connect_async` only sets
        the address the loop's next attempt uses (its backoff is kept).
        """
        if len(self._endpoints) < 2:
            return
        self._endpoint = (self._endpoint + 1) % len(self._endpoints)
        host, port = self._endpoints[self._endpoint]
        self._client.connect_async(host, port, keepalive=self.config.keepalive_s)
        self._link.at(host, port)
        logger.debug("MQTT: trying the next broker node, %s:%d", host, port)  # each attempt

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        # paho reports a dropped socket (no DISCONNECT packet) as "Unspecified error".
        reason = "connection dropped" if reason_code.value == 128 else str(reason_code)
        self._link.lost(reason)
        self._outbox.notify(DISCONNECT)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._outbox.notify(ACK, mid)
