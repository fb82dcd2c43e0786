"""The shipped broker configuration: passwords required, displays read-only, TLS switchable.

A real mosquitto runs deploy/mosquitto/mosquitto.conf (port and paths moved, see
tests/deploy/broker.py) with the shipped ACL and a password file made by the shipped
make-passwd.sh.
"""

from __future__ import annotations

import queue
import shutil

import pytest

from devkit.broker import free_port, skip_reason
from tests.deploy.broker import (
    DAEMON_USER,
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
    passwords = make_accounts(workdir, ["display-1"])
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
    watcher = _client(clients, "watcher", broker, "display-1")
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
    watcher = _client(clients, "tls-watcher", broker, "display-1")
    daemon = _client(clients, "tls-daemon", broker, DAEMON_USER)
    anonymous = _client(clients, "tls-anon", broker, None)
    assert anonymous.connect(broker.tls_port, ca_file).is_failure
    for client in (watcher, daemon):
        assert not client.connect(broker.tls_port, ca_file).is_failure
    watcher.subscribe("hinge/#")
    watcher.publish("hinge/platform-2/set", "from-display-over-tls")
    daemon.publish("hinge/platform-2/set", "from-daemon-over-tls")
    assert watcher.messages.get(timeout=5) == ("hinge/platform-2/set", "from-daemon-over-tls")
    with pytest.raises(queue.Empty):
        watcher.messages.get(timeout=0.3)
