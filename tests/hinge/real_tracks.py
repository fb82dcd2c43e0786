"""Real keypoint tracks for the golden tests: the pose stage over the dev clips, cached.

The cache lives in pytest's cache folder, keyed by the pose code and the models, so a
change to either recomputes it; CI starts without one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from edge.hinge import HingeScorer
from edge.pose import PoseEstimator, load_mask_model
from edge.pose.config import PoseConfig
from edge.pose.manifest import landmark_code_digest
from edge.replay import replay

ROOT = Path(__file__).resolve().parents[2]


def pose_code_key() -> str:
    """The landmark caches' key (pose code and model manifest), short."""
    return landmark_code_digest(ROOT / "models")[:16]


def clip_track(clip: Path, cache: Path, models: tuple, fps: float = 0.0) -> dict[str, np.ndarray]:
    """(t, xy, visibility, world, back) of a clip, from the cache or computed now.

    As replay and the daemon run it: the scorer alongside, the mask model on the frames it
    asks for (`back`: their outlines, NaN rows elsewhere); at `fps` analysed frames a
    second (0: every frame), the pose tracker seeing only those.
    """
    name = str(clip) + (f"|{fps:g}fps" if fps > 0 else "")
    out = cache / (hashlib.sha256(name.encode()).hexdigest()[:16] + ".npz")
    if not out.exists():
        config = PoseConfig()
        estimator = PoseEstimator(config, models=models, mask_model=load_mask_model(config))
        result = replay(clip, estimator, HingeScorer(), fps=fps)
        arrays = result.track.arrays()
        np.savez_compressed(
            out,
            **{k: arrays[k] for k in ("t", "xy", "visibility", "world")},
            back=result.outline_rows(),
        )
    with np.load(out) as data:
        return {key: data[key] for key in ("t", "xy", "visibility", "world", "back")}


def load_posetrack(path: Path) -> dict[str, np.ndarray]:
    """A BlazePose `.posetrack.json` (idvorkin/swing-analyzer) as (t, xy, visibility)."""
    doc = json.loads(path.read_text())
    frames = doc["frames"]
    xy = np.full((len(frames), 33, 2), np.nan, np.float32)
    vis = np.zeros((len(frames), 33), np.float32)
    for i, frame in enumerate(frames):
        if frame["keypoints"]:
            xy[i] = [[k["x"], k["y"]] for k in frame["keypoints"]]
            vis[i] = [k.get("score", 1.0) for k in frame["keypoints"]]
    t = np.array([f["videoTime"] for f in frames], np.float64)
    return {"t": t, "xy": xy, "visibility": vis, "fps": doc["metadata"]["fps"]}
