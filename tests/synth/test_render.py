import dataclasses

import numpy as np
import pytest

from edge.synth import poses
from edge.synth.appearance import Appearance
from edge.synth.body import BodyShape, Posture
from edge.synth.camera import Camera, Lens
from edge.synth.renderer import render
from edge.synth.scene import Scene, Sensor

SMALL = Lens(320, 180, 225.0)  # 1280x720 at f=900, scaled by 1/4
SHAPE = BodyShape()
GREEN_SHIRT = Appearance(shirt_rgb=(0.1, 0.8, 0.1), bottom_rgb=(0.1, 0.1, 0.8))


def _camera(view: str, posture: Posture = poses.STANDING) -> Camera:
    return Camera.looking_at([0.0, 0.85, 0.0], view, posture.yaw_deg, lens=SMALL)


@pytest.fixture(scope="module")
def side():
    return render(SHAPE, poses.STANDING, _camera("side_left"), GREEN_SHIRT, Scene())


def test_frame_has_the_lens_size_and_bgr_uint8(side):
    assert side.image.shape == (180, 320, 3) and side.image.dtype == np.uint8
    assert side.landmarks_px.shape == (33, 2) and side.visible.shape == (33,)


def test_the_body_covers_the_visible_landmarks(side):
    # Face points lie on the surface, so allow the neighbouring pixel at the silhouette.
    padded = np.pad(side.mask, 1)
    near = np.zeros_like(side.mask)
    for dr in range(3):
        for dc in range(3):
            near |= padded[dr : dr + 180, dc : dc + 320]
    cols, rows = np.floor(side.landmarks_px[side.visible]).astype(int).T
    assert near[rows, cols].all()
    assert 0.02 < side.mask.mean() < 0.2


def test_the_clothes_colours_show_where_the_trunk_and_hips_project():
    front = render(SHAPE, poses.STANDING, _camera("front"), GREEN_SHIRT, Scene())
    lm = front.landmarks_px
    chest = (0.6 * lm[11:13].mean(axis=0) + 0.4 * lm[23:25].mean(axis=0)).astype(int)
    b, g, r = front.image[chest[1], chest[0]].astype(int)
    assert g > 2 * r and g > 2 * b  # BGR: green shirt
    hips = lm[23:25].mean(axis=0).astype(int)
    b, g, r = front.image[hips[1], hips[0]].astype(int)
    assert b > 2 * r and b > 2 * g  # blue shorts


def test_the_far_side_is_hidden_in_a_side_view(side):
    assert side.visible[[11, 25, 27]].all()  # left shoulder, knee, ankle
    assert not side.visible[[12, 26, 28]].any()  # right shoulder, knee, ankle


def test_the_front_view_sees_both_sides():
    front = render(SHAPE, poses.STANDING, _camera("front"), GREEN_SHIRT, Scene())
    assert front.visible[[0, 11, 12, 23, 24, 25, 26, 27, 28]].all()
    assert not front.visible[[29, 30]].any()  # the heels are behind the shoes


def test_rendering_is_deterministic_without_a_random_generator():
    scene = Scene(sensor=Sensor(noise_sigma=3.0, jpeg_quality=80), load="barbell")
    a = render(SHAPE, poses.RDL_BOTTOM, _camera("side_right"), scene=scene)
    b = render(SHAPE, poses.RDL_BOTTOM, _camera("side_right"), scene=scene)
    np.testing.assert_array_equal(a.image, b.image)


def test_a_held_barbell_can_hide_the_legs():
    posture = poses.reach_height(SHAPE, poses.DEADLIFT_FLOOR, 0.225)
    bare = render(SHAPE, posture, _camera("side_left", posture))
    loaded = render(SHAPE, posture, _camera("side_left", posture), scene=Scene(load="barbell"))
    assert loaded.visible.sum() < bare.visible.sum()


def test_random_people_and_gyms_render():
    rng = np.random.default_rng(3)
    for _ in range(3):
        posture = dataclasses.replace(poses.RDL_BOTTOM, yaw_deg=float(rng.uniform(-180, 180)))
        frame = render(
            BodyShape.sample(rng),
            posture,
            _camera("oblique_left", posture),
            Appearance.sample(rng),
            dataclasses.replace(Scene.sample(rng), sensor=Sensor(supersample=2)),
            rng,
        )
        assert frame.image.shape == (180, 320, 3)
        assert frame.mask.any() and frame.visible.sum() >= 10
