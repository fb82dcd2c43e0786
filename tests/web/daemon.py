"""The real daemon as a child process, as the daemon tests run it, with what the page
tests add: a base URL, raw GETs (bytes and headers), and freezing the process."""

from __future__ import annotations

import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.daemon.harness import DaemonProcess as _Daemon


class DaemonProcess(_Daemon):
    """`python -m edge run --config ...` with one pose worker and slow stats."""

    def __init__(
        self,
        folder: Path,
        cameras: dict[str, dict[str, Any]],
        mqtt_port: int,
        extra: dict[str, Any] | None = None,
        pose_script: tuple[Path, Path] | None = None,
    ) -> None:
        """Writes the config; `extra` replaces top-level sections (`{"pose": {...}}`);
        `pose_script` (keypoints, clip) replaces the models (`tests/scripted.py`)."""
        sections = {"pose": {"workers": 1}, "stats_interval_s": 30} | (extra or {})
        super().__init__(folder, cameras, mqtt_port, pose_script, **sections)
        self.base = f"http://127.0.0.1:{self.web_port}"

    def start(self, timeout_s: float = 60.0) -> DaemonProcess:
        """Starts the daemon; returns once its web side answers."""
        super().start(timeout_s)
        return self

    def fetch(self, path: str) -> tuple[int | None, bytes, dict[str, str]]:
        """(HTTP status or None if nothing answers, body, headers) of a GET."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)
        except OSError:
            return None, b"", {}

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing more is sent (a hung box)."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after `freeze`."""
        self._signal(signal.SIGCONT)

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM and wait (killed if it does not end in time); a no-op once ended."""
        if not self.running:
            return
        self._signal(signal.SIGCONT)
        try:
            self.terminate(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, sig: signal.Signals) -> None:
        if self.running:
            self.proc.send_signal(sig)  # type: ignore[union-attr]
