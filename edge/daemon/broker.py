"""A broker started for you: mosquitto on localhost when the config names none.

For the embedded demo and for trying the daemon out on a laptop. A gym installation runs
its own broker (deploy/compose.yaml) with authentication and an ACL; this one listens on
127.0.0.1 only and lets anyone on this machine in. It goes with the daemon, even one
killed outright (Linux: the kernel sends it SIGTERM), so a restart finds its port free.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from edge.errors import EdgeError
from edge.settings import ENV_PREFIX

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_START_TIMEOUT_S = 5.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def find_mosquitto() -> Path | None:
    """The mosquitto binary on PATH (or Debian's /usr/sbin), None if not installed."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has Linux send the child SIGTERM when its parent dies.

    `PR_SET_PDEATHSIG` fires even when the daemon is SIGKILLed. It is tied to the thread
    that started the child: start the broker from the main thread (as `Daemon` does when
    run by the CLI). None where prctl is unavailable (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # loaded here, not after fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the daemon died before prctl: go at once
            os._exit(1)

    return set_death_signal


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
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts mosquitto and waits until it accepts connections.

        Its config and startup log live in a temporary folder only until it listens, so a
        daemon killed outright leaves nothing behind.

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
                "broker?). Set mqtt.host: 127.0.0.1 to use it, or mqtt.port to another port "
                f"(without a config file: {ENV_PREFIX}MQTT__HOST=127.0.0.1, or "
                f"{ENV_PREFIX}MQTT__PORT={self.port + 1})"
            )
        folder = Path(tempfile.mkdtemp(prefix="hinge-edge-broker-"))
        try:
            self._spawn(binary, folder)
            self._wait_listening(folder / "mosquitto.log")
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # mosquitto has read its config
        logger.info("started a local MQTT broker (mosquitto) on %s:%d", HOST, self.port)

    def _spawn(self, binary: Path, folder: Path) -> None:
        config = folder / "mosquitto.conf"
        user = pwd.getpwuid(os.geteuid()).pw_name  # as root mosquitto would switch users
        config.write_text(
            f"user {user}\nlistener {self.port} {HOST}\nallow_anonymous true\n"
            "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n",
            encoding="utf-8",
        )
        # Its own session: a Ctrl-C or a SIGTERM to our process group must not take the
        # broker down before the daemon has delivered its last events through it. But it
        # must not outlive a daemon killed outright either: an orphan would hold the port,
        # and every later start (systemd restarting us) would refuse to run.
        with (folder / "mosquitto.log").open("wb") as log:
            self._proc = subprocess.Popen(
                [str(binary), "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
                preexec_fn=_die_with_parent(),  # only prctl runs after the fork
            )

    def _wait_listening(self, log: Path) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _accepts(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                lines = log.read_text(errors="replace").strip().splitlines()[-5:]
                tail = " | ".join(lines)[-500:] or "(empty)"
                raise EdgeError(
                    f"the local mosquitto did not start on {HOST}:{self.port}; its log: {tail}"
                )
            time.sleep(0.02)

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
