"""Joint angles of the synthetic athlete, in the sagittal-plane terms a coach uses.

Angles are in degrees. "Forward" is the athlete's facing direction; a segment's
inclination is measured from the world vertical, positive when its upper end is ahead of
its lower end. The legs form a chain from the planted foot upward:

    shin inclination   = ankle_deg                      (foot flat on the floor)
    thigh inclination  = ankle_deg - knee_flex_deg      (negative: hip behind the knee)
    pelvis pitch       = thigh inclination + hip_flex_deg
    lumbar / thoracic / upper-trunk inclination = pelvis pitch + shares of spine_flex_deg
    head pitch         = upper-trunk inclination + neck_flex_deg

So standing tall is all zeros; a Romanian deadlift bottom is roughly ankle 5, knee 20,
hip 95 (trunk 80 deg forward); a squat bottom is ankle 30, knee 110, hip 110.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stance = Literal["both", "left", "right"]

SPINE_SHARES = (0.35, 0.40, 0.25)
"""How spine_flex_deg is spread over the lumbar, thoracic and upper-trunk joints."""


@dataclass(frozen=True)
class LegPose:
    """Angles of one leg, overriding the posture's shared leg angles.

    Attributes:
        hip_flex_deg: Angle between the thigh and the pelvis: 0 in line (standing), positive
            when trunk and thigh fold towards each other, negative in hip extension.
        knee_flex_deg: 0 straight, positive bent.
        ankle_deg: Ankle dorsiflexion: 0 with the foot at right angles to the shin, positive
            with the knee ahead of the toes' direction. On a flat, planted foot this is the
            shin's inclination from vertical (knee forward positive).
        abduct_deg: Leg tilted outward (sideways) from the hip, degrees; None derives it
            from the posture's stance width.
    """

    hip_flex_deg: float = 0.0
    knee_flex_deg: float = 0.0
    ankle_deg: float = 0.0
    abduct_deg: float | None = None


@dataclass(frozen=True)
class Posture:
    """A whole-body pose, placed on the floor.

    Which foot carries the body is `stance`. The planted foot is flat on the floor and its
    leg's angles set the pelvis pitch (see the module docstring); the other leg hangs
    from the pelvis with its own hip and knee angles. With `stance="both"` the left leg
    carries the pelvis, the right foot is kept flat as well (its `ankle_deg` is then
    implied), and the lower of the two soles touches the floor.

    Attributes:
        hip_flex_deg: Trunk folded forward relative to the thigh (0 standing tall, 90 about
            a trunk at right angles to the thigh; negative leans the trunk back).
        knee_flex_deg: Knee bend, 0 straight.
        ankle_deg: Shin inclination from vertical over the flat foot, knee forward positive.
        spine_flex_deg: Total rounding of the back spread over the lumbar, thoracic and
            upper-trunk joints (`SPINE_SHARES`); negative arches the back (hyperextension).
        neck_flex_deg: Head pitch relative to the upper trunk: positive chin tucked / head
            down, negative looking up.
        shoulder_flex_deg: Arm angle from hanging straight down (world vertical, not the
            trunk), forward positive: a bar held in straight arms stays at 0 whatever the
            trunk does; 90 holds the arms out in front, horizontal.
        elbow_flex_deg: Forearm bent forward/up from the upper arm's line, 0 straight.
        arm_abduct_deg: Arms tilted outward from the shoulders, degrees.
        stance_width_m: Sideways distance between the two ankle joint centres, metres.
        toe_out_deg: Each foot turned outward from the facing direction, degrees.
        left: Override of the left leg's angles, or None for the shared ones.
        right: Override of the right leg's angles, or None for the shared ones.
        stance: Planted foot: "both", "left" or "right" (single-leg stance).
        root_x_m: World x of the floor point under the planted ankle(s), metres.
        root_z_m: World z of that floor point, metres.
        yaw_deg: Facing direction: 0 faces world +z; positive turns towards +x
            (counter-clockwise seen from above).
    """

    hip_flex_deg: float = 0.0
    knee_flex_deg: float = 0.0
    ankle_deg: float = 0.0
    spine_flex_deg: float = 0.0
    neck_flex_deg: float = 0.0
    shoulder_flex_deg: float = 0.0
    elbow_flex_deg: float = 0.0
    arm_abduct_deg: float = 6.0
    stance_width_m: float = 0.26
    toe_out_deg: float = 8.0
    left: LegPose | None = None
    right: LegPose | None = None
    stance: Stance = "both"
    root_x_m: float = 0.0
    root_z_m: float = 0.0
    yaw_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.stance not in ("both", "left", "right"):
            raise ValueError(f"stance must be 'both', 'left' or 'right', got {self.stance!r}")
        if self.stance_width_m < 0:
            raise ValueError(f"stance_width_m must be >= 0, got {self.stance_width_m}")

    def leg(self, side: Literal["left", "right"]) -> LegPose:
        """Returns the angles of one leg: its override, or the shared angles."""
        override = self.left if side == "left" else self.right
        if override is not None:
            return override
        return LegPose(self.hip_flex_deg, self.knee_flex_deg, self.ankle_deg)

    @property
    def support_side(self) -> Literal["left", "right"]:
        """The leg whose planted foot carries the pelvis ("left" when both are planted)."""
        return "right" if self.stance == "right" else "left"

    @property
    def pelvis_pitch_deg(self) -> float:
        """Forward pitch of the pelvis from upright, implied by the supporting leg, degrees.

        This is the trunk lean before any spine flexion; it is derived, not set, because
        the shin, knee and hip angles already fix it.
        """
        leg = self.leg(self.support_side)
        return leg.ankle_deg - leg.knee_flex_deg + leg.hip_flex_deg

    @property
    def trunk_inclinations_deg(self) -> tuple[float, float, float]:
        """Inclination from vertical of the lumbar, thoracic and upper-trunk segments."""
        pitch = self.pelvis_pitch_deg
        lumbar = pitch + SPINE_SHARES[0] * self.spine_flex_deg
        thoracic = lumbar + SPINE_SHARES[1] * self.spine_flex_deg
        return lumbar, thoracic, pitch + self.spine_flex_deg
