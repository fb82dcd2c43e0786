"""`hinge-edge replay`: run the pipeline over a video file and write what it saw."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.capture.video import iter_video, open_video
from edge.events import stamp
from edge.hinge import HingeScorer
from edge.keypoints import KeypointTrack
from edge.pose import PoseEstimator

logger = logging.getLogger(__name__)

_PROGRESS_EVERY_S = 5.0


@dataclass
class ReplayResult:
    """Everything one replay produced."""

    track: KeypointTrack
    events: list[dict[str, Any]] = field(default_factory=list)
    frames_with_pose: int = 0
    detector_runs: int = 0
    seconds: float = 0.0

    @property
    def frames(self) -> int:
        """Frames decoded."""
        return len(self.track.t)


def replay(
    video: Path,
    estimator: PoseEstimator,
    scorer: HingeScorer | None = None,
    max_frames: int | None = None,
    camera_id: str | None = None,
) -> ReplayResult:
    """Runs the pose stage (and the scorer, if given) over every frame of a video file.

    Raises:
        SourceError: The video cannot be read.
    """
    capture, info = open_video(video)
    capture.release()
    camera = camera_id or video.stem
    result = ReplayResult(
        KeypointTrack(
            frame_size=(info.width, info.height),
            fps=info.fps,
            source=video.name,
            model=estimator.landmark_model.spec.name,
        )
    )
    start = last_report = time.monotonic()
    t_s = 0.0
    for frame in iter_video(video, max_frames):
        t_s = frame.t_s
        poses = estimator.process(frame.image)
        result.frames_with_pose += bool(len(poses))
        result.track.append(t_s, poses)
        if scorer is not None:
            seen = len(poses) > 0
            events = scorer.update(
                t_s, poses.xy[0] if seen else None, poses.visibility[0] if seen else None
            )
            result.events += [stamp(e, camera, None) for e in events]
        if time.monotonic() - last_report >= _PROGRESS_EVERY_S:
            last_report = time.monotonic()
            logger.info("%s: frame %d of %s", video.name, frame.index + 1, info.frame_count or "?")
    if scorer is not None:
        result.events += [stamp(e, camera, None) for e in scorer.close(t_s)]
    result.detector_runs = estimator.detector_runs
    result.seconds = time.monotonic() - start
    return result
