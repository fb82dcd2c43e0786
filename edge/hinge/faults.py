"""Fault detectors: one function per docs/hinge.md fault, each returning a severity in [0, 1].

Each works on the rep's frames (`RepWindow`), its boundary times and the athlete's
standing baseline; NaN (not measurable, e.g. landmarks unseen) becomes severity 0 and
the caller withholds verdicts the view cannot support.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping

import numpy as np

from edge.hinge.config import FaultConfig
from edge.hinge.reps import SETTLE_FRAMES, RepBoundary
from edge.hinge.window import LOCKOUT_WINDOW_S, Baseline, RepWindow, nan_reduce

_EARLY_FRACTION = 0.4  # "early in the descent / lift": until this share of the depth
# Leg lengths a second: the hips' travel over the ankle early in a descent reads under 1.5
# on 90% of the dev clips' reps and under 3 on 99% of the rendered suite's; the jumps of a
# free foot or a swapped ankle read 5-12.
_HIP_SPEED_MAX = 3.0
_EXTREME_PERCENTILE = 25  # "the lowest" / "the highest" of a phase: its outer quartile
BOTTOM_SHARE = 0.7  # frames deeper than this share of a rep's depth range are its bottom
TOP_SHARE = 0.2  # frames shallower than this share of a rep's depth range are its top
STANDING_LEAN_DEG = 5.0  # standing tall reads within this of vertical (camera roll, landmarks)


def _ramp(excess: float, span: float) -> float:
    """0 at or below the threshold, rising linearly to 1 at threshold + span."""
    if math.isnan(excess):
        return 0.0
    return float(min(1.0, max(0.0, excess / span)))


def bottom_frames(w: RepWindow) -> np.ndarray:
    """Which of a rep's frames are at its bottom (deeper than 70% of its depth range).

    Judging the bottom by the median of these frames, rather than by the most extreme
    frame of the whole rep, keeps one misread frame (a leg swapped for the other on the
    way up) from deciding a verdict.
    """
    depth = w["depth"]
    deepest = nan_reduce(np.nanmax, depth)
    shallowest = nan_reduce(np.nanmin, depth)
    return depth >= shallowest + BOTTOM_SHARE * (deepest - shallowest)


def flexion_at_bottom(w: RepWindow) -> tuple[float, float]:
    """Hip and knee flexion (180 - angle) at the bottom: 3-D where measured, else 2-D.

    The hip is the more folded one (the stance leg of a single-leg RDL; both alike in
    two-legged lifts), the knee the mean of both in 3-D, the near one in the picture.
    """
    bottom = bottom_frames(w)
    split = np.nan_to_num(w["split3d_deg"][bottom])  # one side unseen: no split known
    hip = nan_reduce(np.nanmedian, w["hip3d_deg"][bottom] - 0.5 * split)
    knee = nan_reduce(np.nanmedian, w["knee3d_deg"][bottom])
    if math.isnan(hip) or math.isnan(knee):
        hip = nan_reduce(np.nanmedian, w["hip_fold_deg"][bottom])
        knee = nan_reduce(np.nanmedian, w["knee_deg"][bottom])
    return 180.0 - hip, 180.0 - knee


def at_bottom(w: RepWindow, name: str, peak: bool = False) -> float:
    """A signal over the rep's bottom frames: their median, or their upper quartile.

    `peak` for a posture held only around the deepest moment, that a median would halve.
    """
    values = w[name][bottom_frames(w)]
    if peak:
        return _upper(values)
    return nan_reduce(np.nanmedian, values)


def rep_standing(w: RepWindow, name: str, base: Baseline) -> float:
    """The athlete's own standing value of a signal in this rep: the median of its top frames.

    The rep's own top (its start and its lockout), not an average learned over frames
    that met a "standing still" test: how many did depends on the frame rate and the
    tempo. The set's learned baseline stands in where the rep shows no top.
    """
    depth = w["depth"]
    shallowest = nan_reduce(np.nanmin, depth)
    top = depth <= shallowest + TOP_SHARE * (nan_reduce(np.nanmax, depth) - shallowest)
    value = nan_reduce(np.nanmedian, w[name][top])
    return getattr(base, name) if math.isnan(value) else value


class StandingReference:
    """The athlete's standing value of the signals judged against standing, over the set.

    One rep's top is a handful of frames, and the face and the shoulder's offset from the
    ear-hip line are small in the picture: re-encoding a clip moved one rep's standing
    head angle by up to 9 deg, more than the bottom's. The athlete stands the same way
    before every rep of a set, so each rep's own top (`rep_standing`) is one sample and
    the median of the set's samples so far, this rep's included, is the reference: the
    first rep is judged against its own top as before, later ones against a steadier
    value.
    """

    SIGNALS = ("head_ext_deg", "spine_dev_norm", "spine_dev3d_norm")
    _REPS = 20  # the latest reps of a long set: a slow drift (fatigue) is followed

    def __init__(self) -> None:
        """An empty reference: call `reset` at the start of each set."""
        self._samples: dict[str, deque[float]] = {}
        self.reset()

    def reset(self) -> None:
        """Forgets the previous set's reps."""
        self._samples = {name: deque(maxlen=self._REPS) for name in self.SIGNALS}

    def add(self, w: RepWindow, base: Baseline, lockout_t_s: float = math.inf) -> dict[str, float]:
        """Adds one rep's tops; returns the set's reference of each signal (NaN: none yet).

        The rep's top ends with the frames that confirm its lockout (`SETTLE_FRAMES`
        after it): later frames, still in `w` when a lockout takes longer to confirm, are
        the next rep's (a compilation's cut to another shot, read as this rep's standing,
        flagged a good rep's back). The confirming frames are kept: they are the athlete
        standing tall, and without them the generator's head and dowel faults were found
        up to 12 points less often.
        """
        after = w["t_s"][w["t_s"] > lockout_t_s]
        if len(after) > SETTLE_FRAMES:
            w = w.between(-math.inf, float(after[SETTLE_FRAMES - 1]))
        out = {}
        for name, samples in self._samples.items():
            value = rep_standing(w, name, base)
            if not math.isnan(value):
                samples.append(value)
            out[name] = float(np.median(samples)) if samples else math.nan
        return out


def _reference(
    w: RepWindow, name: str, base: Baseline, standing: Mapping[str, float] | None
) -> float:
    """The set's standing value of a signal where known, else this rep's own."""
    value = math.nan if standing is None else standing.get(name, math.nan)
    return rep_standing(w, name, base) if math.isnan(value) else value


def _upper(values: np.ndarray) -> float:
    """A high value that one misread frame cannot set (the upper quartile)."""
    return nan_reduce(lambda v: np.nanpercentile(v, 100 - _EXTREME_PERCENTILE), values)


def _lower(values: np.ndarray) -> float:
    """A low value that one misread frame cannot set (the lower quartile)."""
    return nan_reduce(lambda v: np.nanpercentile(v, _EXTREME_PERCENTILE), values)


def knee_dominant(w: RepWindow, exercise: str, c: FaultConfig) -> float:
    """Squatting the hinge: knee flexion keeping pace with hip flexion at the bottom.

    A ratio of flexions, measured in the pose model's 3-D landmarks: the same for every
    body and from every camera (two cameras on one set agree), where picture angles
    foreshorten differently from each. Severity 1 at two thirds of the exercise's ratio.
    In the hinges done on soft knees, knees bent past the exercise's limit are the fault
    too, whatever the hips.
    """
    hip_flex, knee_flex = flexion_at_bottom(w)
    threshold = c.hip_knee_ratio.get(exercise, 1.2)
    ratio = hip_flex / max(knee_flex, 1.0)
    by_ratio = _ramp(threshold - ratio, threshold / 3)
    limit = c.knee_max_flexion_deg.get(exercise, math.inf)
    bent = 180.0 - at_bottom(w, "knee3d_bent_deg")
    bent = knee_flex if math.isnan(bent) else bent
    return max(by_ratio, _ramp(bent - limit, c.knee_span_deg))


def back_rounding(w: RepWindow, min_frames: int = 1) -> float:
    """The back's outline at the bottom: the median bulge of the masked bottom frames.

    NaN unless at least `min_frames` of the rep's bottom frames were masked and measured.
    """
    values = w["back_bulge"][bottom_frames(w)]
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) >= min_frames else math.nan


def lumbar_arch(w: RepWindow, rep: RepBoundary, min_frames: int = 1) -> float:
    """How far the lower back dips in at the top: the median arch of the masked top frames."""
    values = w.between(rep.lockout_t_s - LOCKOUT_WINDOW_S, math.inf)["back_arch"]
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) >= min_frames else math.nan


def spine_flexion(
    w: RepWindow,
    base: Baseline,
    c: FaultConfig,
    min_frames: int = 2,
    standing: Mapping[str, float] | None = None,
    side_view: bool = True,
) -> float:
    """Rounded back, from two witnesses: the back's outline, and the dowel line.

    The outline (the person mask's dorsal edge, where the mask model saw the bottom of
    the rep, from at least `min_frames` frames) sees lumbar and thoracic rounding alike;
    BlazePose's landmarks have no spine points, and the dowel witness (the shoulder
    drifting off the ear-hip line towards the back) sees upper-back rounding best and
    lumbar rounding poorly. The severity is the larger of the two.

    The view decides how each is read. From the side (`side_view`) the picture is the
    body's own plane: both witnesses, the dowel line in the picture. From other views the
    outline is no witness (docs/back.md: seen obliquely, a good back's outline reads as
    rounded as a faulty one's) and the dowel line is read in 3-D (`spine_dev3d_norm`; the
    picture where the 3-D landmarks are missing).
    """
    name = "spine_dev_norm"
    if not side_view and not np.all(np.isnan(w["spine_dev3d_norm"][bottom_frames(w)])):
        name = "spine_dev3d_norm"
    reference = _reference(w, name, base, standing)
    excess = at_bottom(w, name, peak=True) - reference
    by_dowel = _ramp(excess - c.spine_margin_norm, c.spine_span_norm)
    if not side_view:
        return by_dowel
    rounding = back_rounding(w, min_frames)
    by_outline = _ramp(rounding - c.back_rounding_margin, c.back_rounding_span)
    return max(by_dowel, by_outline)


def head_extension(
    w: RepWindow, base: Baseline, c: FaultConfig, standing: Mapping[str, float] | None = None
) -> float:
    """Looking up at the bottom: the face turned up from the torso, beyond standing.

    `standing`: the set's reference (`StandingReference`); this rep's own top without it.
    """
    excess = at_bottom(w, "head_ext_deg", peak=True) - _reference(w, "head_ext_deg", base, standing)
    return _ramp(excess - c.head_margin_deg, c.head_span_deg)


def _early(w: RepWindow, t0: float, t1: float, rising: bool, depth: float) -> RepWindow:
    """Frames between t0 and t1 until the depth has moved `_EARLY_FRACTION` of the rep."""
    part = w.between(t0, t1)
    d = part["depth"]
    if not len(part) or np.all(np.isnan(d)):
        return part
    ref = d[0]
    moved = (ref - d) if rising else (d - ref)
    beyond = np.flatnonzero(moved >= _EARLY_FRACTION * depth)
    end = part["t_s"][beyond[0]] if beyond.size else t1
    return part.between(t0, end)


def chest_first(w: RepWindow, rep: RepBoundary, c: FaultConfig) -> float:
    """Early descent led by the chest: the torso tilts before the hips travel back.

    Judged on progress, not amounts, so it holds for every body and exercise: when the
    torso has covered `chest_first_progress` of its tilt, how much of their backward
    travel have the hips covered? Not judged where that travel jumps faster than hips
    move (`_HIP_SPEED_MAX`) before then: an ankle moved, not the hips.
    """
    if rep.from_floor:
        return 0.0
    down = w.between(rep.start_t_s, rep.bottom_t_s)
    torso, travel = down["torso_deg"], down["hip_back_norm"]
    if len(down) < 3 or np.isnan(torso[0]) or np.isnan(travel[0]):
        return 0.0
    torso_span = nan_reduce(np.nanmax, torso) - torso[0]
    travel_span = nan_reduce(np.nanmax, travel) - travel[0]
    if not (torso_span >= c.chest_first_torso_deg and travel_span >= c.chest_first_travel_norm):
        return 0.0
    progress = (torso - torso[0]) / torso_span
    reached = np.flatnonzero(progress >= c.chest_first_progress)
    if not reached.size:
        return 0.0
    # The hips' share at the moment the torso crosses the mark, between the two frames
    # that straddle it: at 15 fps a fast descent moves the torso 10 deg a frame, and the
    # frame that happens to land past the mark would decide the verdict.
    k = int(reached[0])
    steps = np.abs(np.diff(travel[: k + 1])) / np.maximum(np.diff(down["t_s"][: k + 1]), 1e-3)
    if nan_reduce(np.nanmax, steps) > _HIP_SPEED_MAX:  # NaN (no step) compares False
        return 0.0  # the hips "jumped": a landmark swap or a foot leaving the floor
    at = travel[k]
    if k > 0 and not np.isnan(travel[k - 1]) and progress[k] > progress[k - 1]:
        f = (c.chest_first_progress - progress[k - 1]) / (progress[k] - progress[k - 1])
        at = travel[k - 1] + f * (travel[k] - travel[k - 1])
    travelled = (at - travel[0]) / travel_span
    return _ramp(c.chest_first_progress - travelled - c.chest_first_lag, c.chest_first_lag)


def hips_rise_first(w: RepWindow, rep: RepBoundary, exercise: str, c: FaultConfig) -> float:
    """Early lift led by the legs: the hips rise much faster than the shoulders.

    A deadlift's fault (docs/hinge.md: lifting from the floor): an RDL, a good morning or a
    swing rises from a hip fold with the legs nearly straight already, where the hips'
    and shoulders' rise say nothing about who leads.

    Judged from the hips' lowest point (not the depth signal's, which a torso tipping
    further forward as the hips shoot up would move later) until the hips have done half
    their rise. Heights along the athlete's up in the pose model's 3-D landmarks where
    seen (the picture's foreshorten from a front-oblique or a low camera).
    """
    hips, shoulders = w["hip_height3d_norm"], w["shoulder_height3d_norm"]
    if np.mean(np.isnan(hips)) > 0.5:  # 3-D mostly unseen: the picture's heights
        hips, shoulders = w["hip_height_norm"], w["shoulder_height_norm"]
    if exercise != "deadlift" or len(w) < 3 or np.all(np.isnan(hips)):
        return 0.0
    low = int(np.nanargmin(hips))
    rise = hips[low:] - hips[low]
    total = nan_reduce(np.nanmax, rise)
    if not total >= c.hips_rise_min_norm:
        return 0.0
    half = np.flatnonzero(rise >= 0.5 * total)
    hip_rise = rise[half[0]]
    shoulder_rise = shoulders[low + half[0]] - shoulders[low]
    ratio = hip_rise / max(shoulder_rise, 0.01)
    return _ramp(ratio - c.hips_rise_ratio, c.hips_rise_ratio)


def incomplete_lockout(w: RepWindow, rep: RepBoundary, base: Baseline, c: FaultConfig) -> float:
    """Not standing tall at the top: hips short of the standing angle, torso still forward."""
    top = w.between(rep.lockout_t_s - LOCKOUT_WINDOW_S, rep.lockout_t_s)
    # The baseline cannot be trusted below 170 deg: an athlete who never locks out would
    # teach it their incomplete top.
    reference = 175.0 if math.isnan(base.hip_deg) else min(max(base.hip_deg, 170.0), 178.0)
    by_hip = _ramp(reference - c.lockout_margin_deg - _upper(top["hip_deg"]), 15.0)
    by_torso = _ramp(_lower(top["torso_deg"]) - c.lockout_torso_deg, 15.0)
    return max(by_hip, by_torso)


def hyperextension(w: RepWindow, rep: RepBoundary, base: Baseline, c: FaultConfig) -> float:
    """Leaning back at lockout: torso past vertical beyond the athlete's standing lean.

    The standing lean is learned from the tops of the reps, so an athlete who leans back
    at every lockout teaches it the fault: it is taken only within `STANDING_LEAN_DEG` of
    vertical, what a camera's roll and the landmarks' own offsets make of standing tall.
    """
    top = w.between(rep.lockout_t_s - LOCKOUT_WINDOW_S, rep.lockout_t_s)
    standing = 0.0 if math.isnan(base.torso_deg) else base.torso_deg
    standing = min(max(standing, -STANDING_LEAN_DEG), STANDING_LEAN_DEG)
    lean_back = standing - _lower(top["torso_deg"])
    return _ramp(lean_back - c.hyperextension_deg, 10.0)


def partial_rep(w: RepWindow, c: FaultConfig) -> float:
    """Too shallow for a hinge: the hips never folded far enough at the bottom.

    Hip flexion (3-D where measured) rather than the torso's lean, which foreshortens
    from every camera but a side one.
    """
    hip_flex, _ = flexion_at_bottom(w)
    return _ramp(c.partial_min_hip_flexion_deg - hip_flex, c.partial_min_hip_flexion_deg / 2)


def rushed_eccentric(eccentric_s: float, exercise: str, c: FaultConfig) -> float:
    """Dropping instead of lowering: a descent shorter than the exercise's minimum."""
    minimum = c.rushed_eccentric_s.get(exercise, 0.0)
    if minimum <= 0:
        return 0.0
    return _ramp(minimum - eccentric_s, minimum / 2)
