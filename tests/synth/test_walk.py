"""The passer-by's gait: feet planted without sliding, the swinging foot above the floor."""

import numpy as np
import pytest

from edge.synth.shape import BodyShape
from edge.synth.walk import CADENCE_STEPS_S, step_length_m, walking_skeleton

LEFT_ANKLE, RIGHT_ANKLE = 27, 28
FEET = {0: (29, 31), 1: (30, 32)}  # heel, foot index of the left (0) and right (1) foot


def _walk(shape: BodyShape, speed: float, phases: np.ndarray) -> list:
    """Skeletons walking along +x (yaw 90) with the pelvis moved at the given speed."""
    step = step_length_m(speed)
    return [walking_skeleton(shape, p, step, np.array([p * step, 0.0]), 90.0) for p in phases]


@pytest.mark.parametrize("height", [1.55, 1.75, 1.95])
def test_the_planted_foot_stays_put_while_the_pelvis_moves(height):
    phases = np.linspace(0.0, 0.999, 25)  # one left stance
    skeletons = _walk(BodyShape(height_m=height), 1.35, phases)
    ankle = np.array([s.joints_m[LEFT_ANKLE] for s in skeletons])
    pelvis = np.array([s.pelvis_m for s in skeletons])
    assert np.ptp(ankle[:, 0]) < 0.003 and np.ptp(ankle[:, 2]) < 0.003
    assert np.ptp(pelvis[:, 0]) == pytest.approx(0.999 * step_length_m(1.35), abs=1e-6)


def test_the_swinging_foot_clears_the_floor():
    shape = BodyShape()
    phases = np.linspace(0.0, 2.0, 101)[:-1]
    lowest, highest = np.inf, -np.inf
    for phase, skeleton in zip(phases, _walk(shape, 1.5, phases), strict=True):
        planted = int(np.floor(phase)) % 2  # 0: left foot planted
        floor = skeleton.joints_m[list(FEET[planted]), 1].min()
        free = skeleton.joints_m[list(FEET[1 - planted]), 1].min() - floor
        lowest, highest = min(lowest, free), max(highest, free)
    assert lowest > -0.002  # within 2 mm of the planted sole's level
    assert 0.1 < highest < 0.4  # the knee folds enough to lift the foot


def test_arms_swing_opposite_to_the_legs():
    shape = BodyShape()
    # Phase 0: the left foot lands in front, so the right arm swings forward.
    skeleton = _walk(shape, 1.35, np.array([0.0]))[0]
    ahead = skeleton.landmarks_m[:, 0] - skeleton.pelvis_m[0]  # walking along +x
    assert ahead[LEFT_ANKLE] > ahead[RIGHT_ANKLE]
    assert ahead[16] > ahead[15]  # right wrist ahead of the left


def test_step_length_follows_the_speed_at_a_fixed_cadence():
    assert step_length_m(1.35) == pytest.approx(1.35 / CADENCE_STEPS_S)
    assert 0.6 < step_length_m(1.35) < 0.85  # an ordinary adult step
