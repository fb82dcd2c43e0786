"""The shipped broker configuration: passwords required, each account its own client id,
the daemon write-only, displays read-only, TLS switchable.

A real mosquitto runs deploy/mosquitto/mosquitto.conf (port and paths moved, see
tests/deploy/broker.py) with the password file and ACL made by the shipped make-passwd.sh.
"""

from __future__ import annotations

import json
import queue
import shutil
import time
from pathlib import Path

import pytest
import yaml

from devkit.broker import free_port, skip_reason
from edge.publish.config import MqttConfig, SpoolConfig
from edge.publish.mqtt import Publisher
from edge.publish.spool import Spool
from tests.deploy.broker import (
    DAEMON_USER,
    ROOT,
    SHIPPED,
    Broker,
    Client,
    adapt_config,
    make_accounts,
    make_certificates,
    running_broker,
)

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory):
    """The shipped broker with TLS switched on as the README says, both listeners up."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed (apt install openssl)")
    workdir = tmp_path_factory.mktemp("broker")
    passwords = make_accounts(workdir, ["display-1", "display-2"])
    make_certificates(workdir / "certs")
    port, tls_port = free_port(), free_port()
    shipped = (SHIPPED / "mosquitto.conf").read_text(encoding="utf-8")
    config = adapt_config(shipped, workdir, port, {"port": tls_port, "certs": workdir / "certs"})
    with running_broker(config, workdir, [port, tls_port]):
        yield Broker(port=port, passwords=passwords, workdir=workdir, tls_port=tls_port)


@pytest.fixture
def clients():
    made: list[Client] = []
    yield made
    for client in made:
        client.close()


def _client(clients: list[Client], name: str, broker: Broker, user: str | None) -> Client:
    client = Client(name, user, broker.passwords.get(user) if user else None)
    clients.append(client)
    return client


def test_anonymous_client_is_refused(broker: Broker, clients: list[Client]) -> None:
    reason = _client(clients, "anon", broker, None).connect(broker.port)
    assert reason.is_failure
    assert "authori" in str(reason).lower()  # "Not authorized"


def test_wrong_password_is_refused(broker: Broker, clients: list[Client]) -> None:
    client = Client("intruder", DAEMON_USER, "not-the-password")
    clients.append(client)
    assert client.connect(broker.port).is_failure


def test_daemon_publishes_and_display_reads_but_cannot_publish(
    broker: Broker, clients: list[Client]
) -> None:
    # One connection per account (the account is the client id): two displays.
    watcher = _client(clients, "watcher", broker, "display-2")
    display = _client(clients, "display", broker, "display-1")
    daemon = _client(clients, "daemon", broker, DAEMON_USER)
    for client in (watcher, display, daemon):
        assert not client.connect(broker.port).is_failure
    watcher.subscribe("hinge/#")

    # QoS 1 and a PUBACK before the next step: the broker has handled (and, for the
    # display, silently dropped) each message before the daemon's is sent.
    display.publish("hinge/platform-1/rep", "from-display")
    daemon.publish("hinge/platform-1/rep", "from-daemon")

    assert watcher.messages.get(timeout=5) == ("hinge/platform-1/rep", "from-daemon")
    with pytest.raises(queue.Empty):
        watcher.messages.get(timeout=0.3)  # nothing else was delivered


def test_display_cannot_read_outside_the_prefix(broker: Broker, clients: list[Client]) -> None:
    watcher = _client(clients, "watcher-2", broker, "display-1")
    daemon = _client(clients, "daemon-2", broker, DAEMON_USER)
    for client in (watcher, daemon):
        assert not client.connect(broker.port).is_failure
    watcher.subscribe("#")
    daemon.publish("elsewhere/x", "outside")  # the daemon may not write here either
    daemon.publish("hinge/status", "online")
    assert watcher.messages.get(timeout=5) == ("hinge/status", "online")
    with pytest.raises(queue.Empty):
        watcher.messages.get(timeout=0.3)


def test_tls_listener_same_accounts_and_acl(broker: Broker, clients: list[Client]) -> None:
    ca_file = broker.workdir / "certs" / "ca.crt"
    watcher = _client(clients, "tls-watcher", broker, "display-2")
    daemon = _client(clients, "tls-daemon", broker, DAEMON_USER)
    anonymous = _client(clients, "tls-anon", broker, None)
    assert anonymous.connect(broker.tls_port, ca_file).is_failure
    for client in (watcher, daemon):
        assert not client.connect(broker.tls_port, ca_file).is_failure
    watcher.subscribe("hinge/#")
    # The daemon's client id over TLS too: the display gets its own, the daemon stays.
    display = _client(clients, "tls-daemon", broker, "display-1")
    assert not display.connect(broker.tls_port, ca_file).is_failure
    display.publish("hinge/platform-2/set", "from-display-over-tls")
    daemon.publish("hinge/platform-2/set", "from-daemon-over-tls")
    assert watcher.messages.get(timeout=5) == ("hinge/platform-2/set", "from-daemon-over-tls")
    with pytest.raises(queue.Empty):
        watcher.messages.get(timeout=0.3)
    assert daemon.disconnects.empty()


@pytest.fixture
def daemon_publisher(broker: Broker, tmp_path: Path):
    """The daemon's own publisher (edge.publish) as deploy/config.example.yaml sets it up."""
    example = yaml.safe_load((ROOT / "deploy" / "config.example.yaml").read_text("utf-8"))
    config = MqttConfig(
        **{**example["mqtt"], "host": "127.0.0.1", "port": broker.port},
        password=broker.passwords[DAEMON_USER],
        reconnect_min_s=0.2,
        reconnect_max_s=0.5,
    )
    with Spool(SpoolConfig(path=tmp_path / "spool")) as spool:
        publisher = Publisher(config, spool, run_id="deploy-test")
        publisher.start()
        yield publisher
        publisher.stop(timeout_s=2)


def test_display_cannot_take_the_daemons_client_id(
    broker: Broker, clients: list[Client], daemon_publisher: Publisher
) -> None:
    watcher = _client(clients, "watcher-3", broker, "display-2")
    assert not watcher.connect(broker.port).is_failure
    watcher.subscribe("hinge/status")
    assert json.loads(watcher.messages.get(timeout=5)[1])["status"] == "online"

    # A display asks for the daemon's client id (its configured one, = its account name).
    intruder = _client(clients, daemon_publisher.config.client_id, broker, "display-1")
    assert not intruder.connect(broker.port).is_failure  # connected, under its own id
    daemon_publisher.publish_event("after-intruder", "hinge/platform-1/rep", "{}")
    # The daemon kept its one connection: its event went through, no reconnect, no last
    # will on hinge/status.
    deadline = time.monotonic() + 5
    while daemon_publisher.stats()["published"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert daemon_publisher.stats()["published"] == 1
    assert daemon_publisher.stats()["reconnects"] == 0
    assert daemon_publisher.connection_state == "connected"
    with pytest.raises(queue.Empty):
        watcher.messages.get(timeout=1.0)  # hinge/status did not flap to offline


def test_daemon_account_reads_nothing(broker: Broker, clients: list[Client]) -> None:
    watcher = _client(clients, "watcher-4", broker, "display-2")
    daemon = _client(clients, "daemon-4", broker, DAEMON_USER)
    for client in (watcher, daemon):
        assert not client.connect(broker.port).is_failure
    watcher.subscribe("hinge/platform-1/rep")
    # mosquitto 2.0's acl_file grants the SUBACK and checks each delivery: the daemon's
    # account has no read right, so nothing reaches it (not even the retained statuses
    # the tests before left on hinge/status).
    daemon.subscribe("hinge/#")
    daemon.subscribe("#")
    daemon.publish("hinge/platform-1/rep", "from-daemon")
    assert watcher.messages.get(timeout=5) == ("hinge/platform-1/rep", "from-daemon")
    with pytest.raises(queue.Empty):
        daemon.messages.get(timeout=0.5)


def test_display_cannot_fake_the_daemons_status(broker: Broker, clients: list[Client]) -> None:
    watcher = _client(clients, "watcher-5", broker, "display-2")
    display = _client(clients, "display-5", broker, "display-1")
    daemon = _client(clients, "daemon-5", broker, DAEMON_USER)
    for client in (watcher, display, daemon):
        assert not client.connect(broker.port).is_failure
    daemon.mqtt.publish("hinge/status", "online", qos=1, retain=True).wait_for_publish(5)
    display.mqtt.publish("hinge/status", "offline", qos=1, retain=True).wait_for_publish(5)
    watcher.subscribe("hinge/status")  # the retained value arrives now: still the daemon's
    assert watcher.messages.get(timeout=5) == ("hinge/status", "online")
