"""Which exercise a set is: hinge variants versus squats, from features of its reps.

Each rep gives a few features that mean the same on every body and, where the pose model's
3-D landmarks are there, from every camera (ratios and 3-D angles, not pixels). The set's
exercise comes from the median of its reps' features, revised as each rep adds evidence,
never from one frame; `exercise_confidence` says how sure the guess is (the share of reps
that agree with it, shrunk while there are few). The questions, in order:

1. Where is the load? Held at the shoulders or chest (wrists near the shoulders, elbows
   bent), or arms held out in front: a squat, or a good morning when the hips fold far
   ahead of the knees. Hanging from the hands
   (bar, dumbbells, kettlebell): a hinge, where a deep-knee pattern is a faulty hinge.
2. One leg in line with the torso while the other hip folds: a single-leg RDL.
3. The bell floating up at the top (arms towards horizontal, or hands well above the hips)
   while the hands stay above mid-shin at the bottom and the hips fold ahead of the knees:
   a kettlebell swing.
4. From the floor (the set starts at the bottom, the load rests between reps), or the knees
   bent deep at the bottom: a deadlift; soft knees from the top: a Romanian deadlift.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, fields

import numpy as np

from edge.hinge.config import ExerciseConfig
from edge.hinge.faults import at_bottom, flexion_at_bottom
from edge.hinge.reps import RepBoundary
from edge.hinge.window import RepWindow, nan_reduce

_TOP_SHARE = 0.35  # frames shallower than this share are "near the top"
_RAISED_PERCENTILE = 25  # "the arms' highest near the top": a quartile, not one frame


@dataclass(frozen=True)
class RepFeatures:
    """What one rep says about the exercise (NaN where not measurable).

    Attributes:
        wrist_shoulder: Wrist-to-shoulder distance at the bottom, torso lengths (small:
            the load sits at the shoulders).
        arm_down: Cosine of the arm's angle from hanging at the bottom (1 hanging).
        elbow: 3-D elbow angle at the bottom, degrees (straight arms: a hanging load).
        arm_up_top: `arm_down` near the top, its lower quartile (0 arms horizontal, < 0
            raised).
        arm_up_peak: Its lowest value near the top (the bell's highest moment).
        wrists_up_top: Wrists above the hips near the top, torso lengths (upper quartile).
        hands_above_ankles: Wrists above the ankles at the bottom, leg lengths.
        hip_flexion: Hip flexion (180 - hip angle) at the bottom, 3-D where available.
        knee_flexion: Knee flexion at the bottom, likewise.
        leg_split: Difference of the two hips' 3-D angles at the bottom, degrees.
        foot_lift: One ankle above the other at the bottom, leg lengths (2-D fallback).
        from_floor: 1 if the rep began at the bottom.
    """

    wrist_shoulder: float
    arm_down: float
    elbow: float
    arm_up_top: float
    arm_up_peak: float
    wrists_up_top: float
    hands_above_ankles: float
    hip_flexion: float
    knee_flexion: float
    leg_split: float
    foot_lift: float
    from_floor: float


def rep_features(w: RepWindow, rep: RepBoundary) -> RepFeatures:
    """Measures one rep's exercise features."""
    depth = w["depth"]
    shallowest = nan_reduce(np.nanmin, depth)
    top = depth <= shallowest + _TOP_SHARE * (nan_reduce(np.nanmax, depth) - shallowest)

    hip_flexion, knee_flexion = flexion_at_bottom(w)
    return RepFeatures(
        wrist_shoulder=at_bottom(w, "wrist_sh_norm"),
        arm_down=at_bottom(w, "arm_down"),
        elbow=at_bottom(w, "elbow3d_deg"),
        arm_up_peak=nan_reduce(np.nanmin, w["arm_down"][top]),
        wrists_up_top=nan_reduce(
            lambda v: np.nanpercentile(v, 100 - _RAISED_PERCENTILE), w["wrist_up_norm"][top]
        ),
        arm_up_top=nan_reduce(
            lambda v: np.nanpercentile(v, _RAISED_PERCENTILE), w["arm_down"][top]
        ),
        hands_above_ankles=at_bottom(w, "wrist_ankle_norm"),
        hip_flexion=hip_flexion,
        knee_flexion=knee_flexion,
        leg_split=at_bottom(w, "split3d_deg"),
        foot_lift=at_bottom(w, "foot_lift_norm"),
        from_floor=float(rep.from_floor),
    )


def classify(f: RepFeatures, c: ExerciseConfig, floor_set: bool = False) -> str:
    """The exercise that features `f` (one rep's, or a set's medians) look like."""
    # Wrists near the shoulders hold the load up only with the elbows bent: straight arms
    # there are a misread wrist (a low-resolution picture), the load still hanging, unless
    # the hands are high above the ankles at the bottom, where a hanging load never is.
    held_up = not f.elbow >= c.load_high_elbow_deg or f.hands_above_ankles >= c.load_high_hands_norm
    at_shoulders = f.wrist_shoulder < c.load_high_norm and held_up
    load_high = at_shoulders or f.arm_down < c.arms_out_cos
    ratio = f.hip_flexion / max(f.knee_flexion, 1.0)
    if load_high:
        return "good_morning" if ratio >= c.good_morning_hip_knee_ratio else "squat"
    split = f.leg_split
    if split >= c.single_leg_split_deg or (
        math.isnan(split) and f.foot_lift >= c.single_leg_lift_norm
    ):
        return "single_leg_rdl"
    # Arms raised towards horizontal, or (seen from the front, where the arm reaching
    # towards the camera foreshortens even in 3-D) the hands risen well above the hips.
    arms_rise = f.arm_up_top <= c.swing_arm_top_cos or f.wrists_up_top >= c.swing_wrists_top_norm
    hinged = ratio >= c.swing_min_hip_knee_ratio
    if arms_rise and hinged and f.hands_above_ankles >= c.swing_hands_min_norm:
        return "swing"
    floor = floor_set or f.from_floor >= 0.5
    return "deadlift" if floor or f.knee_flexion >= c.deadlift_min_knee_flexion_deg else "rdl"


def median_features(reps: list[RepFeatures]) -> RepFeatures:
    """The median of each feature over a set's reps (NaNs ignored)."""
    values = {
        field.name: nan_reduce(np.nanmedian, np.array([getattr(r, field.name) for r in reps]))
        for field in fields(RepFeatures)
    }
    return RepFeatures(**values)


class ExerciseVote:
    """The set's exercise from its reps' features, or the camera's fixed setting."""

    def __init__(self, fixed: str | None, config: ExerciseConfig | None = None) -> None:
        """Creates a vote; `fixed` (from config) wins over every rep."""
        self.fixed = fixed
        self.config = config or ExerciseConfig()
        self._reps: list[RepFeatures] = []
        self._floor_set = False
        self._current: str | None = None
        self.confidence: float | None = None

    def reset(self, floor_set: bool = False) -> None:
        """Starts a new set (`floor_set`: it started at the bottom, a lift from the floor)."""
        self._reps = []
        self._floor_set = floor_set
        self._current = None
        self.confidence = None

    def leave_floor(self) -> None:
        """The set turned out not to be lifted from the floor: vote again without it."""
        self._floor_set = False
        if self._reps:
            self._vote()

    def add(self, features: RepFeatures) -> str:
        """Adds one rep's features; returns the set's exercise so far."""
        self._reps.append(features)
        return self._vote()

    def _vote(self) -> str:
        """The set's exercise from its reps so far (and its `confidence`)."""
        guess = classify(median_features(self._reps), self.config, self._floor_set)
        votes = Counter(classify(r, self.config, self._floor_set) for r in self._reps)
        n = len(self._reps)
        # The share of reps that agree, shrunk towards one half while there are few.
        self.confidence = round((votes[guess] + 0.5) / (n + 1), 2)
        self._current = guess
        return self.current or guess

    @property
    def evidence(self) -> tuple[list[RepFeatures], bool]:
        """The features of the set's reps so far, and whether it started at the bottom."""
        return list(self._reps), self._floor_set

    @property
    def current(self) -> str | None:
        """The exercise of the set so far (None before the first rep, unless fixed)."""
        return self.fixed or self._current

    @property
    def source(self) -> str:
        """`config` when fixed by the camera's setting, `classified` otherwise."""
        return "config" if self.fixed else "classified"
