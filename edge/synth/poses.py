"""Named example postures (hinge, squat and their faults) and helpers to fit a load.

These are starting points for tests, the contact sheet and clip scripts, not a motion
model: real athletes vary every angle.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.synth.kinematics import forward_kinematics
from edge.synth.posture import LegPose, Posture
from edge.synth.shape import BodyShape

STANDING = Posture()
RDL_BOTTOM = Posture(hip_flex_deg=95.0, knee_flex_deg=22.0, ankle_deg=2.0)
"""Romanian deadlift bottom: trunk about 75 deg forward, soft knees, vertical shins."""
DEADLIFT_FLOOR = Posture(hip_flex_deg=118.0, knee_flex_deg=75.0, ankle_deg=16.0)
"""Conventional deadlift start (use `reach_height` to put the bar on the floor)."""
SQUAT_BOTTOM = Posture(
    hip_flex_deg=112.0,
    knee_flex_deg=118.0,
    ankle_deg=32.0,
    shoulder_flex_deg=85.0,
    stance_width_m=0.42,
    toe_out_deg=20.0,
)
"""Air squat bottom, arms reaching forward."""
ROUNDED_BACK = dataclasses.replace(RDL_BOTTOM, hip_flex_deg=78.0, spine_flex_deg=55.0)
"""Hinge with a rounded back (`spine_flexion`)."""
HEAD_UP = dataclasses.replace(RDL_BOTTOM, neck_flex_deg=-45.0)
"""Hinge looking up at the mirror (`head_extension`)."""
KNEE_DOMINANT = Posture(hip_flex_deg=100.0, knee_flex_deg=85.0, ankle_deg=25.0)
"""Squatting the hinge (`knee_dominant`): trunk only 40 deg forward."""
INCOMPLETE_LOCKOUT = Posture(hip_flex_deg=28.0, knee_flex_deg=12.0, ankle_deg=3.0)
"""Top of a rep that never reaches full hip extension (`incomplete_lockout`)."""
LEAN_BACK = Posture(hip_flex_deg=-12.0, spine_flex_deg=-15.0, neck_flex_deg=5.0)
"""Lockout leaning back (`hyperextension`)."""
SINGLE_LEG_RDL = Posture(
    hip_flex_deg=85.0,
    knee_flex_deg=15.0,
    ankle_deg=3.0,
    right=LegPose(hip_flex_deg=-5.0, knee_flex_deg=10.0, ankle_deg=10.0),
    stance="left",
)
"""Single-leg RDL on the left leg, the right leg reaching back in line with the trunk."""


def reach_height(shape: BodyShape, posture: Posture, hand_height_m: float) -> Posture:
    """Returns the posture with hip_flex_deg set so the hands are at the given height.

    Bisection on hip flexion (hands descend monotonically as the trunk folds, within
    0-160 deg); useful to put a bar on the floor (0.225 m with 450 mm plates).

    Args:
        shape: Body dimensions.
        posture: Posture whose other angles are kept.
        hand_height_m: Wanted height of the hand centres above the floor, metres.

    Returns:
        The adjusted posture (the nearest reachable one if the height is out of reach).
    """
    lo, hi = -20.0, 160.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        trial = dataclasses.replace(posture, hip_flex_deg=mid)
        height = forward_kinematics(shape, trial).hands_m[:, 1].mean()
        lo, hi = (mid, hi) if height > hand_height_m else (lo, mid)
    return dataclasses.replace(posture, hip_flex_deg=0.5 * (lo + hi))


def with_grip_width(shape: BodyShape, posture: Posture, width_m: float) -> Posture:
    """Returns the posture with arm_abduct_deg set so the hand centres are width_m apart.

    Use about 0.1 m for a kettlebell held in both hands, 0.45-0.6 m for a deadlift grip.

    Args:
        shape: Body dimensions.
        posture: Posture whose other angles are kept.
        width_m: Wanted distance between the two hand centres, metres.

    Returns:
        The adjusted posture (arm abduction searched within -40..60 deg).
    """
    lo, hi = -40.0, 60.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        hands = forward_kinematics(shape, dataclasses.replace(posture, arm_abduct_deg=mid)).hands_m
        lo, hi = (mid, hi) if np.linalg.norm(hands[0] - hands[1]) < width_m else (lo, mid)
    return dataclasses.replace(posture, arm_abduct_deg=0.5 * (lo + hi))
