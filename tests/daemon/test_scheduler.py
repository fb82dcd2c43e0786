"""Scheduling: `pose.workers: auto` from the cores this process may use, and fairness.

The fairness tests run the real scheduler on real readers (a small clip looping at 20 fps
per camera) and real pipelines whose pose stage takes a fixed 60 ms (a sleep: the GIL is
free, as while onnxruntime runs), so one worker manages about 16 frames a second against the
40 or 60 asked for (5 fps a camera): every camera must still get its share (counts, not
timings), and its reader converts no more frames than the camera's analysis rate.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge.capture.config import CaptureConfig
from edge.capture.reader import CameraReader
from edge.contract import AnyEvent, CameraState, RepEvent
from edge.daemon.pipeline import CameraPipeline
from edge.daemon.scheduler import Scheduler, resolve_workers, usable_cores
from edge.hinge import HingeConfig
from edge.pose.config import PoseConfig
from edge.types import Poses
from tests.servers.streams import wait_until, write_test_clip

AFFINITY = len(os.sched_getaffinity(0))


def _cgroup(tmp_path: Path, v2: str | None = None, v1: tuple[str, str] | None = None) -> Path:
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(v1[0] + "\n")
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(v1[1] + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("v2", "v1", "cores"),
    [
        ("max 100000", None, AFFINITY),  # no quota: the affinity
        ("100000 100000", None, 1),  # --cpus 1
        ("50000 100000", None, 1),  # --cpus 0.5: still one worker
        ("150000 100000", None, min(AFFINITY, 2)),  # --cpus 1.5: rounded up
        ("6400000 100000", None, AFFINITY),  # a quota above the affinity
        (None, ("-1", "100000"), AFFINITY),  # cgroup v1, no quota
        (None, ("100000", "100000"), 1),  # cgroup v1, one core
        (None, None, AFFINITY),  # no cgroup files at all
        ("garbage", None, AFFINITY),  # unreadable: the affinity
    ],
)
def test_usable_cores_is_the_affinity_capped_by_the_cgroup_quota(tmp_path, v2, v1, cores):
    assert usable_cores(_cgroup(tmp_path, v2, v1)) == cores


@pytest.mark.parametrize(
    ("workers", "threads", "cores", "expected"),
    [("auto", 1, 2, 2), ("auto", 2, 4, 2), ("auto", 4, 2, 1), ("auto", 1, 1, 1), (3, 1, 2, 3)],
)
def test_auto_workers_keep_workers_times_threads_within_the_cores(
    workers, threads, cores, expected
):
    assert PoseConfig(workers=workers, threads=threads).worker_count(cores) == expected


def test_workers_default_to_auto_and_accept_only_auto_or_1_to_16():
    assert PoseConfig().workers == "auto"
    assert PoseConfig(workers="2").workers == 2  # as an environment variable gives it
    for bad in (0, 17, "all"):
        with pytest.raises(ValidationError, match="workers"):
            PoseConfig(workers=bad)


def test_resolving_warns_when_explicit_workers_oversubscribe(tmp_path, caplog):
    one_core = _cgroup(tmp_path, "100000 100000")
    with caplog.at_level(logging.INFO, logger="edge.daemon.scheduler"):
        assert resolve_workers(PoseConfig(), one_core) == 1
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert resolve_workers(PoseConfig(workers=2, threads=2), one_core) == 2
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "2 worker(s) x 2 onnxruntime thread(s) on 1 core(s)" in warning.getMessage()


class SlowPose:
    """A pose stage that takes `delay_s` a frame and finds nobody (keeps no timings)."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def process(self, bgr: np.ndarray, t_s: float | None = None) -> Poses:
        time.sleep(self.delay_s)
        return Poses.empty()

    def reset(self) -> None:
        pass


class NullSink:
    def on_event(self, camera_id: str, event: AnyEvent, frame_ts_wall: float) -> None:
        pass

    def on_state(self, camera_id: str, state: CameraState) -> None:
        pass

    def on_still(self, camera_id: str, rep: RepEvent, bottom: object) -> None:
        pass


@pytest.mark.slow
@pytest.mark.parametrize("cameras", [8, 12])
def test_over_capacity_no_camera_is_starved(tmp_path, cameras):
    clip = write_test_clip(tmp_path / "loop.mp4", seconds=2.0, fps=20.0)
    pairs = [
        (
            CameraReader(f"c{i}", str(clip), CaptureConfig(loop=True)),
            CameraPipeline(f"c{i}", 5.0, SlowPose(0.06), HingeConfig(), f"c{i}-t", NullSink()),
        )
        for i in range(cameras)
    ]
    scheduler = Scheduler(pairs, workers=1)
    for reader, _ in pairs:
        reader.start()
    try:
        assert wait_until(lambda: all(r.latest(0) is not None for r, _ in pairs), 15.0)
        scheduler.start()
        # about 3 rounds over every camera, then 9 more, whatever the box's speed
        assert wait_until(lambda: sum(p.counters.analysed for _, p in pairs) >= 3 * cameras, 30)
        before = [(p.counters.analysed, r.snapshot()) for r, p in pairs]
        assert wait_until(lambda: sum(p.counters.analysed for _, p in pairs) >= 12 * cameras, 60)
        after = [(p.counters.analysed, r.snapshot()) for r, p in pairs]
    finally:
        scheduler.stop()
        for reader, _ in pairs:
            reader.stop(timeout_s=3.0)
    analysed = [n1 - n0 for (n0, _), (n1, _) in zip(before, after, strict=True)]
    mean = sum(analysed) / cameras
    assert min(analysed) >= 0.8 * mean, analysed
    assert all(p.counters.skipped > 0 for _, p in pairs)  # over capacity indeed
    # 20 frames a second grabbed; converted: one per 0.2 s slot at most, while waiting too
    for (_, s0), (_, s1) in zip(before, after, strict=True):
        read, retrieved = s1.frames_read - s0.frames_read, s1.frames_retrieved - s0.frames_retrieved
        assert retrieved <= read / 4 + 2, (retrieved, read)
