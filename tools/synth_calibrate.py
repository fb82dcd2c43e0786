"""Calibrates the synthetic athlete's ground truth to BlazePose's landmark definitions.

The body model places a landmark at a joint centre or a surface point; BlazePose was
trained on people annotated by hand and puts its landmarks a little elsewhere (the hip
landmark sits above and in front of the hip joint centre, say). This tool renders random
athletes, postures, views and gyms, runs the real pose pipeline on each frame, and fits,
per landmark pair, the constant 3-D offset in the landmark's own body frame that best
explains where BlazePose put it (least squares on the image residuals through the
camera's projection, robust to gross misses). With `--write` it adds the fitted offsets to
`anatomy.LANDMARK_CORRECTIONS`, so that "error" against the truth means error.

    .venv/bin/python -m tools.synth_calibrate --frames 400 --seed 0 [--write]

Run it again after `--write`: the fitted offsets should then be near zero.
"""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth import anatomy
from edge.synth.camera import Camera
from edge.synth.renderer import Rendered
from tools.synthsuite.posecheck import body_height_px, random_frame

logger = logging.getLogger("synth_calibrate")
ANATOMY = Path(anatomy.__file__)
GROSS = 0.08
"""Residuals beyond this fraction of body height are misses (a swapped side), not offsets."""
NAMES = {
    0: "nose", 1: "eye inner", 2: "eye", 3: "eye outer", 7: "ear", 9: "mouth",
    11: "shoulder", 13: "elbow", 15: "wrist", 17: "pinky", 19: "index", 21: "thumb",
    23: "hip", 25: "knee", 27: "ankle", 29: "heel", 31: "foot index",
}  # fmt: skip


@dataclass
class Rows:
    """Linear system of one landmark pair: residual ~ design @ correction (body heights)."""

    design: list[np.ndarray]
    residual: list[np.ndarray]


def _jacobian(camera: Camera, point: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """d(pixel) / d(world point), (2, 3), by central differences."""
    cols = []
    for axis in range(3):
        step = np.zeros(3)
        step[axis] = eps
        (a, b), _ = camera.project(np.stack([point + step, point - step]))
        cols.append((a - b) / (2 * eps))
    return np.stack(cols, axis=1)


def _mirror(k: int) -> np.ndarray:
    flip = k in anatomy.RIGHT_TO_LEFT and not 17 <= k <= 22
    return np.diag([-1.0 if flip else 1.0, 1.0, 1.0])


def collect(frames: int, seed: int) -> dict[int, Rows]:
    """Renders frames, runs the pose pipeline, and builds each pair's linear system."""
    rng = np.random.default_rng(seed)
    estimator = PoseEstimator(PoseConfig())
    systems: dict[int, Rows] = {}
    for i in range(frames):
        _, _, frame, camera = random_frame(rng)
        estimator.reset()
        found = estimator.process(frame.image)
        if len(found) == 0:
            continue
        _add_frame(systems, frame, camera, found.xy[0])
        if (i + 1) % 50 == 0:
            logger.info("%d of %d frames", i + 1, frames)
    return systems


def _add_frame(systems: dict[int, Rows], frame: Rendered, camera: Camera, xy: np.ndarray) -> None:
    scale = body_height_px(frame, camera.focal_px)
    sk = frame.skeleton
    for k in np.flatnonzero(frame.visible):
        residual = (xy[k] - frame.landmarks_px[k]) / scale
        if np.linalg.norm(residual) > GROSS:
            continue
        jac = _jacobian(camera, sk.landmarks_m[k])
        design = jac @ sk.landmark_axes[k] @ _mirror(k) * sk.height_m / scale
        rows = systems.setdefault(anatomy.RIGHT_TO_LEFT.get(int(k), int(k)), Rows([], []))
        rows.design.append(design)
        rows.residual.append(residual)


def fit(rows: Rows) -> tuple[np.ndarray, float, float]:
    """Trimmed least squares; returns (correction, median error before, after)."""
    a, b = np.concatenate(rows.design), np.concatenate(rows.residual)
    keep = np.ones(len(b) // 2, bool)
    for _ in range(3):
        mask = np.repeat(keep, 2)
        # A little ridge keeps the depth-only direction of a landmark seen from one side at 0.
        lhs = a[mask].T @ a[mask] + 1e-3 * np.eye(3)
        c = np.linalg.solve(lhs, a[mask].T @ b[mask])
        after = np.linalg.norm((b - a @ c).reshape(-1, 2), axis=1)
        keep = after <= np.percentile(after, 90)
    before = np.linalg.norm(b.reshape(-1, 2), axis=1)
    return c, float(np.median(before)), float(np.median(after))


def write(corrections: dict[int, np.ndarray]) -> None:
    """Adds the fitted offsets to LANDMARK_CORRECTIONS in anatomy.py."""
    merged = dict(anatomy.LANDMARK_CORRECTIONS)
    for k, c in corrections.items():
        if k not in anatomy.RIGHT_TO_LEFT.values():
            c = c * [0.0, 1.0, 1.0]  # a central landmark (the nose) stays on the mid-plane
        merged[k] = tuple(np.round(np.add(merged.get(k, (0.0, 0.0, 0.0)), c), 4).tolist())
    body = "".join(
        f"    {k}: ({v[0]}, {v[1]}, {v[2]}),  # {NAMES.get(k, k)}\n"
        for k, v in sorted(merged.items())
    )
    text = ANATOMY.read_text(encoding="utf-8")
    pattern = r"LANDMARK_CORRECTIONS: dict\[int, tuple\[float, float, float\]\] = \{[^}]*\}"
    new = "LANDMARK_CORRECTIONS: dict[int, tuple[float, float, float]] = {\n" + body + "}"
    ANATOMY.write_text(re.sub(pattern, new, text, count=1), encoding="utf-8")
    logger.info("wrote %d corrections to %s", len(merged), ANATOMY)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="update anatomy.py")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    systems = collect(args.frames, args.seed)
    fitted = {}
    print(f"{'landmark':<12} {'n':>5} {'median err before':>18} {'after':>7}  offset (H)")
    for k in sorted(systems):
        c, before, after = fit(systems[k])
        fitted[k] = c
        print(
            f"{NAMES.get(k, k):<12} {len(systems[k].residual):>5} {before:>18.4f} {after:>7.4f}"
            f"  ({c[0]:+.4f}, {c[1]:+.4f}, {c[2]:+.4f})"
        )
    if args.write:
        write(fitted)


if __name__ == "__main__":
    main()
