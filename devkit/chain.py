"""A chain on loopback for tests and tools: simulated boxes and hub workers as processes.

`SimulatedBox` is a box without cameras: its events are made up (`devkit.chain_events`),
but everything after that is the project's own: numbered by `BoxSequence`, put into a
real `Spool` and sent by a real `Publisher` to the upstream broker with the box's
credentials, exactly as a daemon with `site:` and `upstream:` sends them. It records
every event it produced (id and seq) so a test can demand each one at the far end.

`HubProcess` runs `hinge-edge hub --config FILE` in a child process (SIGKILL, restart).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from devkit.broker import child_env, free_port
from devkit.chain_events import SimBox
from edge.contract import iso, parse_event
from edge.publish import Publisher, Spool, SpoolConfig
from edge.publish.config import SiteConfig, UpstreamConfig
from edge.publish.sequence import BoxSequence

ROOT = Path(__file__).resolve().parents[1]


class SimulatedBox:
    """One made-up box publishing through the project's publisher and spool."""

    def __init__(
        self,
        workdir: Path,
        gym: str,
        box: str,
        upstream: dict[str, Any],
        cameras: int = 4,
        seed: int = 0,
    ) -> None:
        """Opens the box's spool; nothing is sent before `start()`.

        Args:
            workdir: The box's folder (its spool).
            gym: Its gym id.
            box: Its box id.
            upstream: The `upstream:` section's keys (host, port, username, password, ...).
            cameras: How many platforms it watches (camera ids `<box>-p<n>`).
            seed: Scores and faults of its made-up reps.
        """
        self.gym, self.box = gym, box
        self.cameras = [f"{box}-p{n + 1}" for n in range(cameras)]
        self.events = SimBox(gym, box, seed=seed)
        self.spool = Spool(SpoolConfig(path=Path(workdir) / "spool"))
        self.sequence = BoxSequence(self.spool)
        site = SiteConfig(gym=gym, box=box)
        config = UpstreamConfig(**upstream).for_site(gym, box)
        self.publisher = Publisher(config, self.spool, run_id=f"sim-{box}", site=site)
        self.produced: dict[str, int] = {}  # event id -> seq
        self.sent_at: dict[str, float] = {}  # event id -> wall-clock time it was handed over
        self._sets = 0
        self._lock = threading.Lock()

    def start(self) -> SimulatedBox:
        """Connects (in the background) and announces the box's cameras."""
        self.publisher.start()
        for camera in self.cameras:
            self.retain(*self.events.camera_status(camera))
            self.retain(*self.events.camera_state(camera))
        return self

    def retain(self, topic: str, payload: bytes) -> None:
        """A retained latest value (camera status or state), as the daemon keeps them."""
        self.publisher.publish_retained(topic, payload.decode())

    def workout_set(self, camera: str, reps: int) -> list[str]:
        """One set on a camera: its reps, each with a rep update, then the set event."""
        self._sets += 1
        set_id = f"{self.gym}-{self.box}-{camera}-s{self._sets}"
        rep_ids = []
        for _ in range(reps):
            rep_id, message = self.events.rep(camera, set_id)
            rep_ids.append(rep_id)
            self.emit(message)
            self.emit(self.events.update(camera, rep_id))
        self.emit(self.events.set(camera, set_id, rep_ids))
        return rep_ids

    def emit(self, message: tuple[str, bytes]) -> None:
        """Numbers one event as a box does, spools it and hands it to the publisher."""
        topic, payload = message
        with self._lock:
            event = parse_event(payload).numbered(self.sequence.next())
            event = dataclasses.replace(event, ts=iso(time.time()))  # made now
            data = event.to_json()
            self.produced[event.id] = event.seq or 0
            self.sent_at[event.id] = time.time()
        self.publisher.publish_event(event.id, topic, data)

    def heartbeat(self) -> None:
        """The box's stats message (QoS 0, dropped while the link is down)."""
        topic, payload = self.events.stats()
        self.publisher.publish_now(topic, payload.decode())

    @property
    def pending(self) -> int:
        """Events in the spool not yet acknowledged by the central broker."""
        return self.spool.count()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Publishes `stopped`, flushes what it can and closes the spool."""
        self.publisher.stop(timeout_s)
        self.spool.close()


class HubProcess:
    """`hinge-edge hub --config FILE` in a child process, its log in the config's folder."""

    def __init__(self, workdir: Path, config: dict[str, Any], web: bool = False) -> None:
        """Writes the config (JSON, which is YAML too); nothing runs before `start()`."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "hub.yaml"
        if web:
            config = {"web": {"host": "127.0.0.1", "port": free_port()}} | config
        self.config = config
        self.config_path.write_text(json.dumps(config, indent=1))
        self.web = web
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> HubProcess:
        """Starts the worker (it migrates the schema, then subscribes)."""
        self.starts += 1
        log = (self.workdir / f"hub-{self.starts}.log").open("wb")
        command = [sys.executable, "-m", "edge", "hub", "--config", str(self.config_path)]
        if not self.web:
            command.append("--no-web")
        self.proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=child_env()
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL: what it had received but not committed is the broker's to send again."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM and wait; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout_s)

    @property
    def running(self) -> bool:
        """The process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        """Every run's log, in order."""
        logs = sorted(self.workdir.glob("hub-*.log"), key=lambda p: int(p.stem.split("-")[1]))
        return "".join(p.read_text(errors="replace") for p in logs)
