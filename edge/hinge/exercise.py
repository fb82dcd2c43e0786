"""Which exercise a rep looks like: hinge variants versus squats.

The deciding cue is where the load is: hanging from the hands (bar, dumbbells,
kettlebell: a hinge, where a deep-knee pattern is a faulty hinge) or held at the
shoulders or chest, or arms held out in front (a squat, or a good morning when the torso
goes far forward on straight knees).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from edge.hinge.config import ExerciseConfig
from edge.hinge.reps import RepBoundary
from edge.hinge.window import RepWindow, nan_reduce

_BOTTOM_SHARE = 0.7  # frames deeper than this share of the rep's depth are "the bottom"
_TOP_SHARE = 0.35  # frames shallower than this share are "near the top"
_ARMS_OUT = 0.5  # arm_down below this: arms held forward, not hanging


def classify_rep(w: RepWindow, rep: RepBoundary, c: ExerciseConfig) -> str:
    """Returns the exercise one rep looks like (`rdl`, `deadlift`, `swing`, ...)."""
    depth = w["depth"]
    deepest = nan_reduce(np.nanmax, depth)
    shallowest = nan_reduce(np.nanmin, depth)
    span = deepest - shallowest
    bottom = depth >= shallowest + _BOTTOM_SHARE * span
    top = depth <= shallowest + _TOP_SHARE * span
    hands_near_shoulders = nan_reduce(np.nanmedian, w["wrist_sh_norm"][bottom]) < c.hands_high_norm
    arms_out_at_bottom = nan_reduce(np.nanmedian, w["arm_down"][bottom]) < _ARMS_OUT
    if hands_near_shoulders or arms_out_at_bottom:
        torso_far = nan_reduce(np.nanmax, w["torso_deg"]) >= c.good_morning_min_torso_deg
        knees_straight = nan_reduce(np.nanmin, w["knee_deg"]) >= c.good_morning_min_knee_deg
        return "good_morning" if torso_far and knees_straight else "squat"
    if nan_reduce(np.nanmedian, w["foot_lift_norm"][bottom]) >= c.single_leg_lift_norm:
        return "single_leg_rdl"
    swing_up = nan_reduce(np.nanmax, w["wrist_up_norm"][top]) >= c.swing_hands_top_norm
    if swing_up:
        return "swing"
    hands_low = nan_reduce(np.nanmedian, w["wrist_ankle_norm"][bottom]) < c.deadlift_hands_low_norm
    knees_bent = nan_reduce(np.nanmin, w["knee_deg"]) < c.deadlift_max_knee_deg
    return "deadlift" if rep.from_floor or hands_low or knees_bent else "rdl"


class ExerciseVote:
    """The set's exercise: a majority over its reps, or the camera's fixed setting."""

    def __init__(self, fixed: str | None) -> None:
        """Creates a vote; `fixed` (from config) wins over every rep."""
        self.fixed = fixed
        self._votes: Counter[str] = Counter()

    def reset(self) -> None:
        """Starts a new set."""
        self._votes.clear()

    def add(self, guess: str) -> str:
        """Counts one rep's guess; returns the set's exercise so far."""
        self._votes[guess] += 1
        return self.current or guess

    @property
    def current(self) -> str | None:
        """The exercise of the set so far (None before the first rep, unless fixed)."""
        if self.fixed:
            return self.fixed
        return self._votes.most_common(1)[0][0] if self._votes else None

    @property
    def source(self) -> str:
        """`config` when fixed by the camera's setting, `classified` otherwise."""
        return "config" if self.fixed else "classified"
