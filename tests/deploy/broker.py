"""Runs the shipped broker configuration on a free local port, for the deploy tests.

The shipped files are used as they are: the password file and ACL made by
deploy/mosquitto/make-passwd.sh, and deploy/mosquitto/mosquitto.conf with only
what must differ on a test machine replaced (listener port and address, file locations;
`user root` added when the tests run as root), each replacement checked to happen once.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from devkit.broker import port_accepts

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "mosquitto"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
DAEMON_USER = "hinge-edge"


@dataclass
class Broker:
    """A running broker and the accounts made for it."""

    port: int
    passwords: dict[str, str]
    workdir: Path
    tls_port: int | None = None


def make_accounts(workdir: Path, displays: list[str]) -> dict[str, str]:
    """Runs the shipped make-passwd.sh (passwd, acl) in a copy of deploy/; user -> password."""
    mosquitto_dir = workdir / "deploy" / "mosquitto"
    mosquitto_dir.mkdir(parents=True)
    script = shutil.copy2(SHIPPED / "make-passwd.sh", mosquitto_dir / "make-passwd.sh")
    out = subprocess.run(
        ["sh", script, *displays], check=True, capture_output=True, text=True
    ).stdout
    passwords = dict(re.findall(r"^([\w-]+): (\w{24})\s", out, flags=re.MULTILINE))
    env = (workdir / "deploy" / ".env").read_text(encoding="utf-8")
    passwords[DAEMON_USER] = re.search(r"^HINGE_MQTT_PASSWORD=(\w+)$", env, re.M).group(1)
    # The script hands the files to the broker image's uid (1883); this broker runs as us.
    for made in ("passwd", "acl"):
        os.chown(mosquitto_dir / made, os.geteuid(), os.getegid())
    return passwords


def adapt_config(shipped: str, workdir: Path, port: int, tls: dict | None = None) -> str:
    """The shipped mosquitto.conf with port and paths moved to this machine.

    Args:
        shipped: Text of deploy/mosquitto/mosquitto.conf.
        workdir: Where passwd, acl and the persistence folder are.
        port: Plain listener port (bound to 127.0.0.1 only).
        tls: If given, `{"port": ..., "certs": Path}`: the commented TLS block is enabled
            as shipped, on that port and with the certificates from that folder.

    Raises:
        AssertionError: A line to replace is missing or appears more than once.
    """
    mosquitto_dir = workdir / "deploy" / "mosquitto"
    replacements = {
        r"^listener 1883$": f"listener {port} 127.0.0.1",
        r"^password_file /mosquitto/config/passwd$": f"password_file {mosquitto_dir}/passwd",
        r"^acl_file /mosquitto/config/acl$": f"acl_file {mosquitto_dir}/acl",
        r"^persistence_location /mosquitto/data/$": f"persistence_location {workdir}/data/",
    }
    if tls is not None:
        replacements[r"^#listener 8883$"] = f"listener {tls['port']} 127.0.0.1"
        for key in ("cafile", "certfile", "keyfile"):
            replacements[rf"^#{key} /mosquitto/certs/(\S+)$"] = rf"{key} {tls['certs']}/\1"
        replacements[r"^#tls_version (\S+)$"] = r"tls_version \1"
        replacements[r"^#use_username_as_clientid true$"] = "use_username_as_clientid true"
    text = shipped
    for pattern, new in replacements.items():
        text, count = re.subn(pattern, new, text, flags=re.MULTILINE)
        assert count == 1, f"mosquitto.conf: expected one line matching {pattern}, got {count}"
    (workdir / "data").mkdir(exist_ok=True)
    if os.geteuid() == 0:
        # Started as root, mosquitto switches to the `mosquitto` user before it opens the
        # password file, which in a test's private temp folder it cannot reach.
        text += "\nuser root\n"
    return text


def make_certificates(folder: Path) -> None:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost (openssl, EC)."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2".split()
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sign = "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
    openssl(*sign.split(), "-out", "server.crt", "-extfile", "san.ext")


@contextlib.contextmanager
def running_broker(config: str, workdir: Path, ports: list[int]) -> Iterator[Path]:
    """Starts mosquitto on `config`, waits until every port accepts; yields its log path."""
    conf = workdir / "mosquitto.conf"
    conf.write_text(config, encoding="utf-8")
    log = workdir / "mosquitto.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=stderr)
    try:
        for port in ports:
            _wait_for_port(port, process, log)
        yield log
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited: {log.read_text(errors='replace')}")
        if port_accepts(port):
            return
        time.sleep(0.02)
    raise TimeoutError(f"mosquitto did not listen on {port}: {log.read_text(errors='replace')}")


class Client:
    """A paho client whose callbacks land in queues, so tests wait on deadlines."""

    def __init__(self, name: str, username: str | None = None, password: str | None = None):
        self.connacks: queue.Queue = queue.Queue()
        self.messages: queue.Queue = queue.Queue()
        self.subacks: queue.Queue = queue.Queue()
        self.disconnects: queue.Queue = queue.Queue()
        self.mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
        if username is not None:
            self.mqtt.username_pw_set(username, password)
        self.mqtt.on_connect = lambda c, u, f, reason, p: self.connacks.put(reason)
        self.mqtt.on_message = lambda c, u, msg: self.messages.put(
            (msg.topic, msg.payload.decode())
        )
        self.mqtt.on_subscribe = lambda c, u, mid, reasons, p: self.subacks.put(reasons)
        self.mqtt.on_disconnect = lambda c, u, f, reason, p: self.disconnects.put(reason)

    def connect(self, port: int, ca_file: Path | None = None) -> mqtt.ReasonCode:
        """Connects, waits for the CONNACK and returns its reason code."""
        if ca_file is not None:
            self.mqtt.tls_set(ca_certs=str(ca_file))
        self.mqtt.connect("127.0.0.1", port, keepalive=10)
        self.mqtt.loop_start()
        return self.connacks.get(timeout=5)

    def subscribe(self, topic: str) -> None:
        """Subscribes at QoS 1 and waits for the SUBACK."""
        self.mqtt.subscribe(topic, qos=1)
        self.subacks.get(timeout=5)

    def publish(self, topic: str, payload: str) -> None:
        """Publishes at QoS 1 and waits for the PUBACK: the broker has processed it."""
        info = self.mqtt.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=5)
        assert info.is_published(), f"no PUBACK for {topic}"

    def close(self) -> None:
        """Disconnects and stops the network thread."""
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
