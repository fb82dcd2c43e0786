"""A real mosquitto for tests and tools: config on a free port, start/stop/restart, a subscriber.

`Mosquitto` writes a config file into a working directory (a listener on 127.0.0.1 on a
free port, optionally a websockets listener, a password file + ACL, TLS, persistence) and
runs `/usr/sbin/mosquitto` on it. `restart()` keeps the SAME ports, so clients configured
with them reconnect. Logs go to stderr, redirected to `mosquitto.log` in the working
directory (FIELD-NOTES: `log_dest stdout` to a file shows nothing until exit).

`Collector` is a paho subscriber that pushes every message into a queue and waits on
deadlines (no sleeps), after paho's own `tests/test_mqttv5.py::Callbacks`.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")
HOST = "127.0.0.1"


def skip_reason() -> str | None:
    """Why broker tests cannot run here, or None (the Debian package `mosquitto` is needed)."""
    for binary in (MOSQUITTO, MOSQUITTO_PASSWD):
        if not binary.is_file():
            return f"{binary} is absent: install the Debian package `mosquitto`"
    return None


def free_port() -> int:
    """A TCP port that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_accepts(port: int, timeout_s: float = 0.2) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS listener (see `make_tls_files`)."""

    ca: Path
    cert: Path
    key: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """A throw-away CA and a server certificate for 127.0.0.1 (needs the `openssl` command)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    days = ["-days", "2"]
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", *days, "-subj", "/CN=test-ca",
          "-keyout", str(ca_key), "-out", str(ca)])  # fmt: skip
    _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
          "-keyout", str(key), "-out", str(csr)])  # fmt: skip
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
          "-CAcreateserial", *days, "-extfile", str(ext), "-out", str(cert)])  # fmt: skip
    return TlsFiles(ca, cert, key)


@dataclass(frozen=True)
class BrokerAuth:
    """Users for a password file, and an optional ACL (mosquitto's syntax)."""

    users: Mapping[str, str]
    acl: str | None = None


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


class Mosquitto:
    """One mosquitto process on fixed free ports, restartable on the same ports."""

    def __init__(
        self,
        workdir: Path,
        *,
        websockets: bool = False,
        auth: BrokerAuth | None = None,
        persistence: bool = False,
        tls: TlsFiles | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        """Writes the config; nothing runs until `start()`.

        Args:
            workdir: Directory for the config, log, password file and persistence DB.
            websockets: Add a second listener speaking MQTT over websockets (`ws_port`).
            auth: Users (anonymous access refused then) and an optional ACL.
            persistence: Keep sessions and retained messages in a DB across restarts
                (saved on a clean stop and on `save()`, not on `kill()`).
            tls: Serve TLS on `port` with these files (no plain listener then).
            extra: More config lines, e.g. `max_queued_messages 0`.
        """
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = free_port()
        self.ws_port = free_port() if websockets else None
        self.config_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self.db_path = self.workdir / "mosquitto.db"
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_config(auth, persistence, tls)
        with self.config_path.open("a") as config:
            config.writelines(f"{line}\n" for line in extra)

    def _write_config(
        self,
        auth: BrokerAuth | None,
        persistence: bool,
        tls: TlsFiles | None,
    ) -> None:
        # Run as ourselves: started as root, mosquitto would switch to user `mosquitto`, who
        # cannot read the files in a private temporary folder (ignored when not root).
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines = [f"user {user}", "log_dest stderr", "log_type all", "per_listener_settings false"]
        lines += [f"listener {self.port} {HOST}"]
        if tls is not None:
            lines += [f"cafile {tls.ca}", f"certfile {tls.cert}", f"keyfile {tls.key}"]
        if self.ws_port is not None:
            lines += [f"listener {self.ws_port} {HOST}", "protocol websockets"]
        if auth is not None:
            password_file = self.workdir / "passwd"
            self._write_passwords(password_file, auth.users)
            lines += [f"password_file {password_file}", "allow_anonymous false"]
            if auth.acl is not None:
                acl_file = self.workdir / "acl"
                acl_file.write_text(auth.acl)
                lines += [f"acl_file {acl_file}"]
        else:
            lines += ["allow_anonymous true"]
        lines += [f"persistence {'true' if persistence else 'false'}"]
        if persistence:
            lines += [
                f"persistence_location {self.workdir}/",
                f"persistence_file {self.db_path.name}",
            ]
        self.config_path.write_text("\n".join(lines) + "\n")

    @staticmethod
    def _write_passwords(path: Path, users: Mapping[str, str]) -> None:
        path.write_text("")
        for user, password in users.items():
            _run([str(MOSQUITTO_PASSWD), "-b", str(path), user, password])

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._proc.pid if self.running else None  # type: ignore[union-attr]

    def start(self, timeout_s: float = 5.0) -> Mosquitto:
        """Starts mosquitto and returns once it accepts connections on `port`."""
        if self.running:
            return self
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(MOSQUITTO), "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.wait_accepting(timeout_s)
        return self

    def wait_accepting(self, timeout_s: float = 5.0) -> None:
        """Waits until the listener accepts TCP connections; raises with the log tail if not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited ({self._proc.returncode}):\n{self.log()}")
            if port_accepts(self.port):
                return
            time.sleep(0.01)
        raise TimeoutError(f"mosquitto not accepting on {self.port} in {timeout_s}s:\n{self.log()}")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Clean stop (SIGTERM): a persistent broker saves its DB."""
        self._end(signal.SIGTERM, timeout_s)

    def kill(self) -> None:
        """Abrupt stop (SIGKILL): no goodbye to clients, nothing saved."""
        self._end(signal.SIGKILL, 5.0)

    def restart(self, *, kill: bool = False, down_s: float = 0.0) -> None:
        """Stops (or kills), stays down for `down_s`, and starts again on the same ports."""
        self.kill() if kill else self.stop()
        if down_s > 0:
            time.sleep(down_s)
        self.start()

    def save(self, timeout_s: float = 5.0) -> None:
        """Makes a persistent broker write its DB now (SIGUSR1) and waits for the file."""
        before = self.db_path.stat().st_mtime_ns if self.db_path.exists() else 0
        assert self._proc is not None
        self._proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.db_path.exists() and self.db_path.stat().st_mtime_ns != before:
                return
            time.sleep(0.01)
        raise TimeoutError(f"mosquitto did not save {self.db_path} (persistence off?)")

    def _end(self, sig: signal.Signals, timeout_s: float) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(sig)
            try:
                self._proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def log(self) -> str:
        """Everything the broker logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


class Collector:
    """A paho subscriber that queues every message; waits go by deadlines."""

    def __init__(
        self,
        port: int,
        topics: str | list[str],
        *,
        client_id: str = "",
        clean_session: bool = True,
        qos: int = 1,
        auth: tuple[str, str] | None = None,
    ) -> None:
        """Connects to 127.0.0.1:port and subscribes (again on every connect).

        Args:
            port: Broker port.
            topics: Topic filter(s) to subscribe to.
            client_id: Needed for a persistent session.
            clean_session: False = persistent session (the broker queues QoS 1 while away).
            qos: Subscription QoS.
            auth: (user name, password), for a broker with a password file.
        """
        self.queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.messages: list[mqtt.MQTTMessage] = []
        self._topics = [topics] if isinstance(topics, str) else list(topics)
        self._qos = qos
        self._subscribed = queue.Queue[int]()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session
        )
        if auth is not None:
            self.client.username_pw_set(*auth)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.put(1)
        self.client.on_message = lambda _c, _u, msg: self.queue.put(msg)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect_async(HOST, port, keepalive=10)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        # A broker restarted without our session knows no subscription: subscribe again.
        if not flags.session_present:
            client.subscribe([(topic, self._qos) for topic in self._topics])
        else:
            self._subscribed.put(1)

    def wait_subscribed(self, timeout_s: float = 5.0) -> Collector:
        """Waits until the subscription is in place."""
        self._subscribed.get(timeout=timeout_s)
        return self

    def wait_for(
        self,
        predicate: Callable[[mqtt.MQTTMessage], bool],
        timeout_s: float = 5.0,
    ) -> mqtt.MQTTMessage:
        """Returns the first new message matching `predicate`; raises TimeoutError if none."""
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = self.queue.get(timeout=remaining)
            except queue.Empty:
                break
            self.messages.append(msg)
            if predicate(msg):
                return msg
        raise TimeoutError(f"no matching message in {timeout_s}s; got {len(self.messages)}")

    def collect(self, until: Callable[[], bool], timeout_s: float = 10.0) -> list[mqtt.MQTTMessage]:
        """Collects messages until `until()` is true (checked as they come) or the deadline."""
        deadline = time.monotonic() + timeout_s
        while not until() and time.monotonic() < deadline:
            try:
                self.messages.append(self.queue.get(timeout=0.05))
                while True:  # take all that came before asking `until` again
                    self.messages.append(self.queue.get_nowait())
            except queue.Empty:
                continue
        return self.messages

    def close(self) -> None:
        """Disconnects and stops the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def payload_json(msg: mqtt.MQTTMessage) -> dict:
    """The message's payload decoded as JSON."""
    return json.loads(msg.payload)


def retained_snapshot(port: int, topic: str, timeout_s: float = 5.0) -> mqtt.MQTTMessage:
    """What a NEW subscriber gets for `topic`: the retained message (retain flag set)."""
    collector = Collector(port, topic, qos=1)
    try:
        return collector.wait_for(lambda m: m.retain, timeout_s)
    finally:
        collector.close()


def retained_payload(port: int, topic: str, timeout_s: float = 0.5) -> bytes | None:
    """The retained payload of `topic` as a new subscriber sees it, or None if none came."""
    try:
        return retained_snapshot(port, topic, timeout_s).payload
    except TimeoutError:
        return None


def child_env() -> dict[str, str]:
    """Environment for `python -m devkit...` or `tests...` children: the project root on the path.

    (The wheel installs `edge` only; these packages are found from the checkout.)
    """
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env
