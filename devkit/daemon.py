"""Drives the real daemon: `python -m edge run --config FILE` in a child process.

`DaemonProcess` writes a config (JSON text, which is YAML too) into its own folder, starts
the daemon with its stderr in `daemon-N.log`, and offers what a test needs: the web routes
(/healthz, /api/state, /metrics; signed in as the `admin` it writes into its own users
file), SIGKILL and SIGTERM. With a `pose_script` its pose stage
replays recorded landmarks instead of running the models (`python -m devkit.scripted`):
for tests about everything after pose. `PageDaemon` is the daemon as the page tests and
tools/web_screenshots.py drive it: a base URL, raw GETs (bytes and headers), and freezing
the process.
"""

from __future__ import annotations

import http.cookiejar
import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devkit.broker import child_env, free_port
from devkit.browser import Browser, Page
from edge.daemon.auth import Role, UserStore

TEST_KDF_ITERATIONS = 1000  # the harness's own logins: cheap to check (the format records it)


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
            **sections: More top-level keys; a `mqtt` or `web` dict is merged into the
                defaults.
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
        self.users_file = self.workdir / "web-users.json"
        self.users = UserStore(self.users_file)
        self.admin_password = secrets.token_urlsafe(12)
        self.users.add_user("admin", Role.ADMIN, self.admin_password, (), TEST_KDF_ITERATIONS)
        web_section = {
            "host": "127.0.0.1",
            "port": self.web_port,
            "auth": {"users_file": str(self.users_file)},
        } | sections.pop("web", {})
        self.web_port = web_section["port"]
        config = {
            "mqtt": mqtt_section,
            "cameras": cameras,
            "spool": {"path": "spool"},
            "web": web_section,
            "stats_interval_s": 1.0,
        } | sections
        self.config_path = self.workdir / "config.yaml"
        self.config_path.write_text(json.dumps(config, indent=1))
        self.spool_file = self.workdir / "spool" / "outbox.sqlite3"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.preexec: Callable[[], None] | None = None  # run in the child before the daemon
        self.options: list[str] = []  # before `run`: `["--log-level", "debug"]`
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    # ------------------------------------------------------------ process
    def start(self, timeout_s: float = 30.0) -> DaemonProcess:
        """Starts the daemon and waits until its web side answers."""
        self.starts += 1
        command = ["-m", "edge", *self.options, "run", "--config", str(self.config_path)]
        if self.pose_script is not None:
            command[:2] = ["-m", "devkit.scripted", *map(str, self.pose_script)]
        with (self.workdir / f"daemon-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=child_env(),
                preexec_fn=self.preexec,
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
    def login(self, user: str = "admin", password: str | None = None) -> int:
        """Signs in through POST /login (the session cookie is kept); returns the status."""
        form = {"user": user, "password": password or self.admin_password, "next": "/"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}/login",
            data=urllib.parse.urlencode(form).encode(),
        )
        return self._open(request, 5.0)[0]

    def get(self, path: str, timeout_s: float = 3.0) -> tuple[int, str, str]:
        """(HTTP status, content type, body) of a GET as admin; error statuses too."""
        url = f"http://127.0.0.1:{self.web_port}{path}"
        status, kind, body = self._open(urllib.request.Request(url), timeout_s)
        if status == 401:  # not signed in yet, or the daemon restarted (sessions are per run)
            self.login()
            status, kind, body = self._open(urllib.request.Request(url), timeout_s)
        return status, kind, body

    def _open(self, request: urllib.request.Request, timeout_s: float) -> tuple[int, str, str]:
        try:
            with self._opener.open(request, timeout=timeout_s) as response:
                kind = response.headers.get("Content-Type", "")
                return response.status, kind, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", ""), err.read().decode()

    def display_link(self, camera_id: str) -> str:
        """A new display link of a camera (as `hinge-edge display-token` makes)."""
        _, token = self.users.new_display_token(camera_id)
        return f"http://127.0.0.1:{self.web_port}/display/{camera_id}?token={token}"

    def health(self) -> dict[str, Any]:
        """/api/health as JSON (200 or 503): what /healthz summarises as ok or degraded."""
        return json.loads(self.get("/api/health")[2])

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
        """(HTTP status or None if nothing answers, body, headers) of a GET as admin."""
        if not self.cookies:
            self.login()
        try:
            with self._opener.open(self.base + path, timeout=5) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)
        except OSError:
            return None, b"", {}

    def sign_in(
        self, browser: Browser, path: str = "/", width: int = 1280, height: int = 900
    ) -> Page:
        """A browser page signed in through the login form as admin, showing `path`."""
        page = browser.page(f"{self.base}/login?next={urllib.parse.quote(path)}", width, height)
        page.wait_for("document.readyState === 'complete' && !!document.forms[0]")
        fill = {"user": "admin", "password": self.admin_password}
        page.evaluate(
            f"(() => {{ const f = document.forms[0], v = {json.dumps(fill)};"
            " f.user.value = v.user; f.password.value = v.password; f.submit(); })()"
        )
        page.wait_for(f"location.pathname === {json.dumps(path)}")
        return page

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
