"""A walking gait for passers-by: legs and arms swinging, the planted foot not sliding.

The gait alternates single-leg stances (no double support: the body model plants one
foot at a time). Over one step the pelvis passes from half a step behind the planted
ankle to half a step ahead of it; the planted leg's shin angle is solved so the hip is
exactly there, so a pelvis moved at a constant speed leaves the planted foot still on
the floor. The free leg swings from behind to in front with the knee folding (about
60 degrees) to clear the floor, toes pointing down after push-off, and lands flat where
the next stance begins. The arms
swing opposite to the legs. Pure NumPy.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from edge.synth.geometry import Vec
from edge.synth.kinematics import Skeleton, forward_kinematics
from edge.synth.person import translated
from edge.synth.posture import LegPose, Posture
from edge.synth.shape import BodyShape

CADENCE_STEPS_S = 1.8
"""Steps per second of an unhurried walk (about 108 a minute)."""
_STANCE_KNEE_DEG = 8.0
_SWING_KNEE_DEG = 55.0  # extra knee bend at mid-swing
_LEAN_DEG = 3.0
_TOES_DOWN_DEG = 45.0
_ARM_SWING_DEG = 18.0
_ELBOW_DEG = 18.0
# Joint rows of each arm (elbow, wrist, pinky, index, thumb); left rows first.
_ARM_ROWS = ((13, 15, 17, 19, 21), (14, 16, 18, 20, 22))


def step_length_m(speed_m_s: float) -> float:
    """Length of one step at a walking speed (the cadence is fixed), metres."""
    return speed_m_s / CADENCE_STEPS_S


def _shin_deg(shape: BodyShape, ahead_m: float) -> float:
    """Shin inclination putting the hip `ahead_m` ahead of the planted ankle (knee bent)."""
    half_knee = math.radians(_STANCE_KNEE_DEG / 2)
    leg = (shape.thigh_m + shape.shin_m) * math.cos(half_knee)
    ratio = float(np.clip(ahead_m / leg, -0.9, 0.9))
    return _STANCE_KNEE_DEG / 2 + math.degrees(math.asin(ratio))


def gait_posture(shape: BodyShape, phase: float, step_m: float, yaw_deg: float) -> Posture:
    """The walking posture at a gait phase (arms hanging; see `walking_skeleton`).

    Args:
        shape: Body dimensions.
        phase: Steps taken; the left foot is planted while int(phase) is even.
        step_m: Step length, metres.
        yaw_deg: Walking direction (`Posture.yaw_deg`).

    Returns:
        The posture, its planted foot at the world origin.
    """
    count = math.floor(phase)
    u = phase - count
    stance = "left" if count % 2 == 0 else "right"
    shin = _shin_deg(shape, step_m * (u - 0.5))
    # The free leg swings from where the stance ends (behind) to where it starts (ahead).
    thigh_back = _shin_deg(shape, 0.5 * step_m) - _STANCE_KNEE_DEG
    thigh_front = _shin_deg(shape, -0.5 * step_m) - _STANCE_KNEE_DEG
    ease = 0.5 - 0.5 * math.cos(math.pi * u)
    thigh = thigh_back + ease * (thigh_front - thigh_back)
    knee = _STANCE_KNEE_DEG + _SWING_KNEE_DEG * math.sin(math.pi * u) ** 1.5
    # The swinging foot points its toes down after push-off and is flat again to land.
    toes_down = _TOES_DOWN_DEG * math.sin(math.pi * u) ** 2 * (1.0 - u)
    free = LegPose(_LEAN_DEG - thigh, knee, thigh + knee - toes_down)
    return Posture(
        hip_flex_deg=_LEAN_DEG + _STANCE_KNEE_DEG - shin,
        knee_flex_deg=_STANCE_KNEE_DEG,
        ankle_deg=shin,
        elbow_flex_deg=_ELBOW_DEG,
        stance_width_m=2.0 * shape.hip_half_m,
        toe_out_deg=6.0,
        left=None if stance == "left" else free,
        right=free if stance == "left" else None,
        stance=stance,
        yaw_deg=yaw_deg,
    )


def walking_skeleton(
    shape: BodyShape, phase: float, step_m: float, pelvis_xz_m: Vec, yaw_deg: float
) -> Skeleton:
    """A walker's skeleton at a gait phase, the pelvis over a given floor point.

    Args:
        shape: Body dimensions.
        phase: Steps taken (see `gait_posture`); advance it by distance / `step_m`.
        step_m: Step length, metres.
        pelvis_xz_m: (2,) world (x, z) the pelvis is over.
        yaw_deg: Walking direction (0: world +z).

    Returns:
        The skeleton, arms swinging opposite to the legs.
    """
    posture = gait_posture(shape, phase, step_m, yaw_deg)
    # The left leg is furthest forward at phase 0 (it lands), the right at phase 1.
    left_arm = -_ARM_SWING_DEG * math.cos(math.pi * phase)
    left = forward_kinematics(shape, dataclasses.replace(posture, shoulder_flex_deg=left_arm))
    right = forward_kinematics(shape, dataclasses.replace(posture, shoulder_flex_deg=-left_arm))
    skeleton = _with_right_arm(left, right)
    offset = np.array([pelvis_xz_m[0], 0.0, pelvis_xz_m[1]]) - skeleton.pelvis_m
    offset[1] = 0.0
    return translated(skeleton, offset)


def _with_right_arm(base: Skeleton, other: Skeleton) -> Skeleton:
    """`base` with the right arm, hand and hand landmarks of `other` (same trunk)."""
    rows = list(_ARM_ROWS[1])
    values = {}
    for name in ("landmarks_m", "joints_m", "landmark_axes"):
        merged = getattr(base, name).copy()
        merged[rows] = getattr(other, name)[rows]
        values[name] = merged
    for name in ("hands_m", "hand_axes"):
        merged = getattr(base, name).copy()
        merged[1] = getattr(other, name)[1]
        values[name] = merged
    return dataclasses.replace(base, **values)
