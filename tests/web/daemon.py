"""The real daemon (`python -m edge run --config`) as a child process the web tests control."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.broker import child_env, free_port


def write_config(
    folder: Path,
    cameras: dict[str, dict[str, Any]],
    mqtt_port: int,
    web_port: int,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A config file: the cameras given, a broker on 127.0.0.1, the web side on `web_port`.

    `extra` replaces top-level sections (e.g. `{"pose": {"workers": 2}}`).
    """
    config = {
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": f"web-test-{web_port}"},
        "web": {"host": "127.0.0.1", "port": web_port},
        "spool": {"path": str(folder / "spool")},
        "pose": {"workers": 1},
        "stats_interval_s": 30,
        "cameras": cameras,
        **(extra or {}),
    }
    path = folder / "hinge-edge.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


class DaemonProcess:
    """`python -m edge run --config CONFIG`, with the signals a test needs."""

    def __init__(
        self,
        folder: Path,
        cameras: dict[str, dict[str, Any]],
        mqtt_port: int,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Writes the config (web port: a free one; `extra` as `write_config`'s)."""
        self.folder = folder
        self.port = free_port()
        self.config = write_config(folder, cameras, mqtt_port, self.port, extra)
        self.base = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def log_path(self) -> Path:
        """The current run's stderr."""
        return self.folder / f"daemon-{self._starts}.log"

    def log(self) -> str:
        """Everything every run logged (for assertion messages)."""
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.folder.glob("daemon-*.log"))
        )

    def start(self, timeout_s: float = 60.0) -> DaemonProcess:
        """Starts the daemon; returns once its web side answers."""
        self._starts += 1
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "edge", "run", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=child_env(),
            )
        deadline = time.monotonic() + timeout_s
        while self.get("/healthz")[0] is None:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        return self

    def get(self, path: str) -> tuple[int | None, bytes, dict[str, str]]:
        """(HTTP status or None if nothing answers, body, headers) of a GET."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)
        except OSError:
            return None, b"", {}

    def state(self) -> dict[str, Any]:
        """GET /api/state."""
        status, body, _ = self.get("/api/state")
        assert status == 200, (status, body)
        return json.loads(body)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing more is sent (a hung box)."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after `freeze`."""
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL (works on a frozen process too): every connection drops."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
            self._proc = None

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM and wait (killed if it does not end in time)."""
        if self._proc is None:
            return
        self._signal(signal.SIGCONT)
        self._proc.terminate()
        try:
            self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        self._proc = None

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(sig)
