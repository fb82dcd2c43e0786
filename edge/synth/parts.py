"""The athlete's body as renderer primitives: limbs, trunk, head, hands and shoes.

Sizes are fractions of body height; radii of the soft tissue are also scaled by the
body's girth (`BodyShape.radius_m`), bone-bound parts (head, hands, feet) are not.
"""

from __future__ import annotations

import numpy as np

from edge.synth.appearance import Appearance, Material
from edge.synth.geometry import Vec
from edge.synth.kinematics import Skeleton
from edge.synth.primitives import Capsule, Ellipsoid, Primitive
from edge.synth.shape import BodyShape


def body_parts(skeleton: Skeleton, shape: BodyShape, look: Appearance) -> list[Primitive]:
    """Returns every primitive of the posed body."""
    return [
        *_legs(skeleton, shape, look),
        *_trunk(skeleton, shape),
        *_arms(skeleton, shape, look),
        *_head(skeleton, shape, look),
    ]


def _legs(sk: Skeleton, shape: BodyShape, look: Appearance) -> list[Primitive]:
    lm, h, r = sk.joints_m, sk.height_m, shape.radius_m
    leg_material = Material.BOTTOM if look.bottom == "leggings" else Material.SKIN
    parts: list[Primitive] = []
    for odd, sign in ((0, 1.0), (1, -1.0)):
        hip, knee, ankle = lm[23 + odd], lm[25 + odd], lm[27 + odd]
        pelvis_left = sk.trunk_axes[0][:, 0]
        top = hip - 0.010 * h * sign * pelvis_left + 0.03 * (knee - hip)
        parts.append(Capsule(top, knee, r(0.056), r(0.036), leg_material))
        # The calf bulges behind the shin a third of the way down from the knee.
        calf = ankle + 0.66 * (knee - ankle) - 0.006 * h * sk.foot_axes[odd][:, 2]
        parts.append(Capsule(calf, ankle, r(0.036), r(0.020), leg_material))
        parts.append(Capsule(knee, calf, r(0.036), r(0.036), leg_material))
        if look.bottom == "shorts":
            hem = hip + 0.5 * (knee - hip)
            parts.append(Capsule(top, hem, r(0.061), r(0.049), Material.BOTTOM))
        parts += _shoe(ankle, sk.foot_axes[odd], h)
    return parts


def _shoe(ankle: Vec, foot: Vec, h: float) -> list[Primitive]:
    """A trainer: heel counter, toe box and a sole, in the foot frame (left, up, forward)."""

    def part(offset: tuple[float, float, float], semi: tuple[float, float, float], m: int):
        return Ellipsoid(ankle + foot @ np.asarray(offset) * h, foot, np.asarray(semi) * h, m)

    return [
        part((0.0, -0.012, -0.008), (0.026, 0.026, 0.036), Material.SHOE),
        part((0.0, -0.022, 0.046), (0.029, 0.017, 0.064), Material.SHOE),
        part((0.0, -0.034, 0.036), (0.031, 0.007, 0.080), Material.SOLE),
    ]


def _trunk(sk: Skeleton, shape: BodyShape) -> list[Primitive]:
    h, r = sk.height_m, shape.radius_m
    pelvis = sk.trunk_axes[0]
    left = pelvis[:, 0]
    hips = sk.pelvis_m + pelvis @ np.array([0.0, 0.025, -0.012]) * h
    parts: list[Primitive] = [
        Capsule(
            hips + 0.034 * h * left, hips - 0.034 * h * left, r(0.058), r(0.058), Material.BOTTOM
        )
    ]
    for sign in (1.0, -1.0):
        glute = sk.pelvis_m + pelvis @ np.array([sign * 0.038, 0.0, -0.024]) * h
        parts.append(Capsule(glute, glute, r(0.047), r(0.047), Material.BOTTOM))
    spine = sk.spine_m
    # Each trunk segment is three capsules side by side: a wide, shallow cross-section.
    # (segment, lateral offset at its lower and upper end, radius at both ends; x H).
    shirt = (
        (0, 0.038, 0.038, 0.050, 0.049),
        (1, 0.038, 0.046, 0.049, 0.053),
        (2, 0.046, 0.022, 0.052, 0.040),
    )
    for seg, off_lo, off_hi, r_lo, r_hi in shirt:
        lo, hi = spine[seg], spine[seg + 1]
        seg_left = sk.trunk_axes[seg + 1][:, 0]
        parts.append(Capsule(lo, hi, r(r_lo + 0.007), r(r_hi + 0.007), Material.SHIRT))
        for sign in (1.0, -1.0):
            a, b = lo + sign * off_lo * h * seg_left, hi + sign * off_hi * h * seg_left
            parts.append(Capsule(a, b, r(r_lo), r(r_hi), Material.SHIRT))
    shoulders = sk.joints_m[11:13]
    for shoulder in shoulders:
        parts.append(Capsule(spine[3], shoulder, r(0.034), r(0.036), Material.SHIRT))
    return parts


def _arms(sk: Skeleton, shape: BodyShape, look: Appearance) -> list[Primitive]:
    lm, h, r = sk.joints_m, sk.height_m, shape.radius_m
    arm_material = Material.SHIRT if look.sleeves == "long" else Material.SKIN
    deltoid = Material.SKIN if look.sleeves == "none" else Material.SHIRT
    parts: list[Primitive] = []
    for odd in (0, 1):
        shoulder, elbow, wrist = lm[11 + odd], lm[13 + odd], lm[15 + odd]
        parts.append(Capsule(shoulder, shoulder, r(0.036), r(0.036), deltoid))
        parts.append(Capsule(shoulder, elbow, r(0.030), r(0.022), arm_material))
        parts.append(Capsule(elbow, wrist, r(0.024), r(0.016), arm_material))
        if look.sleeves == "short":
            cuff = shoulder + 0.45 * (elbow - shoulder)
            parts.append(Capsule(shoulder, cuff, r(0.036), r(0.030), Material.SHIRT))
        frame = sk.hand_axes[odd]
        fist = wrist + frame @ np.array([0.0, 0.036, 0.004]) * h
        parts.append(Ellipsoid(fist, frame, np.array([0.024, 0.034, 0.016]) * h, Material.SKIN))
        thumb = wrist + frame @ np.array([0.020, 0.028, 0.010]) * h
        parts.append(Capsule(thumb, lm[21 + odd], 0.008 * h, 0.007 * h, Material.SKIN))
    return parts


def _head(sk: Skeleton, shape: BodyShape, look: Appearance) -> list[Primitive]:
    h, r, frame, centre = sk.height_m, shape.radius_m, sk.head_axes, sk.head_m

    def at(offset: tuple[float, float, float]) -> Vec:
        return centre + frame @ np.asarray(offset) * h

    def ellipsoid(
        offset: tuple[float, float, float], semi: tuple[float, float, float], m: int
    ) -> Ellipsoid:
        return Ellipsoid(at(offset), frame, np.asarray(semi) * h, m)

    parts: list[Primitive] = [
        Capsule(sk.spine_m[3], sk.neck_top_m, r(0.034), r(0.029), Material.SKIN),
        ellipsoid((0.0, 0.004, -0.004), (0.045, 0.060, 0.055), Material.SKIN),
        ellipsoid((0.0, -0.030, 0.014), (0.036, 0.038, 0.037), Material.SKIN),
        ellipsoid((0.0, -0.016, 0.055), (0.007, 0.014, 0.010), Material.SKIN),
    ]
    for sign in (1.0, -1.0):
        parts.append(
            ellipsoid((sign * 0.045, -0.006, -0.004), (0.007, 0.016, 0.010), Material.SKIN)
        )
        parts.append(ellipsoid((sign * 0.018, 0.003, 0.044), (0.007, 0.0042, 0.004), Material.EYE))
        brow = (sign * 0.019, 0.014, 0.046)
        parts.append(ellipsoid(brow, (0.011, 0.0028, 0.004), Material.HAIR))
    if look.hair != "none":
        parts.append(ellipsoid((0.0, 0.013, -0.010), (0.048, 0.060, 0.058), Material.HAIR))
    if look.hair == "long":
        knot = at((0.0, 0.010, -0.062))
        hang = knot + np.array([0.0, -0.11, 0.0]) * h  # a ponytail hangs with gravity
        parts.append(Capsule(knot, hang, 0.018 * h, 0.010 * h, Material.HAIR))
    return parts
