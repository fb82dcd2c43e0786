"""devkit.wan.WanLink: forwards, fails over to the next target, cuts and restores.

The first tests use a plain echo server; the last puts a box's MQTT client behind the
link in front of the cluster.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from devkit.broker import HOST, free_port
from devkit.wan import WanLink
from tests.central.clients import Client


@pytest.fixture
def echo() -> Iterator[int]:
    """A TCP echo server on a free port, a thread per connection."""
    server = socket.create_server((HOST, 0))

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def _roundtrip(port: int, payload: bytes = b"ping") -> bytes:
    with socket.create_connection((HOST, port), timeout=2) as sock:
        sock.sendall(payload)
        return sock.recv(4096)


def _refused(port: int) -> bool:
    """True when a connection through the link ends without an answer."""
    try:
        return _roundtrip(port) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_forwards_to_the_first_reachable_target_and_counts(echo: int) -> None:
    with WanLink([free_port(), echo]) as link:  # the first target refuses: the next one
        assert _roundtrip(link.port, b"hello") == b"hello"
        assert (link.stats.forwarded, link.stats.bytes_up, link.stats.bytes_down) == (1, 5, 5)


def test_cut_drops_open_connections_and_refuses_until_restored(echo: int) -> None:
    with WanLink([echo]) as link, socket.create_connection((HOST, link.port), timeout=2) as open_:
        open_.sendall(b"a")
        assert open_.recv(10) == b"a"
        link.cut()
        try:
            assert open_.recv(10) == b""  # closed from the link's side
        except ConnectionResetError:
            pass
        assert link.open_connections == 0
        assert _refused(link.port)
        link.restore()
        assert _roundtrip(link.port) == b"ping"
        assert link.stats.refused == 1


def test_blackhole_accepts_but_never_answers(echo: int) -> None:
    with WanLink([echo]) as link:
        link.cut(blackhole=True)
        with socket.create_connection((HOST, link.port), timeout=2) as sock:
            sock.settimeout(0.3)
            sock.sendall(b"anyone?")
            with pytest.raises(TimeoutError):
                sock.recv(10)  # silence, as over a dead uplink
            link.restore()
            sock.settimeout(2)
            assert sock.recv(10) == b""  # closed on restore: the client retries
        assert _roundtrip(link.port) == b"ping"


def test_a_box_behind_a_cut_link_disconnects_and_reconnects(nats_cluster) -> None:
    hub = Client(nats_cluster, nats_cluster.mqtt_ports[1], "hub-wan",
                 nats_cluster.hub_auth()).wait_connected()  # fmt: skip
    status = "hinge/gym-1/box-a/status"
    hub.subscribe(status)
    with WanLink(nats_cluster.mqtt_ports) as link:
        box = Client(nats_cluster, link.port, "box-a-wan",
                     nats_cluster.box_auth("gym-1", "box-a"), will=(status, b"offline")
                     ).wait_connected()  # fmt: skip
        try:
            box.publish(status, b"online", retain=True)
            assert hub.receive(1, keep=lambda m: m.payload == b"online")
            link.cut()
            box.disconnects.get(timeout=5)  # paho notices at once: the socket closed
            assert hub.receive(1, keep=lambda m: m.payload == b"offline")  # its last will
            with pytest.raises(TimeoutError):
                box.wait_connected(1.0)  # retrying, refused while cut
            link.restore()
            box.wait_connected(10)
            box.publish(status, b"online", retain=True)
            assert hub.receive(1, keep=lambda m: m.payload == b"online")
            assert link.stats.refused >= 1 and link.stats.forwarded >= 2
        finally:
            box.close()
            hub.close()
