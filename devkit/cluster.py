"""A real three-node nats-server cluster for tests and tools, run from the shipped config.

`NatsCluster` copies deploy/central/nats.conf into a working directory unchanged and runs
`/usr/sbin/nats-server` on it three times, each node with its own environment (name, free
loopback ports, routes to the other two, JetStream folder): the file under test is the file
the operators get. Users come from deploy/central/make-users.py (the same functions that
write the operators' auth.conf); TLS on the MQTT listeners from a throw-away CA
(`devkit.broker.make_tls_files`) written into the shipped mqtt-tls.conf's place.

`kill(i)` (SIGKILL), `stop(i)` and `start(i)` act on one node and keep its ports and its
JetStream folder, so clients configured with them reconnect and the node rejoins with its
state. Each node logs to `n<i+1>.log` in the working directory.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import paho.mqtt.client as mqtt

from devkit.broker import HOST, TlsFiles, free_port, make_tls_files

NATS_SERVER = Path("/usr/sbin/nats-server")
CENTRAL = Path(__file__).resolve().parents[1] / "deploy" / "central"
NODES = 3
TEST_BCRYPT_COST = 4  # the fewest rounds bcrypt takes: connects stay fast in tests


def skip_reason() -> str | None:
    """Why cluster tests cannot run here, or None (the Debian package `nats-server`)."""
    if not NATS_SERVER.is_file():
        return f"{NATS_SERVER} is absent: install the Debian package `nats-server`"
    return None


@functools.cache
def make_users() -> ModuleType:
    """deploy/central/make-users.py as a module (its file name is not an import name)."""
    name = "deploy_central_make_users"
    spec = importlib.util.spec_from_file_location(name, CENTRAL / "make-users.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Node:
    """One node's name, ports and JetStream folder (kept across restarts)."""

    name: str
    client_port: int
    cluster_port: int
    http_port: int
    mqtt_port: int
    store: Path


class NatsCluster:
    """Three nats-server processes clustered on loopback, MQTT on each, restartable per node."""

    def __init__(
        self,
        workdir: Path,
        *,
        boxes: Sequence[tuple[str, str]] | None = None,
        hubs: Sequence[str] = ("hub",),
        tls: bool = False,
        prefix: str = "hinge",
        ack_wait: str = "30s",
    ) -> None:
        """Writes the configs; nothing runs until `start_all()`.

        Args:
            workdir: Folder for nats.conf, auth.conf, mqtt-tls.conf, the logs and stores.
            boxes: (gym, box) pairs that get a box account each, plus `hubs`; None runs
                the cluster without users (anonymous clients allowed).
            hubs: Hub account names (with `boxes` only).
            tls: TLS on every MQTT listener (certificates in `workdir/certs`, CA `tls.ca`).
            prefix: The upstream topic prefix the accounts are made for.
            ack_wait: When an unacknowledged QoS 1 delivery is sent again (a NATS duration).
        """
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nodes = [self._node(i) for i in range(NODES)]
        self.passwords: dict[str, str] = {}
        self.ack_wait = ack_wait
        self.tls: TlsFiles | None = make_tls_files(self.workdir / "certs") if tls else None
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * NODES
        self._write_configs(boxes, hubs, prefix)

    def _node(self, i: int) -> Node:
        ports = [free_port() for _ in range(4)]  # client, cluster, monitoring, MQTT
        return Node(f"n{i + 1}", *ports, store=self.workdir / f"store-n{i + 1}")

    def _write_configs(
        self, boxes: Sequence[tuple[str, str]] | None, hubs: Sequence[str], prefix: str
    ) -> None:
        self.config_path = self.workdir / "nats.conf"
        self.config_path.write_text((CENTRAL / "nats.conf").read_text())
        tls_conf = ""
        if self.tls is not None:  # the shipped block, pointing at this run's files
            tls_conf = (CENTRAL / "mqtt-tls.conf").read_text()
            tls_conf = tls_conf.replace("/etc/nats/certs/server.pem", str(self.tls.cert))
            tls_conf = tls_conf.replace("/etc/nats/certs/server.key", str(self.tls.key))
        (self.workdir / "mqtt-tls.conf").write_text(tls_conf)
        auth = "# no users: anonymous clients allowed\n"
        if boxes is not None:
            users = make_users()
            accounts = []
            for gym, box in boxes:
                password = self.passwords[users.box_user(gym, box)] = users.random_password()
                accounts.append(users.box_account(gym, box, password, prefix, TEST_BCRYPT_COST))
            for name in hubs:
                password = self.passwords[name] = users.random_password()
                accounts.append(users.hub_account(name, password, prefix, TEST_BCRYPT_COST))
            auth = users.render_auth(accounts)
        (self.workdir / "auth.conf").write_text(auth)

    def box_auth(self, gym: str, box: str) -> tuple[str, str]:
        """(user name, password) of a box's account."""
        user = make_users().box_user(gym, box)
        return user, self.passwords[user]

    def hub_auth(self, name: str = "hub") -> tuple[str, str]:
        """(user name, password) of a hub account."""
        return name, self.passwords[name]

    @property
    def mqtt_ports(self) -> list[int]:
        """The MQTT port of each node, in node order."""
        return [node.mqtt_port for node in self.nodes]

    def env(self, i: int) -> dict[str, str]:
        """Node i's environment: what nats.conf reads (see the file's header)."""
        node = self.nodes[i]
        routes = [f"nats-route://{HOST}:{n.cluster_port}" for n in self.nodes if n is not node]
        return {
            **os.environ,
            "NATS_NAME": node.name,
            "NATS_LISTEN": f"{HOST}:{node.client_port}",
            "NATS_HTTP": f"{HOST}:{node.http_port}",
            "NATS_CLUSTER_LISTEN": f"{HOST}:{node.cluster_port}",
            "NATS_ROUTES": "[" + ", ".join(routes) + "]",
            "NATS_MQTT_LISTEN": f"{HOST}:{node.mqtt_port}",
            "NATS_STORE": str(node.store),
            "NATS_MQTT_ACK_WAIT": self.ack_wait,
        }

    def log_path(self, i: int) -> Path:
        """Node i's log file."""
        return self.workdir / f"{self.nodes[i].name}.log"

    def log(self, i: int) -> str:
        """Everything node i logged so far (all its runs)."""
        path = self.log_path(i)
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def pids(self) -> list[int]:
        """Process ids of the nodes running now (benchmarks read their CPU time)."""
        return [proc.pid for proc in self._procs if proc is not None and proc.poll() is None]

    def running(self, i: int) -> bool:
        """True while node i's process is alive."""
        proc = self._procs[i]
        return proc is not None and proc.poll() is None

    def start_all(self, timeout_s: float = 30.0) -> NatsCluster:
        """Starts the three nodes and waits until each serves MQTT (JetStream ready)."""
        for i in range(NODES):
            self._spawn(i)
        for i in range(NODES):
            self.wait_ready(i, timeout_s)
        return self

    def start(self, i: int, timeout_s: float = 30.0) -> None:
        """Starts node i again (same ports, same store) and waits until it serves MQTT."""
        if not self.running(i):
            self._spawn(i)
        self.wait_ready(i, timeout_s)

    def _spawn(self, i: int) -> None:
        with self.log_path(i).open("ab") as log:
            self._procs[i] = subprocess.Popen(
                [str(NATS_SERVER), "-c", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(i),
            )

    def wait_ready(self, i: int, timeout_s: float = 30.0) -> None:
        """Waits until node i answers an MQTT CONNECT with CONNACK 0; raises with its log if not.

        The first MQTT connection to a new cluster waits while JetStream creates the MQTT
        streams (a few seconds on loopback); a CONNACK means they exist on this node.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            proc = self._procs[i]
            if proc is None or proc.poll() is not None:
                raise RuntimeError(f"{self.nodes[i].name} is not running:\n{self.log(i)[-3000:]}")
            if self._mqtt_connects(i, min(5.0, deadline - time.monotonic())):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.nodes[i].name} not serving MQTT in {timeout_s}s:\n"
                           f"{self.log(i)[-3000:]}")  # fmt: skip

    def _mqtt_connects(self, i: int, timeout_s: float) -> bool:
        auth = next(iter(self.passwords.items()), None)  # any account will do
        try:
            with self.mqtt_socket(i, timeout_s) as sock:
                sock.sendall(connect_packet(f"probe-{os.getpid()}-{i}", auth))
                return sock.recv(4) == b"\x20\x02\x00\x00"
        except OSError:
            return False

    def mqtt_socket(self, i: int, timeout_s: float = 5.0) -> socket.socket:
        """A TCP (TLS where on) connection to node i's MQTT listener."""
        sock = socket.create_connection((HOST, self.nodes[i].mqtt_port), timeout=timeout_s)
        if self.tls is None:
            return sock
        return self.tls_context().wrap_socket(sock, server_hostname=HOST)

    def tls_context(self) -> ssl.SSLContext:
        """A client TLS context trusting this cluster's CA."""
        assert self.tls is not None
        return ssl.create_default_context(cafile=str(self.tls.ca))

    def paho_client(
        self,
        client_id: str,
        auth: tuple[str, str] | None = None,
        *,
        clean_session: bool = True,
        manual_ack: bool = False,
    ) -> mqtt.Client:
        """A paho MQTT 3.1.1 client set up for this cluster (TLS where on), not connected.

        Connect it to `HOST` and one of `mqtt_ports` (or a `WanLink` in front of them).
        """
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            manual_ack=manual_ack,
        )
        if auth is not None:
            client.username_pw_set(*auth)
        if self.tls is not None:
            client.tls_set_context(self.tls_context())
        client.reconnect_delay_set(0.1, 1.0)
        return client

    def monitor(self, i: int, path: str = "/jsz") -> dict:
        """Node i's monitoring endpoint `path` (e.g. /jsz, /varz, /routez) as JSON."""
        url = f"http://{HOST}:{self.nodes[i].http_port}{path}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def reload(self) -> None:
        """Makes every running node read its config again (SIGHUP), e.g. a new auth.conf.

        Clients stay connected, but those whose account is gone are closed.
        """
        for proc in self._procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGHUP)

    def stop(self, i: int, timeout_s: float = 10.0) -> None:
        """Clean stop of node i (SIGTERM)."""
        self._end(i, signal.SIGTERM, timeout_s)

    def kill(self, i: int) -> None:
        """Abrupt stop of node i (SIGKILL): no goodbye to clients or to the other nodes."""
        self._end(i, signal.SIGKILL, 5.0)

    def stop_all(self) -> None:
        """Stops every node (SIGTERM, SIGKILL after a few seconds)."""
        for i in range(NODES):
            self.stop(i, 5.0)

    def _end(self, i: int, sig: signal.Signals, timeout_s: float) -> None:
        proc = self._procs[i]
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs[i] = None

    def __enter__(self) -> NatsCluster:
        return self.start_all()

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def connect_packet(client_id: str, auth: tuple[str, str] | None = None) -> bytes:
    """An MQTT 3.1.1 CONNECT packet, clean session, keepalive 10 s (for probes)."""

    def text(value: str) -> bytes:
        data = value.encode()
        return len(data).to_bytes(2, "big") + data

    flags = 0x02 | (0xC0 if auth else 0)  # clean session; user name and password
    body = text("MQTT") + bytes([4, flags]) + (10).to_bytes(2, "big") + text(client_id)
    if auth is not None:
        body += text(auth[0]) + text(auth[1])
    return bytes([0x10]) + _remaining_length(len(body)) + body


def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        length, digit = divmod(length, 128)
        out.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(out)
