"""Where landmarks and body parts sit inside the head, hand and foot frames.

Offsets are (left, up, forward) in units of body height, for the person's LEFT side;
the right side mirrors the left coordinate. They are placed where BlazePose puts its
landmarks: the ear at the ear canal, the eye points on the eyelid line, the hand points
near the knuckles of a closed hand, the heel at the back of the heel and the foot index
near the tip of the big toe.
"""

from __future__ import annotations

import numpy as np

from edge.synth.geometry import Vec

# Head frame: origin at the head centre (the cranium's mid-point), upright when the head
# pitch is 0. Semi-axes of the skull used by the renderer: left 0.045, up 0.062, fwd 0.056.
HEAD_LANDMARKS: dict[int, tuple[float, float, float]] = {
    0: (0.0, -0.024, 0.064),  # nose tip
    1: (0.0095, 0.002, 0.052),  # left eye inner
    2: (0.018, 0.003, 0.050),  # left eye
    3: (0.026, 0.002, 0.045),  # left eye outer
    7: (0.046, -0.006, -0.004),  # left ear
    9: (0.012, -0.043, 0.050),  # mouth left
}
MIRRORED_HEAD = {4: 1, 5: 2, 6: 3, 8: 7, 10: 9}
"""Right-side head landmark -> the left-side landmark it mirrors."""

# Hand frame: columns (thumb side, along the forearm, palm normal), origin at the wrist.
HAND_LANDMARKS: dict[str, tuple[float, float, float]] = {
    "pinky": (-0.020, 0.050, 0.002),
    "index": (0.014, 0.060, 0.004),
    "thumb": (0.026, 0.034, 0.010),
}
GRIP_OFFSET = (0.0, 0.040, 0.006)
"""Centre of a closed hand (where a bar or handle sits) in the hand frame."""

# Foot frame: columns (left, up, forward), origin at the ankle joint centre. The ankle is
# 0.039 H above the sole; the heel's back is 0.04 H behind it, the toe tip 0.112 H ahead.
FOOT_LANDMARKS: dict[str, tuple[float, float, float]] = {
    "heel": (0.0, -0.030, -0.036),
    "foot_index": (-0.006, -0.030, 0.104),
}


def mirrored(offset: tuple[float, float, float], side_sign: float) -> Vec:
    """Returns an offset for one side: side_sign +1 keeps the left side, -1 mirrors it."""
    return np.array([side_sign * offset[0], offset[1], offset[2]])


# Where BlazePose puts a landmark relative to the body model's point behind it, in units
# of body height, in the landmark's frame (`kinematics.landmark_axes`: left, up, forward;
# the hand frame for hand points), for the LEFT-side (or central) landmark; the right
# side mirrors the left coordinate, except in the hand frame, which is mirrored already.
# Measured by `tools/synth_calibrate.py` (rendered frames, BlazePose full); see
# docs/synth.md.
LANDMARK_CORRECTIONS: dict[int, tuple[float, float, float]] = {
    0: (0.0, 0.0123, -0.0097),  # nose
    1: (-0.0017, 0.002, -0.0102),  # eye inner
    2: (-0.0046, -0.0004, -0.0114),  # eye
    3: (-0.0068, 0.0002, -0.0095),  # eye outer
    7: (-0.0146, -0.0011, 0.0154),  # ear
    9: (-0.0028, 0.0117, -0.0029),  # mouth
    11: (-0.0057, 0.0144, 0.0155),  # shoulder
    13: (-0.0015, 0.0126, -0.0022),  # elbow
    15: (-0.0027, 0.0018, 0.0018),  # wrist
    17: (0.0146, -0.0159, -0.0023),  # pinky
    19: (-0.0068, -0.024, -0.009),  # index
    21: (-0.0142, -0.0097, -0.0118),  # thumb
    23: (-0.0087, 0.0088, 0.0089),  # hip
    25: (-0.0015, 0.0013, 0.0027),  # knee
    27: (-0.0077, 0.0145, 0.0017),  # ankle
    29: (-0.0103, 0.0081, 0.0104),  # heel
    31: (-0.0048, 0.0087, -0.0035),  # foot index
}
RIGHT_TO_LEFT: dict[int, int] = {
    **MIRRORED_HEAD,
    **{k: k - 1 for k in range(12, 33, 2)},
}
"""Right-side landmark -> its left-side twin (BlazePose order)."""
_HAND = frozenset(range(17, 23))


def landmark_corrections() -> Vec:
    """(33, 3) per-landmark corrections, right side mirrored (see LANDMARK_CORRECTIONS)."""
    out = np.zeros((33, 3))
    for k in range(33):
        left = RIGHT_TO_LEFT.get(k, k)
        offset = LANDMARK_CORRECTIONS.get(left, (0.0, 0.0, 0.0))
        mirror = k in RIGHT_TO_LEFT and k not in _HAND
        out[k] = mirrored(offset, -1.0 if mirror else 1.0)
    return out
