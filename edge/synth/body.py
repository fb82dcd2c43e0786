"""The synthetic athlete's body model in one import (pure NumPy, no OpenCV).

`BodyShape` (dimensions), `Posture` / `LegPose` (joint angles), and
`forward_kinematics(shape, posture) -> Skeleton` (3-D BlazePose landmarks and the joints
the renderer needs). See `edge.synth.kinematics` for the world frame.
"""

from __future__ import annotations

from edge.synth.kinematics import Skeleton, forward_kinematics
from edge.synth.posture import SPINE_SHARES, LegPose, Posture, Stance
from edge.synth.shape import BodyShape

__all__ = [
    "SPINE_SHARES",
    "BodyShape",
    "LegPose",
    "Posture",
    "Skeleton",
    "Stance",
    "forward_kinematics",
]
