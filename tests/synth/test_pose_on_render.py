"""The real pose model finds the rendered athlete where the body model put it."""

import numpy as np
import pytest

from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth import poses
from edge.synth.appearance import Appearance
from edge.synth.body import BodyShape
from edge.synth.camera import Camera
from edge.synth.renderer import render
from edge.synth.scene import Scene

pytestmark = pytest.mark.model


@pytest.mark.parametrize(
    ("posture", "view", "load"),
    [
        (poses.STANDING, "side_left", "none"),
        (poses.RDL_BOTTOM, "side_right", "barbell"),
        (poses.SQUAT_BOTTOM, "oblique_left", "none"),
    ],
    ids=["standing", "rdl", "squat"],
)
def test_the_rendered_athlete_is_found_near_the_ground_truth(pose_models, posture, view, load):
    shape = BodyShape()
    camera = Camera.looking_at([0.0, 0.85, 0.0], view)  # 1280x720, f=900, 3.5 m, 1.2 m high
    frame = render(shape, posture, camera, Appearance(), Scene(load=load))
    found = PoseEstimator(PoseConfig(), models=pose_models).process(frame.image)
    assert len(found) == 1 and found.score[0] > 0.9
    height_px = shape.height_m * camera.focal_px / frame.depth_m[23:25].mean()
    error = np.linalg.norm(found.xy[0] - frame.landmarks_px, axis=1)[frame.visible] / height_px
    assert np.median(error) < 0.03  # about 5 cm for a 1.75 m athlete
