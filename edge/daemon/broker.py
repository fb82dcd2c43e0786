"""A broker started for you: mosquitto on localhost when the config names none.

For the embedded demo and for trying the daemon out on a laptop. A gym installation runs
its own broker (deploy/compose.yaml) with authentication and an ACL; this one listens on
127.0.0.1 only and lets anyone on this machine in.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from edge.errors import EdgeError

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_START_TIMEOUT_S = 5.0


def find_mosquitto() -> Path | None:
    """The mosquitto binary on PATH (or Debian's /usr/sbin), None if not installed."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


class LocalBroker:
    """mosquitto on 127.0.0.1:`port`, anonymous, no persistence, stopped with the daemon."""

    def __init__(self, port: int) -> None:
        """Prepares (does not start) the broker."""
        self.port = port
        self._dir = Path(tempfile.mkdtemp(prefix="hinge-edge-broker-"))
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts mosquitto and waits until it accepts connections.

        Raises:
            EdgeError: mosquitto is not installed, the port is taken, or it did not start.
        """
        binary = find_mosquitto()
        if binary is None:
            raise EdgeError(
                "no MQTT broker configured (mqtt.host is empty) and mosquitto is not "
                "installed to start one: install it (Debian: apt-get install mosquitto) or "
                "set mqtt.host to your broker"
            )
        if _accepts(self.port):
            raise EdgeError(
                f"cannot start a local broker: port {self.port} on {HOST} is taken (another "
                "broker?). Set mqtt.host: 127.0.0.1 to use it, or mqtt.port to another port"
            )
        config = self._dir / "mosquitto.conf"
        user = pwd.getpwuid(os.geteuid()).pw_name  # as root mosquitto would switch users
        config.write_text(
            f"user {user}\nlistener {self.port} {HOST}\nallow_anonymous true\n"
            "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n",
            encoding="utf-8",
        )
        log = (self._dir / "mosquitto.log").open("wb")
        # Its own session: a Ctrl-C or a SIGTERM to our process group must not take the
        # broker down before the daemon has delivered its last events through it.
        self._proc = subprocess.Popen(
            [str(binary), "-c", str(config)], stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _accepts(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EdgeError(
                    f"the local mosquitto did not start on {HOST}:{self.port}; its log: "
                    f"{(self._dir / 'mosquitto.log').read_text(errors='replace')[-500:]}"
                )
            time.sleep(0.02)
        logger.info("started a local MQTT broker (mosquitto) on %s:%d", HOST, self.port)

    def stop(self) -> None:
        """Stops mosquitto (it gets a moment to deliver what it holds)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)
