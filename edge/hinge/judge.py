"""Judging one rep: faults (gated by view and exercise), score, cue and confidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from edge.hinge import faults
from edge.hinge.config import GOOD_REP_CUE, FaultConfig
from edge.hinge.reps import RepBoundary
from edge.hinge.view import VIEW_CONFIDENCE
from edge.hinge.window import Baseline, RepWindow

_TIMING_FAULTS = ("rushed_eccentric",)  # need no angle: judged from every view


@dataclass
class Verdict:
    """What a coach would say about one rep."""

    faults: dict[str, float] = field(default_factory=dict)  # code -> severity
    withheld: dict[str, str] = field(default_factory=dict)  # code -> reason
    score: float | None = None
    cue: str = GOOD_REP_CUE
    confidence: float = 0.0


def angle_faults(  # noqa: PLR0913 - the rep, its two references, the view's witnesses
    w: RepWindow,
    rep: RepBoundary,
    base: Baseline,
    exercise: str,
    c: FaultConfig,
    back_frames: int = 2,
    standing: Mapping[str, float] | None = None,
    side_view: bool = True,
) -> dict[str, float]:
    """Severity of every angle-based fault on a rep (top-start or from the floor).

    `back_frames`: masked bottom frames the back's outline needs to be a witness.
    `standing`: the set's standing reference (`faults.StandingReference`); None judges
    against this rep's own top. `side_view`: the picture shows the body's own plane
    (`faults.spine_flexion`: which witnesses, read how).
    """
    return {
        "knee_dominant": faults.knee_dominant(w, exercise, c),
        "spine_flexion": faults.spine_flexion(w, base, c, back_frames, standing, side_view),
        "head_extension": faults.head_extension(w, base, c, standing),
        "chest_first": faults.chest_first(w, rep, c),
        "hips_rise_first": faults.hips_rise_first(w, rep, exercise, c),
        "incomplete_lockout": faults.incomplete_lockout(w, rep, base, c),
        "hyperextension": faults.hyperextension(w, rep, base, c),
        "partial_rep": faults.partial_rep(w, c),
    }


def judge(severities: dict[str, float], exercise: str, view: str, c: FaultConfig) -> Verdict:
    """Applies exercise and view gating, then scores.

    Squats get no hinge verdicts (a different exercise, not a faulty hinge); a frontal
    view cannot support sagittal-angle verdicts, which are withheld and said so; swings
    are explosive by design, so a fast descent is not a fault there.
    """
    verdict = Verdict()
    if exercise == "squat":
        verdict.withheld = {code: "not a hinge exercise" for code in severities}
        verdict.cue = "Squat recognised: hinge faults are not judged"
        return verdict
    for code, severity in severities.items():
        if view == "front" and code not in _TIMING_FAULTS:
            verdict.withheld[code] = "front view cannot show this"
        elif severity >= c.min_severity:
            verdict.faults[code] = round(severity, 2)
    if "knee_dominant" in verdict.faults:  # an upright torso is part of squatting the hinge
        verdict.faults.pop("partial_rep", None)
    lost = sum(c.weights.get(code, 0.0) * s for code, s in verdict.faults.items())
    verdict.score = float(np.clip(100.0 - lost, 0.0, 100.0))
    if verdict.faults:
        worst = max(
            verdict.faults, key=lambda code: c.weights.get(code, 0.0) * verdict.faults[code]
        )
        verdict.cue = c.cues.get(worst, GOOD_REP_CUE)
    return verdict


def confidence(w: RepWindow, view: str) -> float:
    """How much to trust a verdict: the view, landmark visibility and tracking coverage."""
    if not len(w):
        return 0.0
    coverage = float(np.mean(~np.isnan(w["depth"])))
    visibility = float(np.nanmean(w["visibility"])) if len(w) else 0.0
    value = VIEW_CONFIDENCE.get(view, 0.5) * coverage * visibility
    return 0.0 if math.isnan(value) else round(value, 2)
