"""`hinge-edge replay`: run the pipeline over a video file and write what it saw."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from edge.capture.video import iter_video, open_video
from edge.keypoints import KeypointTrack
from edge.pose import PoseEstimator

logger = logging.getLogger(__name__)

_PROGRESS_EVERY_S = 5.0


@dataclass(frozen=True)
class ReplaySummary:
    """Figures of one replay, for the command's last line."""

    frames: int
    frames_with_pose: int
    detector_runs: int
    seconds: float


def replay_keypoints(
    video: Path, estimator: PoseEstimator, max_frames: int | None = None
) -> tuple[KeypointTrack, ReplaySummary]:
    """Runs the pose stage over every frame of a video file.

    Returns:
        The athlete's landmarks per frame and a summary.

    Raises:
        SourceError: The video cannot be read.
    """
    capture, info = open_video(video)
    capture.release()
    track = KeypointTrack(
        frame_size=(info.width, info.height),
        fps=info.fps,
        source=video.name,
        model=estimator.landmark_model.spec.name,
    )
    start = last_report = time.monotonic()
    with_pose = 0
    for frame in iter_video(video, max_frames):
        poses = estimator.process(frame.image)
        with_pose += bool(len(poses))
        track.append(frame.t_s, poses)
        now = time.monotonic()
        if now - last_report >= _PROGRESS_EVERY_S:
            last_report = now
            total = info.frame_count or "?"
            logger.info("%s: frame %d of %s", video.name, frame.index + 1, total)
    summary = ReplaySummary(
        len(track.t), with_pose, estimator.detector_runs, time.monotonic() - start
    )
    return track, summary
