"""Motion of the synthetic athlete: sets of hinge and squat reps with injectable faults.

A rep is four phases (descent, pause at the bottom, rise, pause at the top) blending a
top posture into a bottom posture with a smooth ease. Faults change the postures (depth,
knees, back, head, lockout) or the timing of single joints within a phase (the chest
leading the descent, the hips leading the rise), at a severity in [0, 1]. Pure NumPy:
the hinge engine's tests use it without OpenCV; the renderer turns it into video.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal

from edge.synth.posture import LegPose, Posture

Start = Literal["top", "floor"]
_NUMERIC = (
    "hip_flex_deg",
    "knee_flex_deg",
    "ankle_deg",
    "spine_flex_deg",
    "neck_flex_deg",
    "shoulder_flex_deg",
    "elbow_flex_deg",
)
_FREE_LEG = ("hip_flex_deg", "knee_flex_deg", "ankle_deg")
# Joints whose timing a fault may shift within a phase (the rest follow the base ease).
_KNEE_CHAIN = ("knee_flex_deg", "ankle_deg")

_STAND = Posture()
_HANG = {"shoulder_flex_deg": 0.0, "elbow_flex_deg": 0.0}
_BOTTOMS: dict[str, Posture] = {
    "rdl": Posture(hip_flex_deg=95.0, knee_flex_deg=22.0, ankle_deg=2.0),
    "deadlift": Posture(hip_flex_deg=118.0, knee_flex_deg=75.0, ankle_deg=16.0),
    "good_morning": Posture(hip_flex_deg=84.0, knee_flex_deg=12.0, ankle_deg=-4.0),
    "swing": Posture(hip_flex_deg=92.0, knee_flex_deg=28.0, ankle_deg=4.0, shoulder_flex_deg=-25.0),
    "single_leg_rdl": Posture(hip_flex_deg=80.0, knee_flex_deg=18.0, ankle_deg=-2.0),
    "squat": Posture(
        hip_flex_deg=112.0,
        knee_flex_deg=118.0,
        ankle_deg=32.0,
        stance_width_m=0.42,
        toe_out_deg=20.0,
    ),
}
# Where the hands are: a bar on the back (good morning, back squat) rides with the trunk.
_BAR_ON_BACK = {"shoulder_flex_deg": -55.0, "elbow_flex_deg": 145.0}
_SQUAT_ARMS = {
    "air": ({"shoulder_flex_deg": 0.0}, {"shoulder_flex_deg": 85.0}),
    "back": (_BAR_ON_BACK, _BAR_ON_BACK),
    "goblet": (
        {"shoulder_flex_deg": 25.0, "elbow_flex_deg": 135.0},
        {"shoulder_flex_deg": 35.0, "elbow_flex_deg": 130.0},
    ),
}
DEFAULT_TEMPO: dict[str, tuple[float, float, float, float]] = {
    # eccentric, pause at bottom, concentric, pause at top (seconds)
    "rdl": (1.6, 0.2, 1.1, 0.8),
    "deadlift": (1.2, 0.6, 1.0, 0.6),
    "good_morning": (1.6, 0.2, 1.2, 0.8),
    "swing": (0.55, 0.05, 0.55, 0.25),  # about 1.4 s a rep, hard-style
    "single_leg_rdl": (1.6, 0.3, 1.2, 0.9),
    "squat": (1.4, 0.2, 1.0, 0.8),
}


@dataclass(frozen=True)
class MotionSpec:
    """A set to perform.

    Attributes:
        exercise: rdl, deadlift, good_morning, swing, single_leg_rdl or squat.
        reps: Reps in the set.
        faults: Fault code -> severity in [0, 1] (docs/hinge.md codes), applied to every rep.
        tempo: (eccentric, bottom pause, concentric, top pause) seconds; None: the default.
        speed: Multiplies every phase's duration (0.5 = twice as fast).
        depth: Scales how far the bottom goes (1 = the exercise's nominal bottom).
        start: "top" (standing) or "floor" (the bar on the floor); None: floor for a
            deadlift, top otherwise.
        lead_in_s: Time before the first rep (standing, or set up at the floor).
        tail_s: Time after the last rep (standing, or the bar back on the floor).
        squat_style: Arms of a squat: air (arms forward), back (bar) or goblet.
        yaw_deg: Which way the athlete faces (0: world +z).
    """

    exercise: str = "rdl"
    reps: int = 5
    faults: dict[str, float] = field(default_factory=dict)
    tempo: tuple[float, float, float, float] | None = None
    speed: float = 1.0
    depth: float = 1.0
    start: Start | None = None
    lead_in_s: float = 1.0
    tail_s: float = 1.5
    squat_style: str = "air"
    yaw_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.exercise not in _BOTTOMS:
            raise ValueError(f"unknown exercise {self.exercise!r}; known: {sorted(_BOTTOMS)}")
        bad = [f"{code}={s}" for code, s in self.faults.items() if not 0 <= s <= 1]
        if bad:
            raise ValueError(f"fault severities must lie in [0, 1], got {bad}")

    @property
    def start_order(self) -> Start:
        """Where the first rep begins."""
        return self.start or ("floor" if self.exercise == "deadlift" else "top")


@dataclass(frozen=True)
class RepTruth:
    """When one rep happened (seconds from the start of the sequence)."""

    start_s: float
    bottom_s: float
    lockout_s: float


@dataclass(frozen=True)
class Phase:
    """One stretch of time blending from posture `a` to posture `b`."""

    t0: float
    t1: float
    a: Posture
    b: Posture
    lead: dict[str, float] = field(default_factory=dict)  # field -> ease exponent


def _ease(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return 0.5 - 0.5 * math.cos(math.pi * u)


def blend(a: Posture, b: Posture, u: float, lead: dict[str, float] | None = None) -> Posture:
    """The posture a fraction `u` of the way from `a` to `b`.

    `lead` maps a field to an exponent applied to its progress: above 1 the field lags
    (moves late in the phase), below 1 it leads.
    """
    lead = lead or {}
    values = {}
    for name in _NUMERIC:
        k = _ease(u) ** lead.get(name, 1.0)
        values[name] = getattr(a, name) + k * (getattr(b, name) - getattr(a, name))
    free = _free_leg(a, b, _ease(u))
    return dataclasses.replace(a, **values, **free)


def _free_leg(a: Posture, b: Posture, k: float) -> dict[str, LegPose | None]:
    out: dict[str, LegPose | None] = {}
    for side in ("left", "right"):
        la, lb = getattr(a, side), getattr(b, side)
        if la is None or lb is None:
            continue
        out[side] = LegPose(
            **{n: getattr(la, n) + k * (getattr(lb, n) - getattr(la, n)) for n in _FREE_LEG}
        )
    return out


def postures(spec: MotionSpec) -> tuple[Posture, Posture, Posture]:
    """(standing, top of a rep, bottom of a rep) for a spec, faults applied."""
    top, bottom = _base_postures(spec)
    stand = top
    f = spec.faults
    bottom = _fault_bottom(bottom, f, spec.depth)
    if f.get("incomplete_lockout"):
        s = f["incomplete_lockout"]
        top = dataclasses.replace(top, hip_flex_deg=38 * s, knee_flex_deg=14 * s, ankle_deg=3 * s)
    return stand, top, bottom


def _base_postures(spec: MotionSpec) -> tuple[Posture, Posture]:
    bottom = _BOTTOMS[spec.exercise]
    top = _STAND
    if spec.exercise == "good_morning":
        top = dataclasses.replace(top, **_BAR_ON_BACK)
        torso = bottom.hip_flex_deg - bottom.knee_flex_deg + bottom.ankle_deg
        bottom = dataclasses.replace(
            bottom,
            elbow_flex_deg=145.0,
            shoulder_flex_deg=_BAR_ON_BACK["shoulder_flex_deg"] + torso,
        )
    if spec.exercise == "squat":
        arms_top, arms_bottom = _SQUAT_ARMS[spec.squat_style]
        top = dataclasses.replace(top, stance_width_m=0.42, toe_out_deg=20.0, **arms_top)
        bottom = dataclasses.replace(bottom, **arms_bottom)
    if spec.exercise == "swing":  # the bell floats up to chest height at the top
        top = dataclasses.replace(top, shoulder_flex_deg=80.0)
    if spec.exercise == "single_leg_rdl":
        top = dataclasses.replace(top, stance="left", right=LegPose(0.0, 8.0, 5.0))
        bottom = dataclasses.replace(bottom, stance="left", right=LegPose(-5.0, 10.0, 10.0))
    return (
        dataclasses.replace(top, yaw_deg=spec.yaw_deg),
        dataclasses.replace(bottom, yaw_deg=spec.yaw_deg),
    )


def _fault_bottom(p: Posture, f: dict[str, float], depth: float) -> Posture:
    """The bottom posture with depth and the posture faults applied."""
    hip = p.hip_flex_deg * depth * (1 - 0.55 * f.get("partial_rep", 0.0))
    knee, ankle = p.knee_flex_deg, p.ankle_deg
    if f.get("knee_dominant"):
        s = f["knee_dominant"]
        torso = hip - knee + ankle
        knee, ankle = knee + 80 * s, ankle + 25 * s
        hip = (torso - 30 * s) + knee - ankle  # torso more upright, hips down not back
    spine = 50 * f.get("spine_flexion", 0.0)
    hip -= 0.5 * spine  # keep the shoulders at about the same height
    return dataclasses.replace(
        p,
        hip_flex_deg=hip,
        knee_flex_deg=knee,
        ankle_deg=ankle,
        spine_flex_deg=spine,
        neck_flex_deg=-50 * f.get("head_extension", 0.0),
    )


def _tempo(spec: MotionSpec) -> tuple[float, float, float, float]:
    ecc, pause_bottom, con, pause_top = spec.tempo or DEFAULT_TEMPO[spec.exercise]
    ecc *= 1 - 0.85 * spec.faults.get("rushed_eccentric", 0.0)
    return tuple(x * spec.speed for x in (ecc, pause_bottom, con, pause_top))  # type: ignore[return-value]


def _leads(spec: MotionSpec) -> tuple[dict[str, float], dict[str, float]]:
    """Per-joint timing of the descent and the rise (fault-dependent)."""
    down: dict[str, float] = {}
    up: dict[str, float] = {}
    if spec.faults.get("chest_first"):
        lag = 1 + 4 * spec.faults["chest_first"]  # knees (hence hips going back) come late
        down = {name: lag for name in _KNEE_CHAIN}
    if spec.faults.get("hips_rise_first"):
        s = spec.faults["hips_rise_first"]
        up = {name: 1 / (1 + 4 * s) for name in _KNEE_CHAIN}  # legs straighten first
        up["hip_flex_deg"] = 1 + 3 * s  # the back stays bent
    return down, up


def plan(spec: MotionSpec) -> tuple[list[Phase], list[RepTruth]]:
    """The set as a list of phases, and when each rep happened."""
    stand, top, bottom = postures(spec)
    ecc, pause_bottom, con, pause_top = _tempo(spec)
    down, up = _leads(spec)
    lock = top
    if spec.faults.get("hyperextension"):
        s = spec.faults["hyperextension"]
        lock = dataclasses.replace(top, hip_flex_deg=-18 * s, spine_flex_deg=-22 * s)
    floor = spec.start_order == "floor"
    t = spec.lead_in_s
    phases = [Phase(0.0, t, bottom if floor else stand, bottom if floor else stand)]
    reps: list[RepTruth] = []
    previous = bottom if floor else stand
    for _ in range(spec.reps):
        if not floor:
            phases += [
                Phase(t, t + ecc, previous, bottom, down),
                Phase(t + ecc, t + ecc + pause_bottom, bottom, bottom),
            ]
            start, t = t, t + ecc + pause_bottom
            bottom_t = start + ecc + pause_bottom / 2
        else:
            start = bottom_t = t
        phases += [
            Phase(t, t + con, bottom, lock, up),
            Phase(t + con, t + con + pause_top, lock, top),
        ]
        reps.append(RepTruth(start, bottom_t, t + con))
        t += con + pause_top
        previous = top
        if floor:  # the way down belongs to the rep just counted
            phases += [
                Phase(t, t + ecc, top, bottom, down),
                Phase(t + ecc, t + ecc + pause_bottom, bottom, bottom),
            ]
            t += ecc + pause_bottom
    end = bottom if floor else stand
    phases += [
        Phase(t, t + 0.3, previous if not floor else bottom, end),
        Phase(t + 0.3, t + 0.3 + spec.tail_s, end, end),
    ]
    return phases, reps


def sample(phases: list[Phase], fps: float) -> tuple[list[float], list[Posture]]:
    """Postures at every frame time (`fps` frames per second) over the whole plan."""
    end = phases[-1].t1
    times = [i / fps for i in range(int(end * fps) + 1)]
    out, k = [], 0
    for t in times:
        while k < len(phases) - 1 and t >= phases[k].t1:
            k += 1
        p = phases[k]
        u = 0.0 if p.t1 <= p.t0 else (t - p.t0) / (p.t1 - p.t0)
        out.append(blend(p.a, p.b, u, p.lead))
    return times, out
