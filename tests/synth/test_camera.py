import numpy as np
import pytest

from edge.synth.body import BodyShape, Posture, forward_kinematics
from edge.synth.camera import Camera, Lens

LEFT_BODY = [11, 13, 15, 23, 25, 27, 29, 31]


def test_a_point_on_the_optical_axis_projects_to_the_image_centre():
    cam = Camera.look_at([0.0, 1.0, -4.0], [0.0, 1.0, 0.0], Lens(640, 480, 500.0))
    xy, depth = cam.project([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(xy, [[320.0, 240.0]])  # pixel i spans [i, i+1)
    np.testing.assert_allclose(depth, [4.0])


def test_projection_of_a_known_point():
    # Camera at z=-4 looking along +z: camera right is world -x, image y grows downward.
    cam = Camera.look_at([0.0, 1.0, -4.0], [0.0, 1.0, 0.0], Lens(640, 480, 500.0))
    xy, depth = cam.project([[0.4, 0.6, 0.0]])
    np.testing.assert_allclose(xy, [[320.0 - 500.0 * 0.4 / 4.0, 240.0 + 500.0 * 0.4 / 4.0]])
    np.testing.assert_allclose(depth, [4.0])


def test_rays_go_back_through_projected_points():
    cam = Camera.looking_at([0.2, 0.9, -0.3], "oblique_right", athlete_yaw_deg=30.0)
    points = np.random.default_rng(0).uniform(-1, 1, (20, 3)) + np.array([0.0, 1.0, 0.0])
    xy, depth = cam.project(points)
    rays = cam.rays(xy[:, 0], xy[:, 1])
    expected = (points - cam.position_m) / np.linalg.norm(points - cam.position_m, axis=1)[:, None]
    np.testing.assert_allclose(rays, expected, atol=1e-9)
    assert (depth > 0).all()


def test_looking_at_places_the_camera_at_the_given_distance_and_height():
    cam = Camera.looking_at([1.0, 0.9, 2.0], "front", athlete_yaw_deg=90.0)
    np.testing.assert_allclose(cam.position_m, [1.0 + 3.5, 1.2, 2.0])  # yaw 90 faces +x
    assert cam.width_px == 1280 and cam.height_px == 720 and cam.focal_px == 900.0


@pytest.mark.parametrize("yaw_deg", [0.0, 70.0, -160.0])
@pytest.mark.parametrize(("view", "near_side"), [("side_left", 0), ("side_right", 1)])
def test_the_named_side_faces_the_camera(view, near_side, yaw_deg):
    posture = Posture(yaw_deg=yaw_deg, root_x_m=0.5)
    lm = forward_kinematics(BodyShape(), posture).landmarks_m
    cam = Camera.looking_at([0.5, 0.9, 0.0], view, athlete_yaw_deg=yaw_deg)
    _, depth = cam.project(lm)
    left, right = depth[LEFT_BODY], depth[[i + 1 for i in LEFT_BODY]]
    nearer = left if near_side == 0 else right
    farther = right if near_side == 0 else left
    assert (nearer < farther - 0.1).all()


def test_the_front_view_sees_the_face():
    lm = forward_kinematics(BodyShape(), Posture(yaw_deg=45.0)).landmarks_m
    cam = Camera.looking_at([0.0, 0.9, 0.0], "front", athlete_yaw_deg=45.0)
    xy, depth = cam.project(lm)
    assert depth[0] < depth[7:9].min()  # nose nearer than the ears
    assert xy[11, 0] > xy[12, 0]  # facing the camera, the person's left is image right


def test_a_camera_cannot_look_straight_down():
    with pytest.raises(ValueError, match="straight"):
        Camera.look_at([0.0, 3.0, 0.0], [0.0, 0.0, 0.0], Lens())
