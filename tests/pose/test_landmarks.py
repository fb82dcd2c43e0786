import math

import numpy as np

from edge.pose.landmarks import decode_landmarks, refine_from_heatmap
from edge.types import Roi


def _outputs(flag=0.9):
    raw = np.zeros((39, 5), np.float32)
    raw[:, 0] = np.linspace(20, 236, 39)
    raw[:, 1] = 128.0
    raw[:, 3] = 2.0  # visibility logit
    raw[:, 4] = -2.0  # presence logit
    world = np.zeros((39, 3), np.float32)
    world[:, 0] = 0.5
    return {
        "landmarks": raw.reshape(1, 195),
        "pose_flag": np.array([[flag]], np.float32),
        "heatmap": np.full((1, 64, 64, 39), -20.0, np.float32),  # nothing to refine
        "world_landmarks": world.reshape(1, 117),
    }


def test_refinement_moves_points_to_the_heatmap_peak():
    heatmap = np.full((64, 64, 2), -20.0, np.float32)
    heatmap[30, 41, 0] = 20.0  # peak one cell right of where point 0 sits
    xy = np.array([[40.5 / 64, 30.5 / 64], [10.5 / 64, 10.5 / 64]], np.float32)
    out = refine_from_heatmap(xy, heatmap)
    np.testing.assert_allclose(out[0], [41 / 64, 30 / 64], atol=1e-4)  # MediaPipe: cell / size
    np.testing.assert_allclose(out[1], xy[1])  # no confident cell: unchanged


def test_refinement_ignores_points_outside_the_heatmap():
    heatmap = np.full((64, 64, 1), 20.0, np.float32)
    xy = np.array([[1.2, 0.5]], np.float32)
    np.testing.assert_allclose(refine_from_heatmap(xy, heatmap), xy)


def test_decode_projects_into_the_image_and_applies_activations():
    roi = Roi(500.0, 300.0, 512.0, 0.0)  # crop pixel = 2 image pixels
    result = decode_landmarks(_outputs(), roi)
    poses = result.poses
    assert len(poses) == 1
    np.testing.assert_allclose(poses.xy[0, 0], [500 + (20 - 128) * 2, 300], atol=1e-3)
    np.testing.assert_allclose(poses.visibility, 1 / (1 + math.exp(-2)), rtol=1e-5)
    np.testing.assert_allclose(poses.presence, 1 / (1 + math.exp(2)), rtol=1e-5)
    np.testing.assert_allclose(
        result.aux_xy[0], [500 + (np.linspace(20, 236, 39)[33] - 128) * 2, 300], atol=1e-3
    )


def test_world_landmarks_rotate_with_the_roi():
    roi = Roi(100.0, 100.0, 256.0, math.pi / 2)
    world = decode_landmarks(_outputs(), roi).poses.world[0]
    np.testing.assert_allclose(world[0], [0.0, 0.5, 0.0], atol=1e-6)


def test_low_pose_flag_reports_nobody_but_keeps_alignment_points():
    result = decode_landmarks(_outputs(flag=0.2), Roi(100.0, 100.0, 256.0, 0.0))
    assert len(result.poses) == 0
    assert result.aux_xy.shape == (2, 2)
