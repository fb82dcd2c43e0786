"""Fixtures of the daemon's end-to-end tests: a rendered swing clip, daemons, subscribers.

The clip is rendered once per session (about 10 s of CPU): 4 kettlebell swings at
320x180, 15 fps, 8.4 s, after 1 s standing and before 1.5 s standing. Cameras fix the
exercise (`swing`), so the count is deterministic: 4 reps per play of the clip.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge.synth.clip import ClipCamera, render_clip
from edge.synth.motion import MotionSpec
from tests.broker import Collector
from tests.daemon.harness import DaemonProcess

SWING = MotionSpec(exercise="swing", reps=4, lead_in_s=1.0, tail_s=1.5)
SWING_CAMERA = ClipCamera(width_px=320, height_px=180, focal_px=225.0, fps=15.0)


@dataclass(frozen=True)
class Clip:
    """A rendered clip and its truth."""

    path: Path
    reps: int
    frames: int


@pytest.fixture(scope="session")
def swing_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """4 swings, 320x180 at 15 fps (rendered once per session)."""
    path = tmp_path_factory.mktemp("daemon-clips") / "swing.mp4"
    truth = render_clip(SWING, SWING_CAMERA, path, seed=1)
    reps = truth["reps"] if isinstance(truth["reps"], int) else len(truth["reps"])
    return Clip(path, reps, len(truth["frames"]))


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator:
    """Makes `DaemonProcess`es in the test's folder; every one still running is killed after."""
    made: list[DaemonProcess] = []

    def make(cameras: dict, mqtt_port: int, name: str = "daemon", **sections) -> DaemonProcess:
        daemon = DaemonProcess(tmp_path / name, cameras, mqtt_port, **sections)
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.kill()


@pytest.fixture
def subscribers() -> Iterator:
    """Makes `Collector`s (persistent sessions by default); all closed after."""
    made: list[Collector] = []

    def make(port: int, topics: str | list[str] = "hinge/#", **kwargs) -> Collector:
        kwargs.setdefault("client_id", f"test-sub-{len(made)}-{port}")
        kwargs.setdefault("clean_session", False)
        collector = Collector(port, topics, **kwargs).wait_subscribed()
        made.append(collector)
        return collector

    yield make
    for collector in made:
        collector.close()
