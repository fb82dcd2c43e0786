"""Shares pose inference among the cameras: newest frame only, most overdue camera first.

Each worker thread repeatedly takes the camera whose next analysis is most overdue and
that has a frame it has not seen, and analyses that camera's newest frame. A camera is
analysed by one worker at a time (its lock), at most `analysis_fps` times a second, so a
busy camera cannot starve the others; when the box falls behind, cameras are analysed
less often and the frames in between are dropped and counted, never queued.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from pathlib import Path

from edge.capture import CameraReader
from edge.capture.frame import Frame
from edge.daemon.pipeline import CameraPipeline
from edge.pose.config import PoseConfig

logger = logging.getLogger(__name__)

_IDLE_SLEEP_S = 0.004
_IDLE_CHECK_S = 1.0
CGROUP = Path("/sys/fs/cgroup")


def usable_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may keep busy: its CPU affinity, capped by a cgroup CPU quota.

    The quota (cgroup v2 `cpu.max`, or v1 `cpu/cpu.cfs_quota_us` over `cfs_period_us`) is
    what a container limited with `--cpus 1.5` has: rounded up, since a worker on the half
    core still helps. At least 1.
    """
    cores = len(os.sched_getaffinity(0))
    quota = _cgroup_quota(cgroup)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def resolve_workers(pose: PoseConfig, cgroup: Path = CGROUP) -> int:
    """`pose.workers` for this box (`auto` resolved); warns when workers x threads > cores."""
    cores = usable_cores(cgroup)
    workers = pose.worker_count(cores)
    if workers * pose.threads > cores:
        logger.warning(
            "pose: %d worker(s) x %d onnxruntime thread(s) on %d core(s): they will queue for "
            "the cores (pose.workers: auto fits them)",
            workers,
            pose.threads,
            cores,
        )
    logger.info(
        "pose: %d worker(s) x %d thread(s) on %d usable core(s)", workers, pose.threads, cores
    )
    return workers


def _cgroup_quota(cgroup: Path) -> float | None:
    """Cores allowed by the cgroup's CPU quota, or None if unlimited or unreadable."""
    try:
        if (cgroup / "cpu.max").is_file():  # v2: "max 100000" or "150000 100000"
            quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        else:  # v1: quota -1 means none
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
    except (OSError, ValueError):
        return None
    if quota in ("max", "-1") or not quota.lstrip("-").isdigit() or not period.isdigit():
        return None
    return int(quota) / int(period) if int(quota) > 0 and int(period) > 0 else None


class Scheduler:
    """Worker threads that run the camera pipelines."""

    def __init__(
        self, cameras: list[tuple[CameraReader, CameraPipeline]], workers: int = 1
    ) -> None:
        """Creates (does not start) the workers.

        Args:
            cameras: Each camera's reader and pipeline.
            workers: Inference threads (onnxruntime releases the GIL while it runs).
        """
        self._cameras = cameras
        self._workers = workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pick = threading.Lock()

    def start(self) -> None:
        """Starts the workers and the idle check."""
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"pose:{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        idle = threading.Thread(target=self._idle_check, name="pose:idle", daemon=True)
        idle.start()
        self._threads.append(idle)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops the workers after the frame each is analysing."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def alive(self) -> bool:
        """Every worker thread is running (for the health endpoint)."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def _next(self) -> tuple[CameraReader, CameraPipeline, Frame] | None:
        """The most overdue camera with a new frame, locked for the caller; or None."""
        now = time.monotonic()
        with self._pick:
            ranked = sorted((p.next_due, i) for i, (_, p) in enumerate(self._cameras) if p.due(now))
            for _, i in ranked:
                reader, pipeline = self._cameras[i]
                if not pipeline.lock.acquire(blocking=False):
                    continue
                frame = reader.latest(pipeline.last_seq)
                if frame is not None:
                    return reader, pipeline, frame
                pipeline.lock.release()
        return None

    def _work(self) -> None:
        while not self._stop.is_set():
            picked = self._next()
            if picked is None:
                time.sleep(_IDLE_SLEEP_S)
                continue
            reader, pipeline, frame = picked
            try:
                pipeline.step(frame)
            except Exception:  # a bad frame must not kill the worker: log and go on
                logger.exception("camera %s: analysis failed on one frame", pipeline.camera_id)
            finally:
                # frames before the next slot are only grabbed, not converted (reader.py);
                # while this camera waits for a worker, at most one a period is converted
                reader.want_next(pipeline.next_due, pipeline.period_s)
                pipeline.lock.release()

    def _idle_check(self) -> None:
        """Lets the scorer of a camera without frames end its set (athlete gone, camera down)."""
        while not self._stop.wait(_IDLE_CHECK_S):
            for reader, pipeline in self._cameras:
                age = reader.snapshot().last_frame_age_s
                if age is None or age > _IDLE_CHECK_S:
                    try:
                        pipeline.idle()
                    except Exception:
                        logger.exception("camera %s: idle check failed", pipeline.camera_id)
