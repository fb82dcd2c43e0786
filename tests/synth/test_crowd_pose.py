"""The real pose stage keeps to the athlete while a passer-by crosses in front of them."""

import cv2
import numpy as np
import pytest

from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth.clip import ClipCamera, render_clip
from edge.synth.crowd import Extras, PasserBy
from edge.synth.motion import MotionSpec
from edge.zone import Zone

pytestmark = pytest.mark.model

CAMERA = ClipCamera(width_px=640, height_px=360, focal_px=450.0, fps=10.0)
HIPS = [23, 24]


def _platform_zone(truth: dict) -> Zone:
    """A zone around everywhere the athlete's landmarks go, plus a tenth on each side."""
    xy = np.array([f["xy_px"] for f in truth["frames"]]).reshape(-1, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    size = np.array([CAMERA.width_px, CAMERA.height_px])
    lo, hi = (
        np.clip((lo - 0.1 * (hi - lo)) / size, 0, 1),
        np.clip((hi + 0.1 * (hi - lo)) / size, 0, 1),
    )
    return Zone([(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])])


def test_the_athlete_is_tracked_not_the_passer_by(tmp_path, pose_models):
    spec = MotionSpec(exercise="rdl", reps=1, lead_in_s=0.3, tail_s=0.3)
    extras = Extras(passers_by=(PasserBy(depth_m=-1.8, enter_s=0.5),))  # 1.7 m from the lens
    out = tmp_path / "crossing.mp4"
    truth = render_clip(spec, CAMERA, out, seed=3, extras=extras)
    estimator = PoseEstimator(PoseConfig(), zone=_platform_zone(truth), models=pose_models)
    capture = cv2.VideoCapture(str(out))
    body_px = truth["body"]["height_m"] * CAMERA.focal_px / CAMERA.distance_m
    found, after = 0, []
    crossed = False
    for frame in truth["frames"]:
        ok, image = capture.read()
        assert ok
        poses = estimator.process(image)
        walker = frame["others"][0]
        crossed |= walker["box_px"] is not None
        if not len(poses):
            continue
        found += 1
        hips = poses.xy[0, HIPS].mean(axis=0)
        to_athlete = np.linalg.norm(hips - np.array(frame["xy_px"])[HIPS].mean(axis=0))
        to_walker = np.linalg.norm(hips - np.array(walker["xy_px"])[HIPS].mean(axis=0))
        # Where the two hips coincide in the picture, near the athlete's is enough.
        assert to_athlete < max(to_walker, 0.1 * body_px), frame["t_s"]
        if crossed and walker["box_px"] is None:
            after.append(to_athlete / body_px)
    capture.release()
    assert crossed and found >= 0.9 * len(truth["frames"])
    assert len(after) >= 5 and np.median(after) < 0.07 and max(after) < 0.15
