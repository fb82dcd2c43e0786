"""Accounts made by deploy/central/make-users.py, enforced by the running cluster.

What NATS 2.9 does with a publish outside a box's ACL: it still sends the PUBACK (the
client cannot tell), logs a "Publish Violation" and drops the message; the connection
stays up. A subscription outside the ACL is refused in the SUBACK (0x80) and logged as a
"Subscription Violation". (An empty allow list in NATS permits everything: make-users.py
writes `deny: [">"]` for "nothing", which this file checks for the boxes' reads.)
"""

from __future__ import annotations

import json
import socket

import pytest

from devkit.broker import HOST
from devkit.cluster import NatsCluster, connect_packet
from tests.central.clients import Client


@pytest.fixture
def hub(nats_cluster: NatsCluster):
    client = Client(nats_cluster, nats_cluster.mqtt_ports[2], "hub-acl",
                    nats_cluster.hub_auth()).wait_connected()  # fmt: skip
    assert [rc.value for rc in client.subscribe("hinge/#")] == [1]  # the hub reads all
    yield client
    client.close()


def _box(cluster: NatsCluster, box: str, node: int = 0) -> Client:
    return Client(cluster, cluster.mqtt_ports[node], f"acl-{box}",
                  cluster.box_auth("gym-1", box)).wait_connected()  # fmt: skip


def test_a_box_publishes_under_its_own_topics_only(nats_cluster, hub) -> None:
    box = _box(nats_cluster, "box-a")
    try:
        box.publish("hinge/gym-1/box-a/cam-1/rep", b"mine")
        box.publish("hinge/gym-1/box-b/cam-1/rep", b"forged")  # PUBACKed all the same
        box.publish("hinge/gym-2/box-a/status", b"forged")  # another gym, same box id
        box.publish("elsewhere/gym-1/box-a", b"forged")
        box.publish("hinge/gym-1/box-a/cam-1/rep", b"mine again")  # the connection is up
        got = hub.receive(2, timeout_s=10)
        assert [(m.topic, m.payload) for m in got] == [
            ("hinge/gym-1/box-a/cam-1/rep", b"mine"),
            ("hinge/gym-1/box-a/cam-1/rep", b"mine again"),
        ]
        assert hub.inbox.empty()  # published before "mine again": none came in between
    finally:
        box.close()
    violation = 'Publish Violation - User "box.gym-1.box-a", Subject "hinge.gym-1.box-b.cam-1.rep"'
    assert violation in nats_cluster.log(0)


def test_a_box_reads_nothing(nats_cluster) -> None:
    reader = _box(nats_cluster, "box-b", node=1)
    writer = _box(nats_cluster, "box-a", node=1)
    try:
        assert [rc.value for rc in reader.subscribe("hinge/#")] == [0x80]
        writer.publish("hinge/gym-1/box-a/cam-1/rep", b"not for box-b")
        with pytest.raises(TimeoutError):
            reader.receive(1, timeout_s=1.0)
    finally:
        reader.close()
        writer.close()
    assert 'Subscription Violation - User "box.gym-1.box-b", Subject "hinge.>"' in (
        nats_cluster.log(1)
    )


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("box.gym-1.box-a", "guess"),  # a wrong password
        ("nobody", "guess"),  # no such account
        ("", ""),  # anonymous
    ],
)
def test_strangers_are_refused(nats_cluster, user: str, password: str) -> None:
    with nats_cluster.mqtt_socket(0) as sock:
        sock.sendall(connect_packet("stranger", (user, password) if user else None))
        assert sock.recv(4) == b"\x20\x02\x00\x05"  # CONNACK: not authorized


def test_box_accounts_cannot_speak_nats(nats_cluster) -> None:
    user, password = nats_cluster.box_auth("gym-1", "box-a")
    with socket.create_connection((HOST, nats_cluster.nodes[0].client_port), timeout=5) as sock:
        assert sock.recv(4096).startswith(b"INFO ")
        login = {"user": user, "pass": password, "verbose": False, "pedantic": False}
        sock.sendall(b"CONNECT " + json.dumps(login).encode() + b"\r\nPING\r\n")
        assert sock.recv(4096).startswith(b"-ERR 'Authorization Violation'")
