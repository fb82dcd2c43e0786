"""Loads held in the athlete's hands: a barbell with plates, or a kettlebell.

Dimensions are those of standard kit: a 2.2 m Olympic bar (28 mm grip, 50 mm sleeves
from 0.655 m out from the centre), 450 mm bumper plates, a 24 kg kettlebell
(about 0.2 m across its bell).
"""

from __future__ import annotations

import numpy as np

from edge.synth.appearance import Material
from edge.synth.geometry import Vec, unit
from edge.synth.kinematics import Skeleton
from edge.synth.primitives import Capsule, Cylinder, Ellipsoid, Primitive
from edge.synth.scene import Load

_BAR_HALF_M = 1.1
_SLEEVE_START_M = 0.655
_PLATE_RADIUS_M = 0.225
_PLATE_THICK_M = 0.055


def load_parts(skeleton: Skeleton, load: Load) -> list[Primitive]:
    """Returns the primitives of the load held in the hands (none for "none")."""
    if load == "barbell":
        return barbell(skeleton.hands_m)
    if load == "kettlebell":
        return kettlebell(skeleton.hands_m)
    return []


def barbell(hands_m: Vec) -> list[Primitive]:
    """A loaded bar through both hand centres (two plates a side).

    Args:
        hands_m: (2, 3) left and right grip centres, metres.
    """
    centre = hands_m.mean(axis=0)
    axis = unit(hands_m[0] - hands_m[1])
    parts: list[Primitive] = [
        Capsule(
            centre - _SLEEVE_START_M * axis,
            centre + _SLEEVE_START_M * axis,
            0.014,
            0.014,
            Material.BAR,
        )
    ]
    for sign in (1.0, -1.0):
        sleeve_mid = centre + sign * 0.5 * (_BAR_HALF_M + _SLEEVE_START_M) * axis
        sleeve_half = 0.5 * (_BAR_HALF_M - _SLEEVE_START_M)
        parts.append(Cylinder(sleeve_mid, axis, 0.025, sleeve_half, Material.BAR))
        collar = centre + sign * (_SLEEVE_START_M + 0.01) * axis
        parts.append(Cylinder(collar, axis, 0.04, 0.01, Material.BAR))
        for k in range(2):
            offset = _SLEEVE_START_M + 0.03 + (k + 0.5) * _PLATE_THICK_M
            plate = centre + sign * offset * axis
            half = 0.5 * _PLATE_THICK_M - 0.002
            parts.append(Cylinder(plate, axis, _PLATE_RADIUS_M, half, Material.PLATE))
    return parts


def kettlebell(hands_m: Vec) -> list[Primitive]:
    """A kettlebell hanging from both hands (handle at the hand centres).

    Args:
        hands_m: (2, 3) left and right grip centres, metres.
    """
    grip = hands_m.mean(axis=0)
    across = hands_m[0] - hands_m[1]
    across = unit(across) if np.linalg.norm(across) > 1e-6 else np.array([1.0, 0.0, 0.0])
    down = np.array([0.0, -1.0, 0.0])
    bell = grip + 0.17 * down
    ends = [grip + s * 0.07 * across for s in (1.0, -1.0)]
    parts: list[Primitive] = [
        Ellipsoid(bell, np.eye(3), np.array([0.105, 0.10, 0.105]), Material.IRON),
        Capsule(ends[0], ends[1], 0.017, 0.017, Material.IRON),
    ]
    parts += [
        Capsule(end, bell + 0.6 * (end - grip) + 0.06 * -down, 0.017, 0.02, Material.IRON)
        for end in ends
    ]
    return parts
