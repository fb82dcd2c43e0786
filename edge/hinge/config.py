"""Every threshold of the hinge engine, as configuration (defaults argued from docs/hinge.md).

Units are in the names: `_deg` degrees, `_s` seconds, `_norm` a fraction of a body length
(torso, leg or shoulder-to-ankle height, as each field says).
"""

from __future__ import annotations

from typing import get_args

from pydantic import Field, model_validator

from edge.config_base import StrictModel
from edge.contract.events import Exercise, FaultCode

HINGE_EXERCISES: tuple[str, ...] = ("rdl", "deadlift", "good_morning", "swing", "single_leg_rdl")
FAULT_CODES: tuple[str, ...] = get_args(FaultCode)  # the contract owns the vocabulary
DEFAULT_CUES: dict[str, str] = {
    "knee_dominant": "Push your hips back and keep your shins vertical",
    "spine_flexion": "Keep your back flat: chest proud, brace before you move",
    "head_extension": "Tuck your chin and look at the floor a little ahead of you",
    "chest_first": "Start the rep by pushing your hips back, not by dropping your chest",
    "hips_rise_first": "Push the floor away: let your chest and hips rise together",
    "incomplete_lockout": "Finish tall: squeeze your glutes at the top",
    "hyperextension": "Stand tall at the top without leaning back",
    "partial_rep": "Hinge deeper, until you feel your hamstrings stretch",
    "rushed_eccentric": "Control the way down: take about two seconds",
}
GOOD_REP_CUE = "Good rep: keep it up"


class SignalConfig(StrictModel):
    """Landmark gating and smoothing (One Euro filter, Casiez et al. 2012)."""

    min_visibility: float = Field(0.3, ge=0, le=1, description="Landmarks below are ignored")
    depth_min_visibility: float = Field(
        0.5, ge=0, le=1, description="Shoulder and ankle visibility needed for the depth signal"
    )
    min_cutoff_hz: float = Field(1.5, gt=0, description="One Euro cutoff at rest")
    beta: float = Field(0.3, ge=0, description="One Euro speed coefficient (less lag when fast)")
    derivative_cutoff_hz: float = Field(1.0, gt=0, description="One Euro derivative cutoff")
    scale_decay_per_s: float = Field(
        0.01,
        ge=0,
        lt=1,
        description="How fast the body-height estimate forgets (athlete moved away)",
    )


class ViewConfig(StrictModel):
    """View from the landmarks: shoulder and hip width relative to torso length."""

    side_max_width_norm: float = Field(
        0.30, gt=0, description="Shoulder+hip width / torso below this: side view"
    )
    front_min_width_norm: float = Field(
        0.46, gt=0, description="Shoulder+hip width / torso above this: front (or back) view"
    )
    smoothing_s: float = Field(1.0, gt=0, description="Time constant of the view estimate")
    band_norm: float = Field(
        0.03,
        ge=0,
        description="Dead band: the view changes only once the smoothed width passes a "
        "boundary by this. One athlete's width wavers by about 0.02 from rep to rep and "
        "between re-encodes of the same clip; without the band, one standing at a boundary "
        "switched between side and oblique (and the verdicts that need a side view) rep "
        "by rep",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ViewConfig:
        if self.side_max_width_norm >= self.front_min_width_norm:
            raise ValueError("side_max_width_norm must be below front_min_width_norm")
        if 2 * self.band_norm >= self.front_min_width_norm - self.side_max_width_norm:
            raise ValueError("band_norm must be under half the oblique range")
        return self


class RepConfig(StrictModel):
    """Online rep segmentation on the depth signal (shoulder drop, fraction of body height)."""

    min_amplitude_norm: float = Field(
        0.16, gt=0, lt=1, description="A rep must go this much deeper than standing"
    )
    front_amplitude_share: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Seen from the front, a rep must go this share of min_amplitude_norm "
        "deeper than standing: every witness of the depth foreshortens there (the torso "
        "folds towards the camera, the shoulders drop less in the picture, the 3-D hip "
        "angle is trusted less square on): rendered good mornings, swings and single-leg RDLs "
        "seen from the front went 0.13-0.15 deeper than standing (docs/synth-suite.md, the "
        "grid; the share was chosen on those front cells, 0.7-0.8 count them all)",
    )
    lockout_margin_norm: float = Field(
        0.06, gt=0, lt=1, description="Within this of standing depth counts as the top"
    )
    lockout_fraction: float = Field(
        0.35,
        gt=0,
        lt=1,
        description="...or within this fraction of the rep's own depth (an athlete whose "
        "standing posture reads deeper than usual still locks out)",
    )
    standing_depth_norm: float = Field(
        0.05, ge=0, lt=0.5, description="Depth of standing tall before the athlete showed it"
    )
    floor_pause_s: float = Field(
        0.3,
        ge=0,
        description="A lift from the floor counts only if its start was seen: the athlete "
        "still at the bottom this long...",
    )
    floor_min_depth_norm: float = Field(
        0.3, gt=0, description="...or first seen at least this deep (at the floor)"
    )
    min_rep_s: float = Field(0.5, gt=0, description="Shorter movements are jitter, not reps")
    max_rep_s: float = Field(20.0, gt=0, description="Longer excursions are not reps")
    max_gap_s: float = Field(
        0.7, gt=0, description="Landmarks missing longer than this reset the rep in progress"
    )

    @model_validator(mode="after")
    def _ordered(self) -> RepConfig:
        if self.lockout_margin_norm >= self.front_amplitude_share * self.min_amplitude_norm:
            raise ValueError(
                "lockout_margin_norm must be below min_amplitude_norm (times front_amplitude_share)"
            )
        return self


class SetConfig(StrictModel):
    """When a set ends."""

    idle_s: float = Field(12.0, gt=0, description="No rep for this long ends the set")
    absent_s: float = Field(3.0, gt=0, description="Athlete gone this long ends the set")


class ExerciseConfig(StrictModel):
    """Telling the hinge variants and squats apart (features of each rep, see exercise.py).

    Ratios, cosines and 3-D angles: the same on every body and from every camera.
    """

    load_high_norm: float = Field(
        0.75,
        description="Wrists closer to the shoulders than this at the bottom (torso lengths): "
        "the load sits at the shoulders or chest (squat, good morning); a hanging load keeps "
        "the wrists about an arm's length (1.1-1.4 torso lengths) away",
    )
    load_high_elbow_deg: float = Field(
        135.0,
        description="...but only with the elbows bent more than this (3-D elbow angle, "
        "degrees): holding a load up bends them (goblet about 85, bar on the back 100-120), "
        "a hanging load keeps them straight (150-180); arms this straight are a misread "
        "wrist, the load still hanging...",
    )
    load_high_hands_norm: float = Field(
        0.85,
        description="...unless the hands are this far above the ankles at the bottom (leg "
        "lengths): the 3-D elbow of an arm the body hides from the side reads straight on a "
        "bar held on the back. A wrist misread at the shoulders of a folded hinge stays "
        "lower (the shoulders sink at the bottom): hanging loads read 0.05-0.85 (the swing's "
        "bell the highest), loads at the shoulders of a squat or good morning 0.85-1.45",
    )
    arms_out_cos: float = Field(
        0.5,
        description="Arms held further forward than this at the bottom (cosine from hanging; "
        "0.5 = 60 deg): arms out in front, as in an air squat, not a hanging load",
    )
    good_morning_hip_knee_ratio: float = Field(
        1.4,
        description="Load at the shoulders and the hips folding this many times more than "
        "the knees: a good morning (a squat bends both about equally, ratio near 1)",
    )
    single_leg_split_deg: float = Field(
        35.0,
        description="The two hips' 3-D angles differ by this at the bottom: one leg stays in "
        "line with the torso, a single-leg RDL (two-legged hinges stay within about 20)",
    )
    single_leg_lift_norm: float = Field(
        0.45,
        description="Without 3-D landmarks: one ankle this far above the other at the bottom "
        "(leg lengths) is a single-leg RDL",
    )
    swing_arm_top_cos: float = Field(
        0.3,
        description="Arms raised to near horizontal at the top (cosine from hanging below "
        "this): the bell floating up of a kettlebell swing...",
    )
    swing_wrists_top_norm: float = Field(
        0.5,
        description="...or the hands risen this far above the hips at the top (torso "
        "lengths; a hanging load stays below the hips)...",
    )
    swing_hands_min_norm: float = Field(
        0.4,
        description="...while the hands stay above mid-shin at the bottom (leg lengths above "
        "the ankles; the bell passes between the thighs, a lifted load goes to the floor)",
    )
    swing_min_hip_knee_ratio: float = Field(
        1.15,
        description="...and the hips folding ahead of the knees (flexion ratio at the bottom): "
        "a swing is a hinge; arms swinging up from a squat are not a swing",
    )
    deadlift_min_knee_flexion_deg: float = Field(
        50.0,
        description="Knees bent this far at the bottom (180 - knee angle, median of the bottom "
        "frames), load hanging: a deadlift; a Romanian deadlift keeps soft knees (about "
        "15-45 deg). A set that starts at the bottom with the load resting is a deadlift "
        "whatever the knees",
    )


class FaultConfig(StrictModel):
    """Fault thresholds (docs/hinge.md proxies); severity ramps from threshold to threshold+span."""

    hip_knee_ratio: dict[str, float] = Field(
        default_factory=lambda: {
            "rdl": 1.6,
            "good_morning": 1.75,
            "single_leg_rdl": 1.6,
            "swing": 1.3,
            "deadlift": 1.25,
        },
        description="knee_dominant: hip flexion / knee flexion at the bottom (3-D, medians of "
        "the bottom frames) below this, per exercise. A hinge folds the hips well ahead of the "
        "knees; a squat bends both about equally (ratio near 1). A deadlift from the floor "
        "and a swing bend the knees most and still read 1.3 or more when done well; an RDL, "
        "a good morning and a single-leg RDL keep soft knees and read 2 or more. A fault is "
        "reported from severity min_severity on, i.e. a little below the ratio: the margin "
        "band that keeps a rep at the line from flipping",
    )
    knee_max_flexion_deg: dict[str, float] = Field(
        default_factory=lambda: {
            "rdl": 55.0,
            "good_morning": 50.0,
            "single_leg_rdl": 55.0,
            "swing": 70.0,
        },
        description="knee_dominant: or the more bent knee bent further than this at the "
        "bottom (180 - knee angle, 3-D, median of the bottom frames), whatever the hips: an "
        "RDL, a good morning and a single-leg RDL keep soft knees (15-45 deg), a swing bends "
        "them more (25-70 deg); a deadlift bends them most by design and is judged by the "
        "ratio alone",
    )
    knee_span_deg: float = Field(
        25.0, gt=0, description="knee_dominant: degrees past that limit to full severity"
    )
    spine_margin_norm: float = Field(
        0.03,
        gt=0,
        description="spine_flexion: the shoulder off the ear-hip line at the bottom (upper "
        "quartile of the bottom frames) beyond standing (the median of the set's reps' tops), "
        "torso lengths",
    )
    spine_span_norm: float = Field(0.10, gt=0, description="spine_flexion: full severity span")
    back_rounding_margin: float = Field(
        0.05,
        gt=0,
        description="spine_flexion from the back's outline: its median bulge at the bottom "
        "beyond this, torso lengths (good backs read 0-0.035 on real footage, rounded ones "
        "0.03-0.11: docs/back.md)",
    )
    back_rounding_span: float = Field(
        0.05, gt=0, description="spine_flexion from the outline: full severity span"
    )
    head_margin_deg: float = Field(
        30.0,
        gt=0,
        description="head_extension: the face turned up from the torso at the bottom (upper "
        "quartile of the bottom frames), beyond standing (the median of the set's reps' "
        "tops), by more than this. Lifters with good form on real footage read 20-33 deg (a "
        "gaze a few metres ahead); with the severity floor the line sits at 34 deg, clear of "
        "them by more than "
        "a re-encode's noise (sd about 5 deg)",
    )
    head_span_deg: float = Field(25.0, gt=0, description="head_extension: full severity span")
    chest_first_torso_deg: float = Field(
        20.0, gt=0, description="chest_first: judged on descents tilting the torso this much"
    )
    chest_first_travel_norm: float = Field(
        0.05,
        gt=0,
        description="chest_first: ...and moving the hips back this much (legs). The verdict "
        "is a share of this travel: real swings move the hips back 0.02-0.06 and flip "
        "between re-encodes at this gate (docs/stability.md); 0.08 steadies them but "
        "loses one in seven of the rendered swings' chest-first detections, so it stays",
    )
    chest_first_progress: float = Field(
        0.4, gt=0, lt=1, description="chest_first: when the torso has done this share of its tilt"
    )
    chest_first_lag: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="chest_first: ...the hips' share of their travel lags by more than this",
    )
    hips_rise_min_norm: float = Field(
        0.08, gt=0, description="hips_rise_first: hips rise at least this (leg lengths)..."
    )
    hips_rise_ratio: float = Field(
        2.0, gt=0, description="...and this many times faster than the shoulders, early on"
    )
    lockout_margin_deg: float = Field(
        12.0, gt=0, description="incomplete_lockout: top hip angle below standing by this"
    )
    lockout_torso_deg: float = Field(
        12.0, gt=0, description="incomplete_lockout: or torso still inclined this much at top"
    )
    hyperextension_deg: float = Field(
        10.0, gt=0, description="hyperextension: torso leaning back past vertical by this"
    )
    partial_min_hip_flexion_deg: float = Field(
        60.0,
        gt=0,
        description="partial_rep: a hinge whose hips fold less than this at the bottom (3-D "
        "hip flexion; a full RDL, deadlift or swing folds 85-140 deg, a good morning 80-100)",
    )
    rushed_eccentric_s: dict[str, float] = Field(
        default_factory=lambda: {
            "rdl": 0.4,
            "good_morning": 0.4,
            "single_leg_rdl": 0.4,
            "deadlift": 0.2,
        },
        description="rushed_eccentric: minimum descent per exercise, seconds, measured from 10% "
        "to 90% of the rep's depth (none: swings are explosive by design)",
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "knee_dominant": 30,
            "spine_flexion": 35,
            "head_extension": 10,
            "chest_first": 15,
            "hips_rise_first": 20,
            "incomplete_lockout": 15,
            "hyperextension": 15,
            "partial_rep": 25,
            "rushed_eccentric": 10,
        },
        description="Score points lost at severity 1, per fault code",
    )
    cues: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CUES),
        description="The coaching cue shown for each fault code, in plain words",
    )
    min_severity: float = Field(
        0.15, ge=0, le=1, description="Faults below this severity are not reported"
    )


class BackCheckConfig(StrictModel):
    """The back's outline from the pose model's person mask, on chosen frames (docs/back.md).

    The mask model runs in place of the landmark pass on the frames the engine asks for:
    the deep frames of a rep (the rounded back) and the top (the arch), at most
    `max_rate_hz` of them, so the pose stage's cost rises by a few percent, not twofold.
    """

    enabled: bool = Field(
        True, description="Ask for the mask on chosen frames (where the mask model is loaded)"
    )
    max_rate_hz: float = Field(
        2.0,
        gt=0,
        description="At most this many masked frames a second, per camera (2: 4-6 a rep; the "
        "daemon's CPU rises by about 10% at 10 analysed fps, docs/back.md)",
    )
    min_frames: int = Field(
        1,
        ge=1,
        description="A rep's back is judged from at least this many masked bottom frames (1: "
        "the verdicts on re-encoded clips agree as often as with 2, and 53 of 59 side reps "
        "of the dev clips get one instead of 14)",
    )


class HingeConfig(StrictModel):
    """The whole hinge engine."""

    exercise: Exercise | None = Field(
        None, description="Fix the exercise for this camera (overrides the classifier)"
    )
    signals: SignalConfig = SignalConfig()
    view: ViewConfig = ViewConfig()
    reps: RepConfig = RepConfig()
    sets: SetConfig = SetConfig()
    classify: ExerciseConfig = ExerciseConfig()
    faults: FaultConfig = FaultConfig()
    back: BackCheckConfig = BackCheckConfig()
