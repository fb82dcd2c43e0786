"""A paho client on one node of a `NatsCluster` (TLS where on), driven by queues and deadlines."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

from devkit.broker import HOST
from devkit.cluster import NatsCluster


class Client:
    """Connects at once (retrying, as a box would); every callback lands in a queue."""

    def __init__(  # noqa: PLR0913 (the paho options a test picks)
        self,
        cluster: NatsCluster,
        port: int,
        client_id: str,
        auth: tuple[str, str] | None,
        *,
        clean_session: bool = True,
        will: tuple[str, bytes] | None = None,
        manual_ack: bool = False,
    ) -> None:
        self.connacks: queue.Queue[mqtt.ReasonCode] = queue.Queue()
        self.disconnects: queue.Queue[mqtt.ReasonCode] = queue.Queue()
        self.subacks: queue.Queue[list[mqtt.ReasonCode]] = queue.Queue()
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = cluster.paho_client(
            client_id, auth, clean_session=clean_session, manual_ack=manual_ack
        )
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connacks.put(rc)
        self.client.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.put(rc)
        self.client.on_subscribe = lambda _c, _u, _m, rcs, _p: self.subacks.put(rcs)
        self.client.on_message = lambda _c, _u, msg: self.inbox.put(msg)
        self.client.connect_async(HOST, port, keepalive=10)
        self.client.loop_start()

    def wait_connected(self, timeout_s: float = 15.0) -> Client:
        """Waits for a successful CONNACK (failures are skipped: the client retries)."""
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                if not self.connacks.get(timeout=remaining).is_failure:
                    return self
            except queue.Empty:
                break
        raise TimeoutError(f"not connected in {timeout_s}s")

    def subscribe(self, topic: str, timeout_s: float = 10.0) -> list[mqtt.ReasonCode]:
        """Subscribes at QoS 1 and returns the SUBACK's reason codes."""
        self.client.subscribe(topic, qos=1)
        return self.subacks.get(timeout=timeout_s)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publishes at QoS 1 and waits for the PUBACK."""
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def receive(
        self, count: int, timeout_s: float = 10.0, keep: Callable[[mqtt.MQTTMessage], bool] = bool
    ) -> list[mqtt.MQTTMessage]:
        """The next `count` messages that `keep` accepts; raises TimeoutError short of that."""
        got: list[mqtt.MQTTMessage] = []
        deadline = time.monotonic() + timeout_s
        while len(got) < count and (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = self.inbox.get(timeout=remaining)
            except queue.Empty:
                break
            if keep(msg):
                got.append(msg)
        if len(got) < count:
            raise TimeoutError(f"{len(got)} of {count} messages in {timeout_s}s")
        return got

    def drop(self) -> None:
        """Ends the connection as a killed process would: no DISCONNECT, no reconnect."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def close(self) -> None:
        """Disconnects cleanly (no last will) and stops the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
