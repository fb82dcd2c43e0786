"""`hinge-edge replay`: run the pipeline over a video file and write what it saw."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from pathlib import Path

import numpy as np

from edge.capture.video import VideoFrame, iter_video, open_video
from edge.contract import AnyEvent
from edge.hinge import HingeScorer
from edge.keypoints import KeypointTrack
from edge.pose import PoseEstimator
from edge.pose.back import BackOutline, pose_and_back
from edge.report.progress import Progress
from edge.types import Poses

logger = logging.getLogger(__name__)

FrameCallback = Callable[[VideoFrame, Poses, list[AnyEvent]], None]
"""Called after each frame with the frame, its poses and the events it completed."""


@dataclass
class ReplayResult:
    """Everything one replay produced."""

    track: KeypointTrack
    events: list[AnyEvent] = field(default_factory=list)  # stamped with the camera
    frames_with_pose: int = 0
    outlines: list[BackOutline | None] = field(default_factory=list)  # per frame: the back check
    detector_runs: int = 0
    seconds: float = 0.0

    @property
    def frames_masked(self) -> int:
        """Frames on which the back check read an outline."""
        return sum(outline is not None for outline in self.outlines)

    def outline_rows(self) -> np.ndarray:
        """(F, 4) outlines per frame (bulge, upper, lower, arch); NaN rows where none."""
        none = (math.nan,) * 4
        rows = [none if o is None else astuple(o.shape) for o in self.outlines]
        return np.array(rows, np.float64).reshape(-1, 4)

    @property
    def frames(self) -> int:
        """Frames analysed (every frame decoded, unless `replay`'s `fps` dropped some)."""
        return len(self.track.t)


def analysis_slot(t_s: float | np.ndarray, fps: float) -> np.ndarray:
    """The analysis slot of a frame at `t_s` for a camera analysed at `fps`.

    A daemon analysing at `fps` that keeps up takes the first frame at or after each period
    (`CameraPipeline.due`): the first of each slot. Replay and the evaluation tools drop
    frames by this rule.
    """
    return np.floor(np.asarray(t_s) * fps + 1e-6)


def replay(  # noqa: PLR0913 - the run's optional parts, each a keyword with a default
    video: Path,
    estimator: PoseEstimator,
    scorer: HingeScorer | None = None,
    max_frames: int | None = None,
    camera_id: str | None = None,
    on_frame: FrameCallback | None = None,
    fps: float = 0.0,
) -> ReplayResult:
    """Runs the pose stage (and the scorer, if given) over the frames of a video file.

    `fps`: analyse at most this many frames a second, as a camera's `analysis_fps` does
    (the frames between are decoded and dropped: the pose tracker and the scorer see the
    stream a daemon would); 0 analyses every frame. `on_frame`, if given, sees every
    analysed frame after it was processed (for a report); the events of the end of the
    stream (`scorer.close`) come after the last frame's call.

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
    start = time.monotonic()
    total = (
        info.frame_count if max_frames is None else min(max_frames, info.frame_count or max_frames)
    )
    progress = Progress(video.name, total)
    t_s = 0.0
    last_slot = -math.inf
    for frame in iter_video(video, max_frames):
        if fps > 0:
            slot = float(analysis_slot(frame.t_s, fps))
            if slot <= last_slot:
                continue
            last_slot = slot
        t_s = frame.t_s
        poses, back = pose_and_back(estimator, scorer, frame.image, t_s)
        result.frames_with_pose += bool(len(poses))
        result.outlines.append(back)
        result.track.append(t_s, poses)
        events: list[AnyEvent] = []
        if scorer is not None:
            seen = len(poses) > 0
            events = scorer.update(
                t_s,
                poses.xy[0] if seen else None,
                poses.visibility[0] if seen else None,
                poses.world[0] if seen else None,
                back=None if back is None else back.shape,
            )
            events = [e.stamped(camera, None) for e in events]
            result.events += events
        if on_frame is not None:
            on_frame(frame, poses, events)
        progress.tick(frame.index + 1)
    if scorer is not None:
        result.events += [e.stamped(camera, None) for e in scorer.close(t_s)]
    result.detector_runs = estimator.detector_runs
    result.seconds = time.monotonic() - start
    return result
