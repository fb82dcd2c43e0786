"""The `--keypoints` file: per-frame landmarks of one athlete, as a NumPy `.npz` archive.

Keys (F = frames, 33 BlazePose landmarks; see docs/keypoints.md):
    format        str   "hinge-edge.keypoints/1"
    xy            (F, 33, 2) float32 image pixels, NaN where no pose
    visibility    (F, 33) float32 in [0, 1], 0 where no pose
    presence      (F, 33) float32 in [0, 1], 0 where no pose
    z             (F, 33) float32 relative depth (image-pixel scale), NaN where no pose
    world         (F, 33, 3) float32 metres, hip-centred, NaN where no pose
    score         (F,) float32 pose probability, 0 where no pose
    roi           (F, 4) float32 [cx, cy, size, rotation_rad] of the crop, NaN where no pose
    t             (F,) float64 seconds from the clip start
    frame_size    (2,) int32 [width, height]
    fps           () float64 frames per second of the source
    source        str   the video's file name
    model         str   the landmark model's manifest name
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import EdgeError
from edge.types import NUM_LANDMARKS, Poses

FORMAT = "hinge-edge.keypoints/1"
_PER_FRAME = ("xy", "visibility", "presence", "z", "world", "score", "roi")
_EMPTY_FILL = {"visibility": 0.0, "presence": 0.0, "score": 0.0}


@dataclass
class KeypointTrack:
    """Landmarks of one athlete over a clip; build it with `append`, then `save`."""

    frame_size: tuple[int, int]
    fps: float
    source: str = ""
    model: str = ""
    t: list[float] = field(default_factory=list)
    rows: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in _PER_FRAME})

    def append(self, t_s: float, poses: Poses) -> None:
        """Adds one frame: the first person of `poses`, or a no-pose row if it is empty."""
        self.t.append(t_s)
        for key in _PER_FRAME:
            value = getattr(poses, key)
            if len(poses):
                self.rows[key].append(value[0])
            else:
                shape = value.shape[1:]
                self.rows[key].append(np.full(shape, _EMPTY_FILL.get(key, np.nan), np.float32))

    def arrays(self) -> dict[str, Any]:
        """Returns every key of the file format: arrays, NumPy scalars for fps and the names."""
        out: dict[str, Any] = {
            key: np.asarray(np.stack(rows) if rows else _empty(key), np.float32)
            for key, rows in self.rows.items()
        }
        out["t"] = np.asarray(self.t, np.float64)
        out["frame_size"] = np.asarray(self.frame_size, np.int32)
        out["fps"] = np.float64(self.fps)
        out["source"] = np.str_(self.source)
        out["model"] = np.str_(self.model)
        out["format"] = np.str_(FORMAT)
        return out

    def save(self, path: Path) -> None:
        """Writes the `.npz` file (compressed)."""
        np.savez_compressed(path, **self.arrays())


def _empty(key: str) -> np.ndarray:
    shapes = {
        "xy": (0, NUM_LANDMARKS, 2),
        "world": (0, NUM_LANDMARKS, 3),
        "score": (0,),
        "roi": (0, 4),
    }
    return np.zeros(shapes.get(key, (0, NUM_LANDMARKS)), np.float32)


def load_keypoints(path: Path) -> dict[str, np.ndarray]:
    """Reads a keypoints file and checks its format tag and shapes.

    Raises:
        EdgeError: Not a hinge-edge keypoints file, or inconsistent shapes.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as err:
        raise EdgeError(f"{path} is not a readable .npz keypoints file: {err}") from err
    if str(data.get("format", "")) != FORMAT:
        raise EdgeError(f"{path}: format is {data.get('format')!r}, expected {FORMAT!r}")
    frames = len(data["t"])
    if data["xy"].shape != (frames, NUM_LANDMARKS, 2):
        raise EdgeError(f"{path}: xy has shape {data['xy'].shape}, expected ({frames}, 33, 2)")
    return data
