"""Body dimensions of the synthetic athlete: segment lengths and girths derived from height.

Proportions follow the classic anthropometric fractions of stature (Drillis & Contini,
as tabulated by Winter, "Biomechanics and Motor Control of Human Movement"): standing,
the ankle joint is at 0.039 H, the knee at 0.285 H, the hip landmark at 0.530 H, the
shoulder at 0.818 H, the chin at 0.870 H and the eyes at 0.936 H.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fractions of height, standing (see module docstring for the source).
_ANKLE_H = 0.039
_THIGH = 0.245  # hip landmark (0.530) to knee (0.285)
_SHIN = 0.246  # knee (0.285) to ankle (0.039)
_TRUNK = 0.315  # hip landmark (0.530) to neck base (0.845), along the trunk centre line
_HEAD_NECK = 1.0 - _ANKLE_H - _THIGH - _SHIN - _TRUNK  # neck base to the top of the head
_UPPER_ARM = 0.188  # shoulder (0.818) to elbow (0.630)
_FOREARM = 0.145  # elbow to wrist (0.485)
_HAND = 0.108  # wrist to fingertip
_FOOT = 0.152

_BUILDS = {"slim": 0.88, "average": 1.0, "heavy": 1.18}


@dataclass(frozen=True)
class BodyShape:
    """An adult body: height plus optional overrides of its proportions.

    Attributes:
        height_m: Standing height, floor to the top of the head, metres.
        girth_scale: Multiplies every body radius: about 0.88 slim, 1.0 average, 1.18 heavy.
        leg_ratio: Leg length (hip landmark to ankle) relative to the average proportion;
            the trunk absorbs the difference so the height is unchanged.
        shoulder_width_m: Distance between the shoulder joint centres (BlazePose landmarks
            11 and 12); None for 0.200 x height.
        hip_width_m: Distance between the hip landmarks (23 and 24); None for 0.120 x height.
    """

    height_m: float = 1.75
    girth_scale: float = 1.0
    leg_ratio: float = 1.0
    shoulder_width_m: float | None = None
    hip_width_m: float | None = None

    def __post_init__(self) -> None:
        if not 1.2 <= self.height_m <= 2.3:
            raise ValueError(f"height_m must be in [1.2, 2.3], got {self.height_m}")
        if not 0.6 <= self.girth_scale <= 1.6:
            raise ValueError(f"girth_scale must be in [0.6, 1.6], got {self.girth_scale}")
        if not 0.85 <= self.leg_ratio <= 1.15:
            raise ValueError(f"leg_ratio must be in [0.85, 1.15], got {self.leg_ratio}")

    @classmethod
    def of_build(cls, height_m: float, build: str = "average") -> BodyShape:
        """Returns a shape of the named build ("slim", "average" or "heavy")."""
        if build not in _BUILDS:
            raise ValueError(f"build must be one of {sorted(_BUILDS)}, got {build!r}")
        return cls(height_m=height_m, girth_scale=_BUILDS[build])

    @classmethod
    def sample(cls, rng: np.random.Generator) -> BodyShape:
        """Draws a plausible adult: 1.50-2.00 m, slim to heavy, some proportion spread."""
        height = float(np.clip(rng.normal(1.72, 0.09), 1.50, 2.00))
        girth = float(np.clip(rng.normal(1.0, 0.09), 0.84, 1.25))
        legs = float(np.clip(rng.normal(1.0, 0.03), 0.92, 1.08))
        shoulders = height * float(np.clip(rng.normal(0.200, 0.010), 0.18, 0.225))
        hips = height * float(np.clip(rng.normal(0.120, 0.007), 0.105, 0.14))
        return cls(height, girth, legs, shoulders, hips)

    @property
    def thigh_m(self) -> float:
        """Hip landmark to knee, metres."""
        return _THIGH * self.leg_ratio * self.height_m

    @property
    def shin_m(self) -> float:
        """Knee to ankle joint centre, metres."""
        return _SHIN * self.leg_ratio * self.height_m

    @property
    def ankle_height_m(self) -> float:
        """Ankle joint centre above the sole of a flat foot, metres."""
        return _ANKLE_H * self.height_m

    @property
    def trunk_m(self) -> float:
        """Hip landmark level to the neck base (C7) along the trunk centre line, metres."""
        leg_change = (self.leg_ratio - 1.0) * (_THIGH + _SHIN)
        return (_TRUNK - leg_change) * self.height_m

    @property
    def neck_m(self) -> float:
        """Neck base to the top of the neck (skull base), metres."""
        return 0.055 * self.height_m

    @property
    def head_neck_m(self) -> float:
        """Neck base to the top of the head when upright, metres."""
        return _HEAD_NECK * self.height_m

    @property
    def upper_arm_m(self) -> float:
        """Shoulder to elbow, metres."""
        return _UPPER_ARM * self.height_m

    @property
    def forearm_m(self) -> float:
        """Elbow to wrist, metres."""
        return _FOREARM * self.height_m

    @property
    def hand_m(self) -> float:
        """Wrist to fingertip of an open hand, metres."""
        return _HAND * self.height_m

    @property
    def foot_m(self) -> float:
        """Heel to toe tip, metres."""
        return _FOOT * self.height_m

    @property
    def shoulder_half_m(self) -> float:
        """Half the distance between the shoulder joint centres, metres."""
        width = self.shoulder_width_m or 0.200 * self.height_m
        return 0.5 * width

    @property
    def hip_half_m(self) -> float:
        """Half the distance between the hip landmarks, metres."""
        width = self.hip_width_m or 0.120 * self.height_m
        return 0.5 * width

    def radius_m(self, fraction_of_height: float) -> float:
        """A body radius given as a fraction of height, scaled by the girth, metres."""
        return fraction_of_height * self.height_m * self.girth_scale
