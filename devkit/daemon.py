"""Drives the real daemon: `python -m edge run --config FILE` in a child process.

`DaemonProcess` writes a config (JSON text, which is YAML too) into its own folder, starts
the daemon with its stderr in `daemon-N.log`, and offers what a test needs: the web routes
(/healthz, /api/state, /metrics), SIGKILL and SIGTERM. With a `pose_script` its pose stage
replays recorded landmarks instead of running the models (`python -m devkit.scripted`):
for tests about everything after pose. `PageDaemon` is the daemon as the page tests and
tools/web_screenshots.py drive it: a base URL, raw GETs (bytes and headers), and freezing
the process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devkit.broker import child_env, free_port


class DaemonProcess:
    """One daemon in a child process; start it again after a kill with `start()`."""

    def __init__(
        self,
        workdir: Path,
        cameras: dict[str, dict[str, Any]],
        mqtt_port: int,
        pose_script: tuple[Path, Path] | None = None,
        **sections: Any,
    ) -> None:
        """Writes `workdir/config.yaml`; nothing runs before `start()`.

        Args:
            workdir: Folder of the config, the spool and the logs.
            cameras: The `cameras` section.
            mqtt_port: Broker port on 127.0.0.1.
            pose_script: (keypoints file, the clip it describes): every camera's pose stage
                replays it (`devkit/scripted.py`); None runs the real models.
            **sections: More top-level keys; a `mqtt` dict is merged into the defaults.
        """
        self.pose_script = pose_script
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        mqtt_section = {
            "host": "127.0.0.1",
            "port": mqtt_port,
            "client_id": f"hinge-edge-test-{self.web_port}",
            "keepalive_s": 5,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": 1.0,
        } | sections.pop("mqtt", {})
        config = {
            "mqtt": mqtt_section,
            "cameras": cameras,
            "spool": {"path": "spool"},
            "web": {"host": "127.0.0.1", "port": self.web_port},
            "stats_interval_s": 1.0,
        } | sections
        self.config_path = self.workdir / "config.yaml"
        self.config_path.write_text(json.dumps(config, indent=1))
        self.spool_file = self.workdir / "spool" / "outbox.sqlite3"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    # ------------------------------------------------------------ process
    def start(self, timeout_s: float = 30.0) -> DaemonProcess:
        """Starts the daemon and waits until its web side answers."""
        self.starts += 1
        command = ["-m", "edge", "run", "--config", str(self.config_path)]
        if self.pose_script is not None:
            command[:2] = ["-m", "devkit.scripted", *map(str, self.pose_script)]
        with (self.workdir / f"daemon-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=child_env(),
            )
        wait_for(lambda: self._answers(), timeout_s, "the daemon's web side", self.log)
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited ({self.proc.returncode}):\n{self.log()}")
        try:
            self.get("/healthz")
        except OSError:
            return False
        return True

    @property
    def running(self) -> bool:
        """The child process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no goodbye, nothing flushed."""
        if self.running:
            self.proc.kill()  # type: ignore[union-attr]
        if self.proc is not None:
            self.proc.wait(10)

    def terminate(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, as systemd or docker stop sends it; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def log(self, start: int | None = None) -> str:
        """What the daemon logged in its `start`-th run (default: the latest)."""
        path = self.workdir / f"daemon-{start or self.starts}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ------------------------------------------------------------ web side
    def get(self, path: str, timeout_s: float = 3.0) -> tuple[int, str, str]:
        """(HTTP status, content type, body) of a GET; error statuses are returned too."""
        url = f"http://127.0.0.1:{self.web_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                kind = response.headers.get("Content-Type", "")
                return response.status, kind, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", ""), err.read().decode()

    def health(self) -> dict[str, Any]:
        """/healthz as JSON (200 or 503)."""
        return json.loads(self.get("/healthz")[2])

    def state(self) -> dict[str, Any]:
        """/api/state as JSON."""
        status, _, body = self.get("/api/state")
        assert status == 200, body
        return json.loads(body)


def wait_for(
    predicate: Callable[[], object],
    timeout_s: float,
    what: str,
    context: Callable[[], str] | None = None,
) -> None:
    """Polls until `predicate()` is true; fails naming `what` (and the context) otherwise."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            extra = f"\n{context()[-3000:]}" if context is not None else ""
            raise AssertionError(f"not within {timeout_s:g} s: {what}{extra}")
        time.sleep(0.05)


class PageDaemon(DaemonProcess):
    """`python -m edge run --config ...` with one pose worker and slow stats."""

    def __init__(
        self,
        folder: Path,
        cameras: dict[str, dict[str, Any]],
        mqtt_port: int,
        extra: dict[str, Any] | None = None,
        pose_script: tuple[Path, Path] | None = None,
    ) -> None:
        """Writes the config with one pose worker and stats every 30 s.

        `extra` replaces top-level sections (`{"pose": {...}}`); `pose_script` (keypoints,
        clip) replaces the models (`devkit/scripted.py`).
        """
        sections = {"pose": {"workers": 1}, "stats_interval_s": 30} | (extra or {})
        super().__init__(folder, cameras, mqtt_port, pose_script, **sections)
        self.base = f"http://127.0.0.1:{self.web_port}"

    def start(self, timeout_s: float = 60.0) -> PageDaemon:
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
