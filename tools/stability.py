"""Verdicts that hold (issue 13): each dev clip scored as it is and as another camera gives it.

    .venv/bin/python -m tools.devclips extract                    # once: the clips as they are
    .venv/bin/python -m tools.devclips extract --perturb half crf35 trim fps15 noise --jobs 1
    .venv/bin/python -m tools.devclips extract --fps 10 [--back] --perturb all
    .venv/bin/python -m tools.stability [--fps 0 10] [--perturb NAME ...] [--only TEXT]
        [--out docs/stability.md] [--json PATH]

Every labelled clip of `../shared/data` is scored from its cached landmarks (see
`tools/devclips.py`) as it is and as each perturbation delivers it (half size, a harsh
re-encode, cut 0.2 s later, 15 fps, sensor noise), at every frame (`--fps 0`) and at the
rate the daemon analyses (`--fps 10`: tracked at 10 fps where `devclips extract --fps 10`
cached it, as `tools.eval_real.rate_track`); both by default. Per perturbation and rate: clips
whose rep count is the same, reps whose fault verdict is the same, reps whose final score
is within 5 points, and clips whose set is named the same exercise.

Reps are paired by time, once the perturbation's own shift is undone (a clip cut 0.2 s
later has every time 0.2 s earlier): two reps are the same rep when their lockouts lie
within `PAIR_WINDOW_S` or their spans (start to lockout) overlap by at least
`PAIR_OVERLAP` (intersection over union: a slow lift's lockout is a gentle asymptote whose
moment can move by a second); nearest lockouts pair first, one to one. A rep left without a partner
on either side is a disagreement. A rep's fault verdict is the set of its fault codes, those
of its `rep_update` events included; its score is the last one sent (a `rep_update` revises
it). Each rep whose verdicts differ gets one cause (`CAUSES`): no partner, another view or
exercise, a fault at its line (reported just above the severity floor on one side), or a
jump (reported well above it): where to look next. The comparison functions are pure: they
take event lists, as `score_track` returns them.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.hinge.config import FaultConfig
from tools.devclips import (
    DATA,
    PERTURBATIONS,
    ROOT,
    Clip,
    load_clips,
    pose_key,
    track_path,
)

PAIR_WINDOW_S = 0.6  # lockouts this close are the same rep...
PAIR_OVERLAP = 0.5  # ...and so are spans overlapping this much (intersection over union)
SCORE_POINTS = 5.0  # scores this close count as the same
TARGETS = {"rep_counts_equal": 1.0, "faults_equal": 0.95, "scores_within": 0.90}
ABOUT = {
    "half": "half size",
    "crf35": "harsh re-encode (CRF 35)",
    "trim": "starts 0.2 s later",
    "fps15": "15 fps",
    "noise": "sensor noise",
}
EXTRACT = ".venv/bin/python -m tools.devclips extract"


REPORT_FLOOR = FaultConfig().min_severity  # the engine's default severity floor
NEAR_LINE = 0.2  # a fault reported this close above the reporting floor is "near the line"
CAUSES = {
    "no partner": "a rep counted in one delivery only",
    "view or exercise": "the two reps were judged from another view or as another exercise",
    "near the line": "every fault that differs was reported within "
    f"{NEAR_LINE} of the severity floor, and read below it in the other delivery",
    "a jump": "a fault that differs was reported at a severity further above the floor: "
    "a gate, a segmentation or a baseline that moved",
}


@dataclass(frozen=True)
class Rep:
    """One counted rep, as the comparison sees it."""

    t_lockout_s: float
    faults: frozenset[str]
    score: float | None
    t_start_s: float | None = None  # None: known by its lockout only
    severities: dict[str, float] = field(default_factory=dict)  # code -> severity reported
    view: str | None = None
    exercise: str | None = None


@dataclass(frozen=True)
class Pairing:
    """Reps of two runs paired by time: indices into each run's list."""

    pairs: list[tuple[int, int]]
    only_original: list[int]
    only_perturbed: list[int]


@dataclass
class ClipComparison:
    """One clip as it is against one perturbed delivery of it."""

    clip: str
    reps: tuple[int, int]  # (original, perturbed)
    exercise: tuple[str | None, str | None]
    paired: int = 0
    faults_equal: int = 0
    scores_within: int = 0
    unpaired: int = 0
    differences: list[str] = field(default_factory=list)
    flips: dict[str, int] = field(default_factory=dict)  # fault code -> paired reps it flips on
    causes: dict[str, int] = field(default_factory=dict)  # CAUSES key -> disagreeing reps
    seen: tuple[float, float] | None = None  # share of frames with a person (orig, perturbed)

    @property
    def rep_verdicts(self) -> int:
        """Reps with a fault verdict to agree on: pairs, and reps with no partner."""
        return self.paired + self.unpaired

    @property
    def agrees(self) -> bool:
        """Nothing differs: same count, exercise, faults and scores."""
        return not self.differences and self.reps[0] == self.reps[1] and self.exercise_equal

    @property
    def exercise_equal(self) -> bool:
        """Both runs name the same exercise (or none)."""
        return self.exercise[0] == self.exercise[1]


def time_offset(perturb: str) -> float:
    """Seconds a perturbed delivery starts later than the clip (its `-ss`, else 0)."""
    options = PERTURBATIONS.get(perturb, [])
    return float(options[options.index("-ss") + 1]) if "-ss" in options else 0.0


def reps_of(events: Iterable[dict[str, Any]]) -> list[Rep]:
    """The reps of an event list, each with its `rep_update`s folded in (faults, last score)."""
    events = list(events)
    updates: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event["event"] == "rep_update":
            updates.setdefault(event["rep_id"], []).append(event)
    reps = []
    for event in (e for e in events if e["event"] == "rep"):
        later = updates.get(event["id"], [])
        severities: dict[str, float] = {}
        for f in (f for e in [event, *later] for f in e["faults"]):
            severities[f["code"]] = max(severities.get(f["code"], 0.0), float(f["severity"]))
        score = later[-1].get("score", event["score"]) if later else event["score"]
        start = event.get("t_start_s")
        reps.append(
            Rep(
                float(event["t_lockout_s"]),
                frozenset(severities),
                score,
                None if start is None else float(start),
                severities,
                event.get("view"),
                event.get("exercise"),
            )
        )
    return reps


def exercise_of(events: Iterable[dict[str, Any]]) -> str | None:
    """The exercise of the clip's main set (the one with most reps), None without a set."""
    sets = [e for e in events if e["event"] == "set"]
    return max(sets, key=lambda s: s["reps"])["exercise"] if sets else None


def pair_reps(
    original: Sequence[Rep],
    perturbed: Sequence[Rep],
    offset_s: float = 0.0,
    window_s: float = PAIR_WINDOW_S,
    overlap: float = PAIR_OVERLAP,
) -> Pairing:
    """Pairs reps one to one by time, nearest lockouts first.

    Two reps can pair when their lockouts lie within `window_s`, or when both spans are
    known and overlap by at least `overlap` (intersection over union).

    Args:
        original: The reps of the clip as it is.
        perturbed: The reps of the perturbed delivery.
        offset_s: How much later the perturbed delivery starts (its times are this much
            earlier): added to its lockout times before comparing.
        window_s: Lockouts this close pair.
        overlap: Spans overlapping this much pair, however far apart their lockouts.

    Returns:
        The pairs (original index, perturbed index), sorted, and the reps left alone.
    """
    gaps = sorted(
        (abs(a.t_lockout_s - (b.t_lockout_s + offset_s)), i, j)
        for i, a in enumerate(original)
        for j, b in enumerate(perturbed)
    )
    pairs: list[tuple[int, int]] = []
    used_i: set[int] = set()
    used_j: set[int] = set()
    for gap, i, j in gaps:
        same = gap <= window_s or span_overlap(original[i], perturbed[j], offset_s) >= overlap
        if same and i not in used_i and j not in used_j:
            pairs.append((i, j))
            used_i.add(i)
            used_j.add(j)
    return Pairing(
        sorted(pairs),
        [i for i in range(len(original)) if i not in used_i],
        [j for j in range(len(perturbed)) if j not in used_j],
    )


def span_overlap(a: Rep, b: Rep, offset_s: float = 0.0) -> float:
    """Intersection over union of two reps' spans (start to lockout); 0 if one is unknown."""
    if a.t_start_s is None or b.t_start_s is None:
        return 0.0
    b0, b1 = b.t_start_s + offset_s, b.t_lockout_s + offset_s
    inter = min(a.t_lockout_s, b1) - max(a.t_start_s, b0)
    union = max(a.t_lockout_s, b1) - min(a.t_start_s, b0)
    return max(inter, 0.0) / union if union > 0 else 0.0


def scores_close(a: float | None, b: float | None, points: float = SCORE_POINTS) -> bool:
    """Two scores within `points` of each other; no score (a squat) matches only no score."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= points


def compare(
    clip: str,
    original: Sequence[dict[str, Any]],
    perturbed: Sequence[dict[str, Any]],
    offset_s: float = 0.0,
) -> ClipComparison:
    """Compares the events of a clip as it is with those of a perturbed delivery of it."""
    ours, theirs = reps_of(original), reps_of(perturbed)
    pairing = pair_reps(ours, theirs, offset_s)
    out = ClipComparison(
        clip, (len(ours), len(theirs)), (exercise_of(original), exercise_of(perturbed))
    )
    out.paired = len(pairing.pairs)
    out.unpaired = len(pairing.only_original) + len(pairing.only_perturbed)
    for i, j in pairing.pairs:
        a, b = ours[i], theirs[j]
        differs = []
        if a.faults == b.faults:
            out.faults_equal += 1
        else:
            for code in a.faults ^ b.faults:
                out.flips[code] = out.flips.get(code, 0) + 1
            cause = why_verdicts_differ(a, b)
            out.causes[cause] = out.causes.get(cause, 0) + 1
            gained = [f"+{c}" for c in sorted(b.faults - a.faults)]
            differs.append(" ".join(gained + [f"-{c}" for c in sorted(a.faults - b.faults)]))
        if scores_close(a.score, b.score):
            out.scores_within += 1
        else:
            differs.append(f"score {_points(a.score)} -> {_points(b.score)}")
        if differs:
            out.differences.append(f"rep at {a.t_lockout_s:.1f} s: {', '.join(differs)}")
    if out.unpaired:
        out.causes["no partner"] = out.unpaired
    for i in pairing.only_original:
        out.differences.append(f"rep at {ours[i].t_lockout_s:.1f} s: only as it is")
    for j in pairing.only_perturbed:
        out.differences.append(f"rep at {theirs[j].t_lockout_s + offset_s:.1f} s: only perturbed")
    return out


def why_verdicts_differ(a: Rep, b: Rep, floor: float | None = None) -> str:
    """Which of `CAUSES` explains two paired reps' different fault verdicts.

    `floor`: the engine's reporting floor (`hinge.faults.min_severity`, its default if
    None). A rep seen from another view or named another exercise is judged by other
    rules, whatever the severities; otherwise the faults only one side reports say whether
    a measure sat at its line or moved a long way.
    """
    if (a.view, a.exercise) != (b.view, b.exercise):
        return "view or exercise"
    if floor is None:
        floor = REPORT_FLOOR
    reported = [
        r.severities.get(code, 0.0) for r in (a, b) for code in r.faults - (a.faults & b.faults)
    ]
    return "near the line" if max(reported) < floor + NEAR_LINE else "a jump"


def _points(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f}"


def share(part: int, whole: int) -> float | None:
    """The share `part / whole`, None when there is nothing to count."""
    return part / whole if whole else None


def summarise(comparisons: Sequence[ClipComparison]) -> dict[str, Any]:
    """One perturbation's figures over its clips, and whether they meet `TARGETS`."""
    verdicts = sum(c.rep_verdicts for c in comparisons)
    paired = sum(c.paired for c in comparisons)
    figures: dict[str, Any] = {
        "clips": len(comparisons),
        "rep_counts_equal": sum(c.reps[0] == c.reps[1] for c in comparisons),
        "reps": sum(c.reps[0] for c in comparisons),
        "reps_perturbed": sum(c.reps[1] for c in comparisons),
        "rep_verdicts": verdicts,
        "paired": paired,
        "faults_equal": sum(c.faults_equal for c in comparisons),
        "scores_within": sum(c.scores_within for c in comparisons),
        "exercise_equal": sum(c.exercise_equal for c in comparisons),
    }
    shares = {
        "rep_counts_equal": share(figures["rep_counts_equal"], len(comparisons)),
        "faults_equal": share(figures["faults_equal"], verdicts),
        "scores_within": share(figures["scores_within"], paired),
    }
    figures["shares"] = shares
    figures["meets"] = {k: v is None or v >= TARGETS[k] for k, v in shares.items()}
    # The verdicts alone, apart from the segmentation: paired reps only (the target's
    # figure counts a rep with no partner as a disagreement too).
    figures["faults_equal_paired_share"] = share(figures["faults_equal"], paired)
    return figures


# ----------------------------------------------------------------------- scoring


def seen_share(track: dict[str, np.ndarray]) -> float:
    """Share of a track's frames in which the pose stage found a person."""
    xy = track["xy"]
    if not len(xy):
        return 0.0
    return float(np.mean(~np.all(np.isnan(xy.reshape(len(xy), -1)), axis=1)))


def score(
    clip: Clip, perturb: str, fps: float, model: str = "", tracked: bool = True
) -> tuple[list[dict[str, Any]], float]:
    """The engine's events on a clip's cached track, and the share of frames with a person.

    `model`: whose landmarks (a landmark model's manifest name; '' for the config's).
    `tracked`: a track cached at `fps` where there is one (`tools.eval_real.rate_track`).
    """
    from tools.eval_real import clip_events

    events, track = clip_events(clip, fps, perturb=perturb, model=model, tracked=tracked)
    return events, seen_share(track)


def missing_tracks(clips: Sequence[Clip], perturbs: Sequence[str], model: str = "") -> list[str]:
    """The deliveries ('' for as it is) with a clip whose track is not extracted yet."""
    return [p for p in ["", *perturbs] if any(not track_path(c, p, model).exists() for c in clips)]


def run(clips: Sequence[Clip], perturbs: Sequence[str], fps: float) -> dict[str, list]:
    """Every clip against every perturbation at one rate: perturbation -> comparisons."""
    originals = {c.path: score(c, "", fps) for c in clips}
    out: dict[str, list[ClipComparison]] = {}
    for perturb in perturbs:
        out[perturb] = []
        for clip in clips:
            events, seen = originals[clip.path]
            theirs, seen_theirs = score(clip, perturb, fps)
            comparison = compare(clip.name, events, theirs, time_offset(perturb))
            comparison.seen = (seen, seen_theirs)
            out[perturb].append(comparison)
    return out


# ----------------------------------------------------------------------- report


def _pct(part: int, whole: int) -> str:
    value = share(part, whole)
    return "-" if value is None else f"{value:.0%} ({part} / {whole})"


def _mark(ok: bool) -> str:
    return "" if ok else " ✗"


def _seen(comparisons: Sequence[ClipComparison]) -> str:
    pairs = [c.seen for c in comparisons if c.seen is not None]
    if not pairs:
        return "-"
    return f"{np.mean([p[0] for p in pairs]):.0%} -> {np.mean([p[1] for p in pairs]):.0%}"


def summary_table(results: dict[str, list[ClipComparison]]) -> str:
    """Markdown: one row per perturbation, the targets first."""
    rows = [
        "| perturbation | rep count equal | fault verdicts equal | (on paired reps) "
        "| scores within 5 | exercise equal | person seen |",
        "|---|---|---|---|---|---|---|",
        f"| **target** | every clip | >= {TARGETS['faults_equal']:.0%} of reps | "
        f"| >= {TARGETS['scores_within']:.0%} of paired reps | | |",
    ]
    for perturb, comparisons in results.items():
        s = summarise(comparisons)
        rows.append(
            f"| {perturb}{f' ({ABOUT[perturb]})' if perturb in ABOUT else ''} "
            f"| {s['rep_counts_equal']} / {s['clips']}{_mark(s['meets']['rep_counts_equal'])} "
            f"| {_pct(s['faults_equal'], s['rep_verdicts'])}{_mark(s['meets']['faults_equal'])} "
            f"| {_pct(s['faults_equal'], s['paired'])} "
            f"| {_pct(s['scores_within'], s['paired'])}{_mark(s['meets']['scores_within'])} "
            f"| {s['exercise_equal']} / {s['clips']} | {_seen(comparisons)} |"
        )
    return "\n".join(rows)


def _tally(
    results: dict[str, list[ClipComparison]], field_name: str
) -> dict[str, collections.Counter[str]]:
    """Per perturbation, a count-by-key field of `ClipComparison` summed over its clips."""
    return {
        perturb: sum(
            (collections.Counter(getattr(c, field_name)) for c in comparisons),
            collections.Counter(),
        )
        for perturb, comparisons in results.items()
    }


def _table(head: str, rows: dict[str, str], counts: dict[str, collections.Counter[str]]) -> str:
    """Markdown: one row per key (label beside it), one column per perturbation."""
    lines = [f"| {head} | {' | '.join(counts)} |", "|---" * (len(counts) + 1) + "|"]
    lines += [
        f"| {label} | {' | '.join(str(counts[p][key]) for p in counts)} |"
        for key, label in rows.items()
    ]
    return "\n".join(lines)


def flips_table(results: dict[str, list[ClipComparison]]) -> str:
    """Markdown: per fault code, the paired reps whose verdict on it flips, per perturbation."""
    counts = _tally(results, "flips")
    codes = sorted({code for counter in counts.values() for code in counter})
    if not codes:
        return "No fault flips on a paired rep."
    return _table("fault", {code: code for code in codes}, counts)


def causes_table(results: dict[str, list[ClipComparison]]) -> str:
    """Markdown: per cause, the reps whose fault verdicts differ, per perturbation."""
    labels = {cause: f"{cause} ({about})" for cause, about in CAUSES.items()}
    return _table("cause", labels, _tally(results, "causes"))


def detail_table(results: dict[str, list[ClipComparison]]) -> str:
    """Markdown: one row per clip and perturbation where anything differs."""
    rows = [
        "| perturbation | clip | reps | exercise | what differs | person seen |",
        "|---|---|---|---|---|---|",
    ]
    for perturb, comparisons in results.items():
        for c in (c for c in comparisons if not c.agrees):
            reps = f"{c.reps[0]}" if c.reps[0] == c.reps[1] else f"{c.reps[0]} -> {c.reps[1]} ✗"
            names = [n or "-" for n in c.exercise]
            exercise = names[0] if c.exercise_equal else f"{names[0]} -> {names[1]} ✗"
            seen = "-" if c.seen is None else f"{c.seen[0]:.0%} -> {c.seen[1]:.0%}"
            rows.append(
                f"| {perturb} | {c.clip} | {reps} | {exercise} "
                f"| {'; '.join(c.differences) or '-'} | {seen} |"
            )
    return "\n".join(rows) if len(rows) > 2 else "Every clip agrees on everything."


def engine_version() -> str:
    """The commit the engine was scored at, and whether edge/hinge had changes on top."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "edge/hinge"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes under edge/hinge' if dirty else ''}"


def tracked_line(clips: Sequence[Clip], perturbs: Sequence[str], fps: float) -> str:
    """How the deliveries scored at `fps` were tracked, in a sentence."""
    from tools.eval_real import tracked_at_rate

    deliveries = ["", *perturbs]
    native = sum(tracked_at_rate(clips, fps, p) for p in deliveries)
    return (
        f"Tracked at {fps:g} fps (`devclips extract --fps {fps:g}`): {native} of "
        f"{len(clips) * len(deliveries)} deliveries; the rest are their every-frame tracks' "
        f"frames at {fps:g} fps."
    )


def report(
    results: dict[float, dict[str, list[ClipComparison]]],
    command: str,
    secs: float,
    tracked: dict[float, str] | None = None,
) -> str:
    """The whole Markdown report; `tracked`: per rate, how its deliveries were tracked."""
    lines = [
        "# Stability: verdicts that hold",
        "",
        f"Regenerate: `{command}` ({secs:.0f} s on this box). It re-scores cached landmarks, "
        f"extracted once (about half an hour on two cores) by `{EXTRACT}` and "
        f"`{EXTRACT} --perturb {' '.join(PERTURBATIONS)} --jobs 1`; tracked at 10 fps by "
        f"`{EXTRACT} --fps 10 --perturb all` and `{EXTRACT} --fps 10 --back --perturb all` "
        "(about 15 minutes). Engine at "
        f"{engine_version()}; landmarks of pose key `{pose_key()}`.",
        "",
        "Every labelled dev clip of `../shared/data` is scored as it is and as another camera "
        "would deliver it (`tools/devclips.py` PERTURBATIONS, re-encoded with ffmpeg and run "
        "through the real pose stage), and the two runs compared. At every frame the back "
        "check takes part: the outlines `devclips extract --back` cached (the mask model on "
        "the frames the engine asked for, in each delivery). At 10 fps each delivery is "
        "tracked at that rate where `devclips extract --fps 10 [--back]` cached it (the pose "
        "tracker, the back check and the engine as a daemon runs them; each section says how "
        "many), else scored on its every-frame track's frames at 10 fps without the back "
        "check. Reps are "
        f"paired by lockout time (within {PAIR_WINDOW_S} s) or by overlapping spans "
        f"(intersection over union >= {PAIR_OVERLAP}), after undoing the perturbation's own "
        "shift (`trim` starts 0.2 s later). A rep's fault verdict is its set of fault codes "
        "(`rep_update` faults included) and counts as equal only if the set is the same; a rep "
        "with no partner counts as a disagreement (the next column leaves those out: the "
        "verdicts alone, apart from the rep count). Scores are the final ones (after any "
        f"`rep_update`), compared on paired reps: within {SCORE_POINTS:.0f} points counts. "
        "The exercise is the one named for the clip's main set. Person seen: the mean share of "
        "frames in which the pose stage found someone, as it is -> perturbed.",
        "",
        "Targets: rep counts equal on every clip and perturbation; fault verdicts equal on "
        f">= {TARGETS['faults_equal']:.0%} of reps; scores within {SCORE_POINTS:.0f} points on "
        f">= {TARGETS['scores_within']:.0%} of reps. ✗ marks a figure short of its target.",
    ]
    return "\n".join(lines + rate_sections(results, tracked or {})) + "\n"


def rate_sections(
    results: dict[float, dict[str, list[ClipComparison]]], tracked: dict[float, str]
) -> list[str]:
    """Markdown lines: per analysed rate, the summary, the fault flips and the disagreements."""
    lines: list[str] = []
    for fps, by_perturb in results.items():
        title = "every frame" if fps <= 0 else f"{fps:g} fps (the daemon's analysis rate)"
        lines += ["", f"## Scored at {title}", ""]
        if fps in tracked:
            lines += [tracked[fps], ""]
        lines += [summary_table(by_perturb), ""]
        lines += ["### Why fault verdicts differ", "", causes_table(by_perturb), ""]
        lines += ["### Paired reps whose verdict on a fault flips", "", flips_table(by_perturb), ""]
        lines += ["### Disagreements", "", detail_table(by_perturb)]
    return lines


def as_json(results: dict[float, dict[str, list[ClipComparison]]]) -> dict[str, Any]:
    """The figures and every clip's comparison, JSON-ready."""
    runs = [
        {
            "fps": fps,
            "perturb": perturb,
            "offset_s": time_offset(perturb),
            "summary": summarise(comparisons),
            "clips": [asdict(c) for c in comparisons],
        }
        for fps, by_perturb in results.items()
        for perturb, comparisons in by_perturb.items()
    ]
    window = {"pair_window_s": PAIR_WINDOW_S, "score_points": SCORE_POINTS}
    return {"targets": TARGETS, **window, "runs": runs}


# ----------------------------------------------------------------------- command line


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fps", type=float, nargs="+", default=[0.0, 10.0], help="analysed rates (0: every frame)"
    )
    parser.add_argument(
        "--perturb", nargs="+", default=list(PERTURBATIONS), choices=list(PERTURBATIONS)
    )
    parser.add_argument("--only", default="", help="clips whose path contains this")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "stability.md")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    return parser.parse_args(argv)


def load(only: str, perturbs: Sequence[str]) -> list[Clip] | str:
    """The clips to compare, or why they cannot be."""
    if not (DATA / "labels.csv").exists():
        return f"no labelled data at {DATA} (the dev clips live in ../shared/data)"
    clips = [c for c in load_clips() if only in c.path]
    if not clips:
        return f"no labelled clip's path contains {only!r}"
    missing = missing_tracks(clips, perturbs)
    if missing:
        named = [p for p in missing if p]
        commands = ([EXTRACT] if "" in missing else []) + (
            [f"{EXTRACT} --perturb {' '.join(named)} --jobs 1"] if named else []
        )
        which = ", ".join(p or "the clips as they are" for p in missing)
        return f"landmarks not extracted for {which}; run:\n  " + "\n  ".join(commands)
    return clips


def main(argv: list[str] | None = None) -> int:
    """Command line: writes the report (and the JSON if asked); 2 if data or tracks lack."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    clips = load(args.only, args.perturb)
    if isinstance(clips, str):
        print(clips, file=sys.stderr)
        return 2
    start = time.monotonic()
    results = {fps: run(clips, args.perturb, fps) for fps in args.fps}
    secs = time.monotonic() - start
    command = " ".join([".venv/bin/python -m tools.stability", *argv])
    tracked = {fps: tracked_line(clips, args.perturb, fps) for fps in args.fps if fps > 0}
    args.out.write_text(report(results, command, secs, tracked))
    if args.json:
        args.json.write_text(json.dumps(as_json(results), indent=1))
    for fps, by_perturb in results.items():
        print(f"\nfps {fps:g}\n{summary_table(by_perturb)}")
    print(f"\nwrote {args.out} ({secs:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
