"""The shipped 3-node config: QoS 1 across nodes, replicated MQTT state, retained, will, TLS."""

from __future__ import annotations

import socket
import time

from devkit.broker import HOST
from devkit.cluster import NatsCluster, connect_packet
from tests.central.clients import Client


def _stream_replicas(cluster: NatsCluster) -> dict[str, int]:
    jsz = cluster.monitor(0, "/jsz?streams=true&config=true")
    streams = [s for account in jsz["account_details"] for s in account["stream_detail"]]
    return {s["name"]: s["config"]["num_replicas"] for s in streams}


def _unacknowledged(cluster: NatsCluster) -> int:
    jsz = cluster.monitor(0, "/jsz?consumers=true")
    streams = [s for account in jsz["account_details"] for s in account["stream_detail"]]
    consumers = [c for s in streams if s["name"] == "$MQTT_msgs" for c in s["consumer_detail"]]
    return sum(c["num_ack_pending"] for c in consumers)


def test_qos1_from_node1_reaches_a_persistent_subscriber_on_node3(nats_cluster) -> None:
    hub = Client(nats_cluster, nats_cluster.mqtt_ports[2], "hub-a", nats_cluster.hub_auth(),
                 clean_session=False).wait_connected()  # fmt: skip
    box = Client(nats_cluster, nats_cluster.mqtt_ports[0], "box-a",
                 nats_cluster.box_auth("gym-1", "box-a")).wait_connected()  # fmt: skip
    try:
        assert [rc.value for rc in hub.subscribe("hinge/gym-1/+/cam-1/rep")] == [1]
        for n in range(5):
            box.publish("hinge/gym-1/box-a/cam-1/rep", b"%d" % n)  # returns on PUBACK
        got = hub.receive(5)
        assert [m.payload for m in got] == [b"0", b"1", b"2", b"3", b"4"]  # in order, once
        assert {m.qos for m in got} == {1}
        # The hub's PUBACKs reach JetStream, though its account may publish nothing.
        deadline = time.monotonic() + 5
        while _unacknowledged(nats_cluster) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _unacknowledged(nats_cluster) == 0
    finally:
        hub.close()
        box.close()
    # Sessions, QoS 1 messages and retained messages each live on all three nodes.
    replicas = _stream_replicas(nats_cluster)
    assert replicas["$MQTT_sess"] == replicas["$MQTT_msgs"] == replicas["$MQTT_rmsgs"] == 3


def test_retained_status_reaches_a_new_subscriber_on_another_node(nats_cluster) -> None:
    box = Client(nats_cluster, nats_cluster.mqtt_ports[0], "box-a",
                 nats_cluster.box_auth("gym-1", "box-a")).wait_connected()  # fmt: skip
    box.publish("hinge/gym-1/box-a/cam-2/state", b'{"reps": 3}', retain=True)
    box.close()
    late = Client(nats_cluster, nats_cluster.mqtt_ports[1], "hub-late",
                  nats_cluster.hub_auth()).wait_connected()  # fmt: skip
    try:
        late.subscribe("hinge/gym-1/box-a/+/state")
        (msg,) = late.receive(1)
        assert (msg.payload, msg.retain) == (b'{"reps": 3}', True)
    finally:
        late.close()


def test_last_will_of_a_dropped_box_reaches_another_node(nats_cluster) -> None:
    hub = Client(nats_cluster, nats_cluster.mqtt_ports[2], "hub-will",
                 nats_cluster.hub_auth()).wait_connected()  # fmt: skip
    status = "hinge/gym-1/box-b/status"
    box = Client(nats_cluster, nats_cluster.mqtt_ports[0], "box-b",
                 nats_cluster.box_auth("gym-1", "box-b"), will=(status, b"offline")
                 ).wait_connected()  # fmt: skip
    try:
        hub.subscribe(status)
        box.publish(status, b"online", retain=True)
        assert hub.receive(1, keep=lambda m: m.payload == b"online")
        box.drop()  # the socket closed without DISCONNECT, as when the process is killed
        (will,) = hub.receive(1, timeout_s=5)
        assert will.payload == b"offline"
    finally:
        hub.close()
    # ... and stays retained for whoever looks later, on any node.
    later = Client(nats_cluster, nats_cluster.mqtt_ports[1], "hub-later",
                   nats_cluster.hub_auth()).wait_connected()  # fmt: skip
    try:
        later.subscribe(status)
        (msg,) = later.receive(1)
        assert (msg.payload, msg.retain) == (b"offline", True)
    finally:
        later.close()


def test_mqtt_listener_speaks_tls_only(nats_cluster) -> None:
    with socket.create_connection((HOST, nats_cluster.mqtt_ports[0]), timeout=5) as plain:
        plain.sendall(connect_packet("plain", nats_cluster.hub_auth()))
        try:
            answer = plain.recv(4)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"\x20")  # no CONNACK: the TLS handshake failed
    with nats_cluster.mqtt_socket(0) as tls:
        tls.sendall(connect_packet("tls", nats_cluster.hub_auth()))
        assert tls.recv(4) == b"\x20\x02\x00\x00"  # CONNACK, accepted
