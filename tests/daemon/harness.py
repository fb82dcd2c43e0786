"""Drives the real daemon: `python -m edge run --config FILE` in a child process.

With a `pose_script` its pose stage replays recorded landmarks instead of running the
models (`python -m tests.scripted`): for tests about everything after pose.
`DaemonProcess` writes a config (JSON text, which is YAML too) into its own folder, starts
the daemon with its stderr in `daemon.log`, and offers what a test needs: the web routes
(/healthz, /api/state, /metrics), SIGKILL and SIGTERM. `Contract` checks every MQTT
payload a test receives against `docs/schemas/` and keeps the rep events by id.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as mqtt

from edge.contract.schema import SCHEMA_TYPES
from tests.broker import child_env, free_port

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
PREFIX = "hinge"


def camera(source: str | Path, **keys: Any) -> dict[str, Any]:
    """A camera entry; `keys` override the test defaults (short timeouts)."""
    entry: dict[str, Any] = {
        "source": str(source),
        "open_timeout_s": 3.0,
        "read_timeout_s": 1.0,
        "stall_timeout_s": 2.0,
    }
    return entry | keys


def swing_camera(clip: Path, **keys: Any) -> dict[str, Any]:
    """A file camera looping the swing clip, the exercise fixed (a deterministic count)."""
    return camera(clip, loop=True, exercise="swing", analysis_fps=10.0) | keys


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
                replays it (`tests/scripted.py`); None runs the real models.
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
            command[:2] = ["-m", "tests.scripted", *map(str, self.pose_script)]
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


def _validators() -> dict[str, jsonschema.Draft202012Validator]:
    validators = {}
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[path.name.removesuffix(".schema.json")] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker()
        )
    return validators


def schema_of(topic: str, payload: dict[str, Any], prefix: str = PREFIX) -> str:
    """Which schema a message on `topic` must follow (docs/mqtt.md's topic table)."""
    levels = topic.removeprefix(prefix + "/").split("/")
    if levels == ["status"]:
        return "status"
    if levels == ["stats"]:
        return "stats"
    if len(levels) != 2:
        raise AssertionError(f"topic outside the contract: {topic}")
    kind = levels[1]
    if kind == "rep":
        return "rep_update" if payload.get("event") == "rep_update" else "rep"
    if kind in ("set", "state"):
        return kind
    if kind == "status":
        return "camera_status"
    raise AssertionError(f"topic outside the contract: {topic}")


TYPES = {cls.kind: cls for cls in SCHEMA_TYPES}
"""Schema name -> payload type."""


class Contract:
    """Validates every message against its schema and reads it as its type; counts by kind.

    A message must also be exactly what its type writes (`from_json(...).to_json()` gives
    the same bytes): the daemon builds every payload from `edge.contract`.
    """

    def __init__(self, prefix: str = PREFIX) -> None:
        self._prefix = prefix
        self._validators = _validators()
        self.checked: Counter[str] = Counter()

    def check(self, messages: list[mqtt.MQTTMessage]) -> None:
        """Fails on the first message that breaks its schema (or has an unparsable time)."""
        for msg in messages:
            payload = json.loads(msg.payload)
            kind = schema_of(msg.topic, payload, self._prefix)
            errors = sorted(self._validators[kind].iter_errors(payload), key=str)
            assert not errors, f"{msg.topic} breaks {kind}.schema.json: {errors[0].message}"
            typed = TYPES[kind].from_json(msg.payload)
            assert typed.to_json().encode() == msg.payload, f"{msg.topic}: not as typed"
            for key in ("ts", "since", "frame_ts"):
                if isinstance(payload.get(key), str):
                    datetime.fromisoformat(payload[key])
            self.checked[kind] += 1


def payloads(messages: list[mqtt.MQTTMessage], suffix: str) -> list[dict[str, Any]]:
    """Decoded payloads of the messages whose topic ends with `suffix` (e.g. `/rep`)."""
    return [json.loads(m.payload) for m in messages if m.topic.endswith(suffix) and m.payload]


def rep_ids(messages: list[mqtt.MQTTMessage], camera_id: str | None = None) -> Counter[str]:
    """How often each rep event id arrived (rep updates left out); > 1 is a duplicate."""
    return Counter(
        p["id"]
        for p in payloads(messages, "/rep")
        if p["event"] == "rep" and camera_id in (None, p["camera"])
    )


def latencies_s(messages: list[mqtt.MQTTMessage]) -> list[float]:
    """Seconds from the frame in which each rep completed (`frame_ts`) to its receipt here.

    paho stamps a received message with `time.monotonic()`; it is turned into wall-clock
    time with the offset between the two clocks now (same machine, same clock as the
    daemon's `frame_ts`).
    """
    offset_s = time.time() - time.monotonic()
    delays = []
    for msg in messages:
        if not msg.topic.endswith("/rep"):
            continue
        event = json.loads(msg.payload)
        if event["event"] == "rep":
            frame_s = datetime.fromisoformat(event["frame_ts"]).timestamp()
            delays.append(msg.timestamp + offset_s - frame_s)
    return delays
