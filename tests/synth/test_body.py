import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings

from edge.synth import poses
from edge.synth.body import BodyShape, LegPose, Posture, forward_kinematics
from tests.synth.strategies import postures, shapes

LEFT = [1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
RIGHT = [i + 1 if i > 10 else (i + 3 if i < 4 else i + 1) for i in LEFT]
SEGMENTS = [(23, 25), (24, 26), (25, 27), (26, 28), (11, 13), (12, 14), (13, 15), (14, 16)]
SHAPE = BodyShape(height_m=1.75)


def _facing(posture: Posture) -> np.ndarray:
    yaw = np.radians(posture.yaw_deg)
    return np.array([np.sin(yaw), 0.0, np.cos(yaw)])


def _side_view_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance from p to the line ab seen from the side (the y-z plane at yaw 0)."""
    p, a, b = p[1:], a[1:], b[1:]
    ab = b - a
    return float(abs(ab[0] * (p - a)[1] - ab[1] * (p - a)[0]) / np.linalg.norm(ab))


def test_right_landmarks_are_the_left_ones_mirrored():
    assert RIGHT == [4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32]


def test_neutral_standing_is_mirror_symmetric():
    lm = forward_kinematics(SHAPE, Posture()).landmarks_m  # yaw 0: left is +x
    np.testing.assert_allclose(lm[LEFT] * [-1, 1, 1], lm[RIGHT], atol=1e-12)
    np.testing.assert_allclose(lm[0, 0], 0.0, atol=1e-12)
    assert (lm[LEFT, 0] > 0).all()  # the person's left is +x when facing +z


def test_standing_landmark_heights_follow_anthropometry():
    lm = forward_kinematics(SHAPE, Posture()).joints_m / SHAPE.height_m
    assert lm[23, 1] == pytest.approx(0.53, abs=0.01)  # hip
    assert lm[25, 1] == pytest.approx(0.285, abs=0.01)  # knee
    assert lm[11, 1] == pytest.approx(0.818, abs=0.01)  # shoulder
    assert lm[2, 1] == pytest.approx(0.936, abs=0.01)  # eye
    assert lm[27, 1] == pytest.approx(0.039, abs=0.002)  # ankle


@settings(max_examples=150, deadline=None)
@given(shape=shapes, posture=postures)
def test_planted_feet_are_flat_on_the_floor(shape, posture):
    sk = forward_kinematics(shape, posture)
    ankle_h = shape.ankle_height_m
    planted = [i for i in range(2) if sk.planted[i]]
    heights = [sk.joints_m[27 + i, 1] for i in planted]
    assert min(heights) == pytest.approx(ankle_h, abs=1e-9)  # the lower sole touches y=0
    assert all(h >= ankle_h - 1e-9 for h in heights)  # no planted sole sinks into it
    for i in planted:  # flat: heel and toe at the same height, the foot axes level
        assert sk.joints_m[29 + i, 1] == pytest.approx(sk.joints_m[31 + i, 1], abs=1e-9)
        assert sk.foot_axes[i][1, 1] == pytest.approx(1.0)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(shape=shapes, posture=postures)
def test_segment_lengths_do_not_depend_on_posture(shape, posture):
    lm_pose = forward_kinematics(shape, posture).joints_m
    lm_std = forward_kinematics(shape, Posture()).joints_m
    for a, b in [*SEGMENTS, (11, 12), (23, 24), (7, 8), (0, 7)]:
        expected = np.linalg.norm(lm_std[a] - lm_std[b])
        assert np.linalg.norm(lm_pose[a] - lm_pose[b]) == pytest.approx(expected, rel=1e-9)
    sk, std = forward_kinematics(shape, posture), forward_kinematics(shape, Posture())
    np.testing.assert_allclose(
        np.linalg.norm(np.diff(sk.spine_m, axis=0), axis=1),
        np.linalg.norm(np.diff(std.spine_m, axis=0), axis=1),
    )


@pytest.mark.parametrize("yaw_deg", [0.0, 90.0, -135.0])
def test_hip_flexion_brings_the_shoulders_forward_of_the_hips(yaw_deg):
    def lead(posture: Posture) -> float:
        lm = forward_kinematics(SHAPE, posture).joints_m
        return float((lm[11:13].mean(0) - lm[23:25].mean(0)) @ _facing(posture))

    standing = Posture(yaw_deg=yaw_deg)
    hinged = Posture(hip_flex_deg=80, knee_flex_deg=20, yaw_deg=yaw_deg)
    assert abs(lead(standing)) < 0.02
    assert lead(hinged) > 0.4
    # The hips travel back (against the facing direction) as the trunk tips forward.
    hips = [forward_kinematics(SHAPE, p).pelvis_m @ _facing(p) for p in (standing, hinged)]
    assert hips[1] < hips[0] - 0.03


def test_knee_flexion_lowers_the_pelvis():
    heights = [
        forward_kinematics(SHAPE, Posture(knee_flex_deg=k, hip_flex_deg=k)).pelvis_m[1]
        for k in (0, 30, 60, 90)
    ]
    assert np.all(np.diff(heights) < 0)


def test_spine_flexion_shortens_the_trunk_and_moves_the_shoulder_off_the_ear_hip_line():
    def measures(spine_deg: float) -> tuple[float, float]:
        posture = dataclasses.replace(poses.RDL_BOTTOM, spine_flex_deg=spine_deg)
        lm = forward_kinematics(SHAPE, posture).joints_m
        trunk = float(np.linalg.norm(lm[11] - lm[23]))
        return trunk, _side_view_distance(lm[11], lm[7], lm[23])

    flat, rounded = measures(0.0), measures(50.0)
    assert rounded[0] < flat[0] - 0.02
    assert rounded[1] > flat[1] + 0.03


def test_neck_flexion_tucks_the_chin_and_extension_lifts_the_face():
    def nose_drop(neck_deg: float) -> float:
        lm = forward_kinematics(SHAPE, Posture(neck_flex_deg=neck_deg)).joints_m
        return float(lm[7:9].mean(0)[1] - lm[0, 1])  # nose below the ears, metres

    assert nose_drop(30) > nose_drop(0) > nose_drop(-30)


def test_negative_hip_flexion_leans_the_trunk_back():
    lm = forward_kinematics(SHAPE, poses.LEAN_BACK).joints_m
    assert (lm[11] - lm[23])[2] < -0.05  # shoulders behind the hips (facing +z)


def test_single_leg_stance_lifts_the_free_foot_and_places_the_stance_ankle_at_the_root():
    posture = dataclasses.replace(poses.SINGLE_LEG_RDL, root_x_m=1.0, root_z_m=-2.0)
    lm = forward_kinematics(SHAPE, posture).joints_m
    assert lm[27, 1] == pytest.approx(SHAPE.ankle_height_m)
    assert lm[28, 1] > 0.3  # the right foot reaches back, off the floor
    np.testing.assert_allclose(lm[27, [0, 2]], [1.0, -2.0], atol=1e-9)


def test_leg_override_applies_to_one_leg_only():
    posture = Posture(right=LegPose(hip_flex_deg=40.0, knee_flex_deg=60.0), stance="left")
    lm = forward_kinematics(SHAPE, posture).joints_m
    assert lm[26, 2] > lm[25, 2] + 0.1  # right knee forward
    assert lm[25, 2] == pytest.approx(0.0, abs=1e-9)


def test_the_stance_width_sets_the_ankle_spread():
    for width in (0.1, 0.3, 0.5):
        lm = forward_kinematics(SHAPE, Posture(stance_width_m=width)).joints_m
        assert lm[27, 0] - lm[28, 0] == pytest.approx(width, abs=1e-6)


def test_shape_sample_gives_adult_variety():
    rng = np.random.default_rng(0)
    shapes_ = [BodyShape.sample(rng) for _ in range(200)]
    heights = [s.height_m for s in shapes_]
    assert min(heights) >= 1.5 and max(heights) <= 2.0
    assert np.std(heights) > 0.05
    assert len({round(s.girth_scale, 2) for s in shapes_}) > 20


def test_reach_height_puts_the_hands_at_the_bar_height():
    posture = poses.reach_height(SHAPE, poses.DEADLIFT_FLOOR, 0.225)
    hands = forward_kinematics(SHAPE, posture).hands_m
    np.testing.assert_allclose(hands[:, 1], 0.225, atol=1e-3)


def test_invalid_values_are_rejected():
    with pytest.raises(ValueError, match="height_m"):
        BodyShape(height_m=3.0)
    with pytest.raises(ValueError, match="stance"):
        Posture(stance="both_feet")


def test_with_grip_width_brings_the_hands_together_for_a_kettlebell():
    posture = poses.with_grip_width(SHAPE, poses.RDL_BOTTOM, 0.1)
    hands = forward_kinematics(SHAPE, posture).hands_m
    assert np.linalg.norm(hands[0] - hands[1]) == pytest.approx(0.1, abs=1e-3)
    assert posture.arm_abduct_deg < 0  # arms drawn in towards the midline
