"""The hinge engine against the labels of every dev clip, all data and leave-one-source-out.

    .venv/bin/python -m tools.devclips extract          # once: the landmarks, cached
    .venv/bin/python -m tools.eval_real [--fps 10] [--loso] [--json out.json]

Per clip: reps counted against the label, the set's exercise against the label, and the
faults the labels name (present on the faulty clips, `knee_dominant` absent on the good
ones). `--fps` scores the landmarks at the rate the daemon analyses (every frame when 0):
the clip as tracked at that rate where `devclips extract --fps F [--back]` cached it (the
pose tracker and the back check as a daemon runs them), else the frames of the every-frame
track a daemon would keep, without the back check.
`--loso` re-runs the tuner (`tools/hinge_tune.py`) with each source repository held out
and scores the held-out clips with the values chosen without them: the figures a new
gym's footage should expect.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edge.hinge import HingeConfig, score_track
from edge.replay import analysis_slot
from tools.devclips import Clip, load_clips, load_track, track_path

HINGES = ("rdl", "deadlift", "good_morning", "swing", "single_leg_rdl")
# labels.csv names -> the engine's names (a kettlebell deadlift from the floor is a deadlift)
EXERCISE_OF_LABEL = {"kb_deadlift": "deadlift"}
FAULTS_OF_LABEL = ("knee_dominant", "spine_flexion", "hyperextension")


@dataclass
class Outcome:
    """What the engine made of one clip."""

    clip: str
    source: str
    view: str
    label_exercise: str
    label_reps: int
    reps: int
    exercise: str | None
    exercise_confidence: float | None
    faults: dict[str, int]
    expected_faults: list[str]
    good: bool

    @property
    def hinge(self) -> bool:
        """The label says a hinge (not a squat)."""
        return self.label_exercise in HINGES

    @property
    def reps_exact(self) -> bool:
        """Counted exactly."""
        return self.reps == self.label_reps

    @property
    def exercise_right(self) -> bool:
        """Named right (a clip with no rep counted names nothing; right only if 0 expected)."""
        if self.label_reps == 0:
            return self.reps == 0
        return self.exercise == self.label_exercise

    @property
    def faults_right(self) -> bool:
        """Every labelled fault found on some rep; no knee_dominant on a good clip."""
        found = all(self.faults.get(code, 0) > 0 for code in self.expected_faults)
        return found and not (self.good and self.faults.get("knee_dominant", 0) > 0)


def subsample(track: dict[str, np.ndarray], fps: float) -> dict[str, np.ndarray]:
    """The frames a daemon analysing at `fps` would see (every frame when fps is 0)."""
    t = track["t"]
    if fps <= 0 or not len(t):
        return track
    slots = analysis_slot(t, fps)
    keep = np.flatnonzero(np.r_[True, np.diff(slots) > 0])
    return {
        k: (v[keep] if k in ("t", "xy", "visibility", "world") else v) for k, v in track.items()
    }


def rate_track(
    clip: Clip, fps: float, perturb: str = "", model: str = "", tracked: bool = True
) -> dict[str, np.ndarray]:
    """A clip's track as a daemon analysing `fps` frames a second sees it (0: every frame).

    Tracked at that rate where `devclips extract --fps` cached it (and `tracked`), with its
    back outlines where `--back` did; else the frames of the every-frame track the daemon
    would keep, without outlines (the engine chose those frames at the clip's own rate).
    """
    if fps > 0:
        if tracked and track_path(clip, perturb, model, fps).exists():
            return load_track(clip, perturb, model, fps)
        track = subsample(load_track(clip, perturb, model), fps)
        track.pop("back", None)
        return track
    return load_track(clip, perturb, model)


def tracked_at_rate(clips: Sequence[Clip], fps: float, perturb: str = "") -> int:
    """How many of `clips` have a track cached at `fps` (`devclips extract --fps`)."""
    return sum(track_path(c, perturb, "", fps).exists() for c in clips) if fps > 0 else 0


def expected(clip: Clip) -> tuple[list[str], bool]:
    """The faults a clip's labels name, and whether it is labelled good."""
    labels = clip.labels.lower()
    good = labels.startswith("good") or labels.startswith("correct")
    codes = [c for c in FAULTS_OF_LABEL if c in labels]
    if "split screen" in labels:  # both panes in one frame: no per-clip fault verdict
        codes, good = [], False
    return codes, good


def clip_events(
    clip: Clip,
    fps: float = 0.0,
    config: HingeConfig | None = None,
    perturb: str = "",
    model: str = "",
    tracked: bool = True,
) -> tuple[list, dict[str, np.ndarray]]:
    """The engine's events on a clip's cached track at `fps`, and the track it scored.

    `model` picks the landmarks: a landmark model's manifest name, '' for the config's.
    `tracked`: as `rate_track`.
    """
    track = rate_track(clip, fps, perturb, model, tracked)
    back = track.get("back")
    events = score_track(
        track["t"], track["xy"], track["visibility"], config, world=track["world"], back=back
    )
    return events, track


def evaluate(
    clip: Clip, config: HingeConfig | None = None, fps: float = 0.0, perturb: str = ""
) -> Outcome:
    """Scores one clip's cached landmarks and compares with its labels."""
    events, _ = clip_events(clip, fps, config, perturb)
    reps = [e for e in events if e["event"] == "rep"]
    sets = [e for e in events if e["event"] == "set"]
    faults: dict[str, int] = {}
    for rep in reps:
        for fault in rep["faults"]:
            faults[fault["code"]] = faults.get(fault["code"], 0) + 1
    main = max(sets, key=lambda s: s["reps"]) if sets else None
    codes, good = expected(clip)
    return Outcome(
        clip=clip.name,
        source=clip.source,
        view=clip.view,
        label_exercise=EXERCISE_OF_LABEL.get(clip.exercise, clip.exercise),
        label_reps=clip.reps,
        reps=len(reps),
        exercise=main["exercise"] if main else None,
        exercise_confidence=main.get("exercise_confidence") if main else None,
        faults=faults,
        expected_faults=codes,
        good=good,
    )


def summary(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The issue's targets over a list of outcomes."""
    hinges = [o for o in outcomes if o.hinge]
    squats = [o for o in outcomes if not o.hinge]
    return {
        "clips": len(outcomes),
        "hinge_clips": len(hinges),
        "reps_exact_hinge": sum(o.reps_exact for o in hinges) / max(len(hinges), 1),
        "reps_within_one_hinge": sum(abs(o.reps - o.label_reps) <= 1 for o in hinges)
        / max(len(hinges), 1),
        "reps_wrong_hinge": sum(abs(o.reps - o.label_reps) for o in hinges),
        "reps_labelled_hinge": sum(o.label_reps for o in hinges),
        "exercise_right": sum(o.exercise_right for o in outcomes) / max(len(outcomes), 1),
        "squats_as_hinge": sum(o.reps > 0 and o.exercise not in (None, "squat") for o in squats),
        "knee_dominant_on_good": sum(
            o.good and o.faults.get("knee_dominant", 0) > 0 for o in outcomes
        ),
        "labelled_faults_found": sum(
            o.faults.get(c, 0) > 0 for o in outcomes for c in o.expected_faults
        ),
        "labelled_faults": sum(len(o.expected_faults) for o in outcomes),
    }


def table(outcomes: Sequence[Outcome], held_out: dict[str, Outcome] | None = None) -> str:
    """A markdown table, one row per clip (with the held-out run beside it if given)."""
    head = "| clip | view | label | reps | exercise | faults |"
    rule = "|---|---|---|---|---|---|"
    if held_out:
        head += " held out: reps | exercise | faults |"
        rule += "---|---|---|"
    rows = [head, rule]
    for o in outcomes:
        row = f"| {o.clip} | {o.view} | {o.label_exercise} x{o.label_reps}"
        row += f"{' ' + ','.join(o.expected_faults) if o.expected_faults else ''}"
        row += f"{' good' if o.good else ''} | {_reps(o)} | {_exercise(o)} | {_faults(o)} |"
        if held_out:
            h = held_out[o.clip]
            row += f" {_reps(h)} | {_exercise(h)} | {_faults(h)} |"
        rows.append(row)
    return "\n".join(rows)


def _mark(ok: bool) -> str:
    return "" if ok else " ✗"


def _reps(o: Outcome) -> str:
    return f"{o.reps}{_mark(o.reps_exact)}"


def _exercise(o: Outcome) -> str:
    conf = "" if o.exercise_confidence is None else f" ({o.exercise_confidence:.2f})"
    return f"{o.exercise or '-'}{conf}{_mark(o.exercise_right)}"


def _faults(o: Outcome) -> str:
    text = ", ".join(f"{k} {v}" for k, v in sorted(o.faults.items())) or "-"
    return text + _mark(o.faults_right)


def loso(clips: Sequence[Clip], fps: float) -> dict[str, Outcome]:
    """Each source held out in turn: tune on the others, score the held-out clips."""
    from tools.hinge_tune import tune

    out: dict[str, Outcome] = {}
    for source in sorted({c.source for c in clips}):
        train = [c for c in clips if c.source != source]
        config = tune(train, fps)
        for clip in clips:
            if clip.source == source:
                out[clip.name] = evaluate(clip, config, fps)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fps", type=float, default=0.0, help="analysed fps (0: every frame)")
    parser.add_argument("--loso", action="store_true", help="leave one source out too")
    parser.add_argument("--perturb", default="", help="score a perturbed delivery's tracks")
    parser.add_argument("--only", default="", help="clips whose name contains this")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    try:
        clips = [c for c in load_clips() if args.only in c.path]
    except FileNotFoundError as err:
        print(f"no labelled data: {err}", file=sys.stderr)
        return 2
    outcomes = [evaluate(c, None, args.fps, args.perturb) for c in clips]
    held = loso(clips, args.fps) if args.loso else None
    figures = {"shipped_defaults": summary(outcomes)}
    if held:
        from tools.hinge_tune import tune

        tuned = tune(clips, args.fps)
        figures["tuned_on_all_clips"] = summary([evaluate(c, tuned, args.fps) for c in clips])
        figures["leave_one_source_out"] = summary([held[o.clip] for o in outcomes])
    text = (
        table(outcomes, held)
        + "\n"
        + "".join(
            f"\n- {name}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in values.items())
            for name, values in figures.items()
        )
    )
    print(text)
    if args.markdown:
        rate = f"{args.fps:g} analysed fps" if args.fps else "every frame"
        if args.fps:
            native = tracked_at_rate(clips, args.fps, args.perturb)
            rate += f" ({native} of {len(clips)} clips tracked at that rate)"
        args.markdown.write_text(
            f"## {rate}{', ' + args.perturb if args.perturb else ''}\n\n{text}\n"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"figures": figures, "clips": [asdict(o) for o in outcomes]}, indent=1)
        )
    return 0


def _fmt(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    sys.exit(main())
