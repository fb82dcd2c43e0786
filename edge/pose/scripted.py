"""A pose stage that replays recorded landmarks instead of running the models.

`ScriptedPoseEstimator` answers `process` as `PoseEstimator` does, with the landmarks a
keypoints file (`replay --keypoints`, docs/keypoints.md) holds for the frame it is given.
The frame is found by its picture when the clip the file describes is given (a camera
playing that clip in a loop: the daemon's frame times are its own), else by its time in
the clip (a replay), else by order. Tests of the daemon, the publisher and the web side
run the whole pipeline on it without the ONNX models, and as fast as the scorer allows.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from edge.capture.video import iter_video
from edge.errors import EdgeError, ModelError
from edge.keypoints import load_keypoints
from edge.pose.config import PoseConfig
from edge.types import Poses
from edge.zone import Zone

_PRINT_SIZE = (32, 18)  # a frame's picture, shrunk to this grey thumbnail, finds its row
_LEFT_HIP, _RIGHT_HIP = 23, 24


def picture_print(bgr: np.ndarray) -> np.ndarray:
    """A frame's fingerprint: its grey picture shrunk to 32x18, flattened (float32)."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, _PRINT_SIZE, interpolation=cv2.INTER_AREA)
    return small.astype(np.float32).ravel()


class ScriptedPoseEstimator:
    """Replays a keypoints file as the athlete's landmarks, one camera's frames at a time.

    Has `PoseEstimator`'s interface (`process`, `process_with_mask`, `reset` and the
    counters); the zone applies as there (a recorded athlete whose hips are outside it is
    nobody). Landmarks are scaled to the size of the frame given.
    """

    def __init__(
        self,
        track: dict[str, np.ndarray],
        config: PoseConfig | None = None,
        zone: Zone | None = None,
        prints: np.ndarray | None = None,
    ) -> None:
        """Creates an estimator over loaded keypoints (see `from_file`).

        Args:
            track: The keypoints file's arrays (`edge.keypoints.load_keypoints`).
            config: The pose section (kept for the interface; nothing in it applies).
            zone: Platform zone; a recorded athlete with the hips outside it is not seen.
            prints: (F, P) `picture_print` of each recorded frame: frames are then found
                by their picture instead of their time.
        """
        self.config = config or PoseConfig()
        self.zone = zone or Zone()
        self.track = track
        self.prints = prints
        self._next = 0
        self.detector_runs = 0
        self.frames = 0
        self.seconds: dict[str, float] = defaultdict(float)

    @classmethod
    def from_file(
        cls,
        keypoints: Path,
        video: Path | None = None,
        config: PoseConfig | None = None,
        zone: Zone | None = None,
    ) -> ScriptedPoseEstimator:
        """Loads a keypoints file and, if given, the clip it was made from.

        Raises:
            EdgeError: Not a keypoints file, or the clip has another number of frames.
        """
        track = load_keypoints(keypoints)
        prints = None
        if video is not None:
            prints = np.stack([picture_print(frame.image) for frame in iter_video(video)])
            if len(prints) != len(track["t"]):
                raise EdgeError(
                    f"{video} has {len(prints)} frames, {keypoints} {len(track['t'])}: "
                    "not the clip these keypoints were made from"
                )
        return cls(track, config, zone, prints)

    def reset(self) -> None:
        """Starts the by-order replay again (the stream restarted)."""
        self._next = 0

    def process(self, bgr: np.ndarray, t_s: float | None = None) -> Poses:
        """Returns the recorded athlete of this frame (empty when nobody was recorded).

        Args:
            bgr: The frame: its picture finds the row when the clip was given.
            t_s: Its time in the clip: finds the row otherwise (the nearest within half a
                frame); without it the rows are replayed in order.
        """
        self.frames += 1
        row = self._row(bgr, t_s)
        if row is None or not self.track["score"][row] > 0:
            return Poses.empty()
        height, width = bgr.shape[:2]
        file_w, file_h = (float(v) for v in self.track["frame_size"])
        scale = np.array([width / file_w, height / file_h], np.float32)
        roi = self.track["roi"][row].copy()
        roi[:3] *= [scale[0], scale[1], scale[0]]
        poses = Poses(
            xy=(self.track["xy"][row] * scale)[None],
            z=(self.track["z"][row] * scale[0])[None],
            visibility=self.track["visibility"][row][None],
            presence=self.track["presence"][row][None],
            world=self.track["world"][row][None],
            score=self.track["score"][row][None],
            roi=roi[None],
        )
        hips = poses.xy[:, [_LEFT_HIP, _RIGHT_HIP]].mean(axis=1)
        if not self.zone.is_full_frame and not self.zone.contains(hips, (width, height)).all():
            return Poses.empty()
        return poses

    def process_with_mask(self, bgr: np.ndarray, t_s: float | None = None) -> tuple[Poses, None]:
        """No mask: a keypoints file holds none.

        Raises:
            ModelError: Always, as `PoseEstimator` without a mask model.
        """
        raise ModelError("no mask model: a scripted pose stage replays landmarks only")

    def _row(self, bgr: np.ndarray, t_s: float | None) -> int | None:
        if self.prints is not None:
            distance = np.abs(self.prints - picture_print(bgr)).sum(axis=1)
            return int(np.argmin(distance))
        times = self.track["t"]
        if t_s is None:
            row, self._next = self._next, self._next + 1
            return row if row < len(times) else None
        if not len(times):
            return None
        row = int(np.argmin(np.abs(times - t_s)))
        half_frame = 0.5 / float(self.track["fps"]) if float(self.track["fps"]) > 0 else np.inf
        return row if abs(times[row] - t_s) <= half_frame + 1e-6 else None
