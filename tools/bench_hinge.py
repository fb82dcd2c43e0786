"""Cost of the hinge engine per frame per athlete, against the pose stage, in one run.

The issue's budget: scoring must cost under 1% of the pose stage's per-frame time. Both
are timed here on the same machine in the same run (interleaved rounds, medians), since
these machines are shared and noisy:

- pose: `PoseEstimator.process` in tracking mode on rendered 1280x720 frames of the
  synthetic athlete, 1 thread (the pose stage's own benchmark is tools/bench_pose.py);
- hinge: `HingeScorer.update` over generated landmark sets (rep events included).

    .venv/bin/python -m tools.bench_hinge [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from edge.hinge import HingeScorer
from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth import Camera, Posture, Scene, render
from edge.synth.body import BodyShape
from edge.synth.sequence import SIDE_VIEWS, random_set


def hinge_us_per_frame(sets: list) -> float:
    """Mean microseconds per `update` over the given generated sets."""
    frames = 0
    start = time.perf_counter()
    for seq in sets:
        scorer = HingeScorer()
        for t, xy, vis, world in zip(seq.t, seq.xy, seq.visibility, seq.world, strict=True):
            scorer.update(float(t), xy, vis, world)  # with 3-D landmarks, as replay and the daemon
        frames += len(seq.t)
    return (time.perf_counter() - start) / frames * 1e6


def rendered_frames(count: int) -> list[np.ndarray]:
    """A short hinge rendered at 1280x720 (the pose stage's input)."""
    shape = BodyShape()
    camera = Camera.looking_at([0.0, 0.9, 0.0], "side_left")
    scene = Scene(load="barbell")
    frames = []
    for i in range(count):
        k = 0.5 - 0.5 * np.cos(2 * np.pi * i / count)
        posture = Posture(hip_flex_deg=95 * k, knee_flex_deg=22 * k, ankle_deg=2 * k)
        frames.append(render(shape, posture, camera, scene=scene).image)
    return frames


def pose_us_per_frame(estimator: PoseEstimator, frames: list[np.ndarray]) -> float:
    """Mean microseconds per `process` over the frames (tracking: one detector run)."""
    start = time.perf_counter()
    for frame in frames:
        estimator.process(frame)
    return (time.perf_counter() - start) / len(frames) * 1e6


def main() -> int:
    """Times both, prints the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    sets = [random_set(ex, {}, rng, SIDE_VIEWS) for ex in ("rdl", "deadlift", "swing", "squat")]
    frames = rendered_frames(40)
    estimator = PoseEstimator(PoseConfig(threads=1))
    hinge, pose = [], []
    for _ in range(args.rounds):
        estimator.reset()
        pose.append(pose_us_per_frame(estimator, frames))
        hinge.append(hinge_us_per_frame(sets))
    h, p = statistics.median(hinge), statistics.median(pose)
    frames_scored = sum(len(s.t) for s in sets)
    print(
        f"hinge scoring: {h:8.1f} us/frame/athlete (median of {args.rounds} rounds, "
        f"{frames_scored} frames each)"
    )
    print(f"pose stage:    {p:8.1f} us/frame (1 thread, tracking, 1280x720 rendered frames)")
    print(f"ratio:         {100 * h / p:8.2f} % of the pose stage (budget: 1 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
