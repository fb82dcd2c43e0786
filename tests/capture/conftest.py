"""Clips and helpers for the capture tests (clips are made here, nothing is read from disk)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from edge.capture.snapshot import CaptureSnapshot, CaptureState
from tests.servers.streams import write_test_clip

CLIP_FPS = 20.0
CLIP_SECONDS = 3.0


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 20 fps, 160x120: a yellow square moving right 4 px a frame (60 frames)."""
    path = tmp_path_factory.mktemp("clips") / "square.mp4"
    return write_test_clip(path, seconds=CLIP_SECONDS, fps=CLIP_FPS)


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s at 20 fps (20 frames): for looping."""
    path = tmp_path_factory.mktemp("clips") / "short.mp4"
    return write_test_clip(path, seconds=1.0, fps=CLIP_FPS)


class StateLog:
    """An `on_state_change` callback that records (state, monotonic time, snapshot, thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[CaptureState, float, CaptureSnapshot, str]] = []

    def __call__(self, camera_id: str, snapshot: CaptureSnapshot) -> None:
        assert camera_id == snapshot.camera_id
        with self.lock:
            self.events.append(
                (snapshot.state, time.monotonic(), snapshot, threading.current_thread().name)
            )

    def states(self) -> list[CaptureState]:
        with self.lock:
            return [event[0] for event in self.events]

    def first(self, state: CaptureState, after: float = 0.0) -> float | None:
        """Monotonic time the state was first entered after `after`, or None."""
        with self.lock:
            return next((t for s, t, _, _ in self.events if s is state and t >= after), None)


@pytest.fixture
def state_log() -> StateLog:
    return StateLog()
