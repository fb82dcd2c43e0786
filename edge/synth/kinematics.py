"""Forward kinematics: a BodyShape in a Posture -> 3-D landmarks and joints (pure NumPy).

World frame (metres, right-handed): y up, the floor is the plane y = 0, x and z span the
floor. At yaw 0 the athlete faces +z and their left is +x. The chain is solved in a body
frame (x = left, y = up, z = forward, origin at the pelvis centre), then the planted
foot's sole is put on the floor and the body is turned by the yaw and moved to the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from edge.synth import anatomy
from edge.synth.geometry import Vec, inclined, pitch_matrix, roll_matrix, unit, yaw_matrix
from edge.synth.posture import Posture
from edge.synth.shape import BodyShape

Side = Literal["left", "right"]
_SIGN = {"left": 1.0, "right": -1.0}
_NECK_REST_DEG = 6.0  # the neck leans forward of the upper trunk a little when upright
_SPINE_FRACTIONS = (0.19, 0.285, 0.32, 0.205)  # hip level->lumbar base->waist->chest->neck


@dataclass(frozen=True, eq=False)
class Skeleton:
    """3-D positions of one posed body in the world frame (metres; see the module docstring).

    Frames are 3x3 matrices whose columns are unit axes in the world frame.

    Attributes:
        landmarks_m: (33, 3) the BlazePose landmarks in BlazePose order (odd = left side),
            where BlazePose puts them: `joints_m` moved by the calibrated corrections of
            `anatomy.LANDMARK_CORRECTIONS`.
        joints_m: (33, 3) the body model's own points behind each landmark (joint centres,
            face, hand and foot points): what the renderer builds the body around.
        landmark_axes: (33, 3, 3) the frame each landmark's correction is expressed in.
        pelvis_m: (3,) mid-point between the hip landmarks.
        spine_m: (4, 3) trunk centre line: lumbar base, waist, chest, neck base (C7 level).
        neck_top_m: (3,) top of the neck (skull base).
        head_m: (3,) centre of the head.
        hands_m: (2, 3) centre of the closed left and right hand (where a bar sits).
        trunk_axes: (4, 3, 3) frames (left, up, forward) of the pelvis, lumbar, thoracic and
            upper-trunk segments.
        head_axes: (3, 3) head frame (left, up, forward).
        hand_axes: (2, 3, 3) hand frames (thumb side, along the forearm, palm normal).
        foot_axes: (2, 3, 3) foot frames (left, up, forward), left foot first.
        planted: (2,) bool, the left / right foot is on the floor.
        height_m: The body's standing height (sets the scale of its parts).
    """

    landmarks_m: Vec
    joints_m: Vec
    landmark_axes: Vec
    pelvis_m: Vec
    spine_m: Vec
    neck_top_m: Vec
    head_m: Vec
    hands_m: Vec
    trunk_axes: Vec
    head_axes: Vec
    hand_axes: Vec
    foot_axes: Vec
    planted: np.ndarray
    height_m: float


def forward_kinematics(shape: BodyShape, posture: Posture) -> Skeleton:
    """Poses a body: returns its landmarks and joints in the world frame.

    Args:
        shape: Body dimensions.
        posture: Joint angles, stance and placement on the floor.

    Returns:
        The posed skeleton; the planted foot's sole (the lower one when both are planted)
        lies on the floor, y = 0.
    """
    points: dict[str, Vec] = {}
    lm = np.zeros((33, 3))
    pitch = posture.pelvis_pitch_deg
    legs = [_leg(shape, posture, side, pitch, lm) for side in ("left", "right")]
    trunk_axes = _trunk(shape, posture, points, lm)
    head_axes = _head(shape, posture, points, lm)
    hands = [_arm(shape, posture, side, points, lm) for side in ("left", "right")]
    planted = np.array([posture.stance in ("both", side) for side in ("left", "right")])
    soles = [lm[27 + i, 1] - shape.ankle_height_m for i in range(2) if planted[i]]
    ankles = lm[[27 + i for i in range(2) if planted[i]]]
    anchor = np.array([ankles[:, 0].mean(), min(soles), ankles[:, 2].mean()])
    yaw = yaw_matrix(posture.yaw_deg)
    root = np.array([posture.root_x_m, 0.0, posture.root_z_m])

    def place(p: Vec) -> Vec:
        return (np.asarray(p) - anchor) @ yaw.T + root

    axes = landmark_axes(lm, trunk_axes, head_axes, np.stack([h[1] for h in hands]), legs)
    shift = np.einsum("kij,kj->ki", axes, anatomy.landmark_corrections()) * shape.height_m
    return Skeleton(
        landmarks_m=place(lm + shift),
        joints_m=place(lm),
        landmark_axes=yaw @ axes,
        pelvis_m=place(np.zeros(3)),
        spine_m=place(np.stack([points[k] for k in ("lumbar", "waist", "chest", "neck")])),
        neck_top_m=place(points["neck_top"]),
        head_m=place(points["head"]),
        hands_m=place(np.stack([h[0] for h in hands])),
        trunk_axes=yaw @ trunk_axes,
        head_axes=yaw @ head_axes,
        hand_axes=yaw @ np.stack([h[1] for h in hands]),
        foot_axes=yaw @ np.stack(legs),
        planted=planted,
        height_m=shape.height_m,
    )


def _segment_axes(top: Vec, bottom: Vec) -> Vec:
    """Frame (left, up, forward) of a limb segment: up runs from `bottom` to `top`."""
    up = unit(top - bottom)
    left = np.array([1.0, 0.0, 0.0]) - up[0] * up
    if np.linalg.norm(left) < 1e-6:  # a limb pointing sideways: keep forward instead
        left = np.cross(up, np.array([0.0, 0.0, 1.0]))
    left = unit(left)
    return np.stack([left, up, np.cross(left, up)], axis=1)


def landmark_axes(joints: Vec, trunk: Vec, head: Vec, hands: Vec, feet: list[Vec]) -> Vec:
    """The frame each landmark's calibration correction is expressed in (body frame).

    Face points use the head frame, shoulders the upper trunk, hips the pelvis, hand and
    foot points their hand and foot frames, and elbow, wrist, knee and ankle the segment
    that ends at them (upper arm, forearm, thigh, shin).

    Returns:
        (33, 3, 3) frames whose columns are unit axes in the body frame.
    """
    axes = np.empty((33, 3, 3))
    axes[:11] = head
    axes[11:13] = trunk[3]
    axes[23:25] = trunk[0]
    for odd in (0, 1):
        axes[13 + odd] = _segment_axes(joints[11 + odd], joints[13 + odd])
        axes[15 + odd] = _segment_axes(joints[13 + odd], joints[15 + odd])
        axes[25 + odd] = _segment_axes(joints[23 + odd], joints[25 + odd])
        axes[27 + odd] = _segment_axes(joints[25 + odd], joints[27 + odd])
        axes[17 + odd : 23 + odd : 2] = hands[odd]
        axes[29 + odd : 33 + odd : 2] = feet[odd]
    return axes


def _leg_abduction_deg(shape: BodyShape, posture: Posture, side: Side, incl: Vec) -> float:
    """Outward tilt of a leg: given, or what puts the ankles stance_width_m apart."""
    override = posture.left if side == "left" else posture.right
    if override is not None and override.abduct_deg is not None:
        return override.abduct_deg
    if posture.stance not in ("both", side):
        return 0.0  # a free leg hangs straight back or forward
    drop = shape.thigh_m * np.cos(np.radians(incl[0])) + shape.shin_m * np.cos(np.radians(incl[1]))
    reach = 0.5 * posture.stance_width_m - shape.hip_half_m
    return float(np.degrees(np.arcsin(np.clip(reach / max(drop, 1e-3), -0.6, 0.6))))


def _leg(shape: BodyShape, posture: Posture, side: Side, pitch: float, lm: Vec) -> Vec:
    """Fills hip, knee, ankle, heel and foot index of one leg; returns its foot frame."""
    sign, odd = _SIGN[side], 0 if side == "left" else 1
    angles = posture.leg(side)
    thigh_deg = pitch - angles.hip_flex_deg
    shin_deg = thigh_deg + angles.knee_flex_deg
    roll = roll_matrix(
        sign * _leg_abduction_deg(shape, posture, side, np.array([thigh_deg, shin_deg]))
    )
    hip = np.array([sign * shape.hip_half_m, 0.0, 0.0])
    knee = hip - roll @ inclined(thigh_deg, shape.thigh_m)
    ankle = knee - roll @ inclined(shin_deg, shape.shin_m)
    toe_out = yaw_matrix(sign * posture.toe_out_deg)
    if posture.stance in ("both", side):
        foot = toe_out  # flat on the floor whatever the shin does
    else:
        # The foot sits at (90 + dorsiflexion) degrees to the shin, so it tilts with it.
        foot = roll @ pitch_matrix(shin_deg - angles.ankle_deg) @ toe_out
    height = shape.height_m
    heel = ankle + foot @ anatomy.mirrored(anatomy.FOOT_LANDMARKS["heel"], sign) * height
    toe = ankle + foot @ anatomy.mirrored(anatomy.FOOT_LANDMARKS["foot_index"], sign) * height
    for base, point in ((23, hip), (25, knee), (27, ankle), (29, heel), (31, toe)):
        lm[base + odd] = point
    return foot


def _trunk(shape: BodyShape, posture: Posture, points: dict[str, Vec], lm: Vec) -> Vec:
    """Fills the spine points and shoulders; returns the four trunk segment frames."""
    pelvis_deg = posture.pelvis_pitch_deg
    lumbar_deg, thoracic_deg, upper_deg = posture.trunk_inclinations_deg
    f0, f1, f2, f3 = (f * shape.trunk_m for f in _SPINE_FRACTIONS)
    back = -0.005 * shape.height_m  # the trunk's centre line runs just behind the hips
    points["lumbar"] = pitch_matrix(pelvis_deg) @ np.array([0.0, f0, back])
    points["waist"] = points["lumbar"] + inclined(lumbar_deg, f1)
    points["chest"] = points["waist"] + inclined(thoracic_deg, f2)
    points["neck"] = points["chest"] + inclined(upper_deg, f3)
    upper = pitch_matrix(upper_deg)
    for sign, index in ((1.0, 11), (-1.0, 12)):
        offset = np.array([sign * shape.shoulder_half_m, 0.58 * f3, -0.004 * shape.height_m])
        lm[index] = points["chest"] + upper @ offset
    return np.stack([pitch_matrix(a) for a in (pelvis_deg, lumbar_deg, thoracic_deg, upper_deg)])


def _head(shape: BodyShape, posture: Posture, points: dict[str, Vec], lm: Vec) -> Vec:
    """Fills the neck top, head centre and face landmarks; returns the head frame."""
    upper_deg = posture.trunk_inclinations_deg[2]
    neck_deg = upper_deg + _NECK_REST_DEG + 0.5 * posture.neck_flex_deg
    points["neck_top"] = points["neck"] + inclined(neck_deg, shape.neck_m)
    frame = pitch_matrix(upper_deg + posture.neck_flex_deg)
    height = shape.height_m
    points["head"] = points["neck_top"] + frame @ np.array([0.0, 0.034, 0.010]) * height
    for index, offset in anatomy.HEAD_LANDMARKS.items():
        lm[index] = points["head"] + frame @ np.asarray(offset) * height
    for index, left in anatomy.MIRRORED_HEAD.items():
        offset = anatomy.mirrored(anatomy.HEAD_LANDMARKS[left], -1.0)
        lm[index] = points["head"] + frame @ offset * height
    return frame


def _arm(
    shape: BodyShape, posture: Posture, side: Side, points: dict[str, Vec], lm: Vec
) -> tuple[Vec, Vec]:
    """Fills elbow, wrist and hand landmarks of one arm; returns (grip centre, hand frame)."""
    sign, odd = _SIGN[side], 0 if side == "left" else 1
    roll = roll_matrix(sign * posture.arm_abduct_deg)
    upper_deg = 180.0 - posture.shoulder_flex_deg  # hanging = pointing straight down
    fore_deg = upper_deg - posture.elbow_flex_deg
    shoulder = lm[11 + odd]
    elbow = shoulder + roll @ inclined(upper_deg, shape.upper_arm_m)
    wrist = elbow + roll @ inclined(fore_deg, shape.forearm_m)
    along = roll @ inclined(fore_deg, 1.0)
    palm = roll @ inclined(fore_deg + 90.0, 1.0)  # overhand: the palm faces back when hanging
    thumb = sign * np.cross(palm, along)
    frame = np.stack([thumb, along, palm], axis=1)
    height = shape.height_m
    lm[13 + odd], lm[15 + odd] = elbow, wrist
    for base, name in ((17, "pinky"), (19, "index"), (21, "thumb")):
        lm[base + odd] = wrist + frame @ np.asarray(anatomy.HAND_LANDMARKS[name]) * height
    grip = wrist + frame @ np.asarray(anatomy.GRIP_OFFSET) * height
    return grip, frame
