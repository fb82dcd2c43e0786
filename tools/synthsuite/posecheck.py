"""Runs the pose pipeline on rendered frames and compares it with the ground truth.

`python -m tools.synthsuite.posecheck --frames 40 --seed 0` renders random athletes (shape,
clothes, gym, load, hinge or squat posture, view) at 1280 x 720 and reports how often a
pose is found and how far each landmark lands from where the body model put it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging

import numpy as np

from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth import poses
from edge.synth.appearance import Appearance
from edge.synth.camera import VIEW_AZIMUTH_DEG, Camera
from edge.synth.posture import Posture
from edge.synth.renderer import Rendered, render
from edge.synth.scene import Scene
from edge.synth.shape import BodyShape

logger = logging.getLogger(__name__)

POSTURES = {
    "standing": poses.STANDING,
    "rdl_bottom": poses.RDL_BOTTOM,
    "squat_bottom": poses.SQUAT_BOTTOM,
    "rounded_back": poses.ROUNDED_BACK,
    "head_up": poses.HEAD_UP,
    "knee_dominant": poses.KNEE_DOMINANT,
    "incomplete_lockout": poses.INCOMPLETE_LOCKOUT,
    "single_leg_rdl": poses.SINGLE_LEG_RDL,
}


@dataclasses.dataclass(frozen=True)
class Sample:
    """One rendered frame and what the pose pipeline made of it.

    Attributes:
        name: Posture name.
        view: Camera view name.
        frame: The rendered frame and its ground truth.
        found_xy: (33, 2) landmarks found, pixels, or None when no pose was found.
        score: Pose presence probability (0 when none was found).
    """

    name: str
    view: str
    frame: Rendered
    found_xy: np.ndarray | None
    score: float


def random_frame(rng: np.random.Generator) -> tuple[str, str, Rendered, Camera]:
    """Renders a random athlete, posture, gym and view at 1280 x 720 (and its camera)."""
    name = str(rng.choice(list(POSTURES)))
    posture: Posture = dataclasses.replace(POSTURES[name], yaw_deg=float(rng.uniform(-180, 180)))
    view = str(rng.choice(list(VIEW_AZIMUTH_DEG)))
    target = np.array([0.0, rng.uniform(0.75, 0.95), 0.0])
    camera = Camera.looking_at(
        target, view, posture.yaw_deg, float(rng.uniform(3.0, 5.0)), float(rng.uniform(0.8, 1.6))
    )
    shape = BodyShape.sample(rng)
    scene = Scene.sample(rng, load="none" if name == "squat_bottom" else None)
    if scene.load == "kettlebell":
        posture = poses.with_grip_width(shape, posture, 0.1)
    frame = render(shape, posture, camera, Appearance.sample(rng), scene, rng)
    return name, view, frame, camera


def check(frames: int, seed: int) -> list[Sample]:
    """Renders `frames` random frames and runs a fresh (static-mode) estimator on each."""
    rng = np.random.default_rng(seed)
    estimator = PoseEstimator(PoseConfig())
    samples = []
    for _ in range(frames):
        name, view, frame, _ = random_frame(rng)
        estimator.reset()
        found = estimator.process(frame.image)
        xy = found.xy[0] if len(found) else None
        score = float(found.score[0]) if len(found) else 0.0
        samples.append(Sample(name, view, frame, xy, score))
    return samples


def body_height_px(frame: Rendered, focal_px: float = 900.0) -> float:
    """The athlete's standing height at their hips' depth, pixels (a posture-free scale)."""
    return frame.skeleton.height_m * focal_px / float(frame.depth_m[23:25].mean())


def summarise(samples: list[Sample]) -> None:
    """Logs the detection rate and landmark errors, overall and per view."""
    found = [s for s in samples if s.found_xy is not None]
    logger.info("pose found on %d of %d frames", len(found), len(samples))
    for s in samples:
        if s.found_xy is None:
            logger.info("missed: %s seen from %s", s.name, s.view)
    errors, visible = [], []
    for s in found:
        err = np.linalg.norm(s.found_xy - s.frame.landmarks_px, axis=1)
        errors.append(err / body_height_px(s.frame))
        visible.append(s.frame.visible)
    err_arr, vis_arr = np.array(errors), np.array(visible)
    for view in VIEW_AZIMUTH_DEG:
        rows = [i for i, s in enumerate(found) if s.view == view]
        if rows:
            sub = err_arr[rows][vis_arr[rows]]
            logger.info(
                "%-13s n=%2d median %.3f p90 %.3f (x body height, visible)",
                view,
                len(rows),
                np.median(sub),
                np.percentile(sub, 90),
            )
    for k in range(33):
        sel = vis_arr[:, k]
        if sel.any():
            logger.info("landmark %2d median %.3f", k, np.median(err_arr[sel, k]))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summarise(check(args.frames, args.seed))


if __name__ == "__main__":
    main()
