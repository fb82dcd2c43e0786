"""Fixtures of the daemon's end-to-end tests: a rendered swing clip, daemons, subscribers.

The clip is rendered once per session (about 10 s of CPU): 4 kettlebell swings at
320x180, 15 fps, 8.4 s, after 1 s standing and before 1.5 s standing. Cameras fix the
exercise (`swing`), so the count is deterministic: 4 reps per play of the clip. The
daemons' pose stage replays the clip's true landmarks (no model loads: these tests are
about what comes after pose; tests/daemon/test_demo.py runs the real models).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devkit.broker import Collector
from devkit.daemon import DaemonProcess
from devkit.scripted import truth_keypoints
from edge.synth.clip import ClipCamera, render_clip
from edge.synth.motion import MotionSpec

SWING = MotionSpec(exercise="swing", reps=4, lead_in_s=1.0, tail_s=1.5)
SWING_CAMERA = ClipCamera(width_px=320, height_px=180, focal_px=225.0, fps=15.0)


@dataclass(frozen=True)
class Clip:
    """A rendered clip, its truth, and its true landmarks as a keypoints file."""

    path: Path
    reps: int
    frames: int
    keypoints: Path


@pytest.fixture(scope="session")
def swing_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """4 swings, 320x180 at 15 fps (rendered once per session)."""
    path = tmp_path_factory.mktemp("daemon-clips") / "swing.mp4"
    truth = render_clip(SWING, SWING_CAMERA, path, seed=1)
    reps = truth["reps"] if isinstance(truth["reps"], int) else len(truth["reps"])
    keypoints = truth_keypoints(path, truth, path.with_suffix(".npz"))
    return Clip(path, reps, len(truth["frames"]), keypoints)


@pytest.fixture
def daemons(tmp_path: Path, swing_clip: Clip) -> Iterator:
    """Makes `DaemonProcess`es in the test's folder; every one still running is killed after.

    Their pose stage replays the swing clip's true landmarks, found by picture (frames of
    other clips or pictures get the nearest of its frames).
    """
    made: list[DaemonProcess] = []
    script = (swing_clip.keypoints, swing_clip.path)

    def make(cameras: dict, mqtt_port: int, name: str = "daemon", **sections) -> DaemonProcess:
        daemon = DaemonProcess(tmp_path / name, cameras, mqtt_port, script, **sections)
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
