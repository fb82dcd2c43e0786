"""Tunes the exercise recogniser's thresholds on labelled clips (for leave-one-source-out).

    .venv/bin/python -m tools.hinge_tune [--fps 10]      # the values all the data choose

The thresholds of `ExerciseConfig` are argued from anatomy (see their descriptions); this
tool asks what the footage would choose, by coordinate ascent over a small grid around each
default (ties keep the default), maximising the number of labelled clips whose set is named
right. `python -m tools.eval_real --loso` calls `tune` with each source repository held out and
scores the held-out clips with what the others chose: if those figures fall well below the
all-data ones, a threshold is fitting these clips rather than the movement.

The rep counter's thresholds are not tuned here: they were set before this footage existed
and are checked, not fitted, against it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import cache

from edge.contract import SetEvent
from edge.hinge import HingeConfig, HingeScorer
from edge.hinge.config import ExerciseConfig
from edge.hinge.exercise import RepFeatures, classify, median_features
from edge.hinge.layout import layout_for
from tools.devclips import Clip, load_clips
from tools.eval_real import EXERCISE_OF_LABEL, rate_track

# Each threshold's grid: the default and a step either side (fractions of the default).
GRID = {
    "load_high_norm": (0.85, 1.0, 1.15),
    "good_morning_hip_knee_ratio": (0.85, 1.0, 1.15),
    "single_leg_split_deg": (0.7, 1.0, 1.3),
    "swing_arm_top_cos": (0.5, 1.0, 1.5),
    "swing_hands_min_norm": (0.8, 1.0, 1.2),
    "swing_wrists_top_norm": (0.8, 1.0, 1.2),
    "swing_min_hip_knee_ratio": (0.9, 1.0, 1.1),
    "deadlift_min_knee_flexion_deg": (0.85, 1.0, 1.15),
}
_PASSES = 2


@cache
def set_evidence(clip: Clip, fps: float) -> tuple[tuple[RepFeatures, ...], bool] | None:
    """The largest set's rep features (and floor start) in a clip, or None if no set."""
    track = rate_track(clip, fps)
    scorer = HingeScorer(HingeConfig(), layout=layout_for(track["xy"].shape[1]))
    best: tuple[tuple[RepFeatures, ...], bool] | None = None
    for i, t in enumerate(track["t"]):
        xy = track["xy"][i]
        seen = not (xy != xy).all()
        events = scorer.update(
            float(t),
            xy if seen else None,
            track["visibility"][i] if seen else None,
            track["world"][i] if seen else None,
        )
        best = _keep_largest(best, scorer, events)
    return _keep_largest(best, scorer, scorer.close(float(track["t"][-1])))


def _keep_largest(best, scorer: HingeScorer, events: list) -> tuple | None:
    for event in events:
        if isinstance(event, SetEvent):
            reps, floor = scorer.exercise_evidence
            if best is None or len(reps) > len(best[0]):
                best = (tuple(reps), floor)
    return best


def named_right(clips: Sequence[Clip], config: ExerciseConfig, fps: float) -> int:
    """How many clips' largest set the recogniser names as labelled."""
    right = 0
    for clip in clips:
        evidence = set_evidence(clip, fps)
        if evidence is None or not evidence[0]:
            continue
        guess = classify(median_features(list(evidence[0])), config, evidence[1])
        right += guess == EXERCISE_OF_LABEL.get(clip.exercise, clip.exercise)
    return right


def tune(clips: Sequence[Clip], fps: float = 0.0) -> HingeConfig:
    """The thresholds that name the most of `clips` right (coordinate ascent on GRID)."""
    default = ExerciseConfig()
    values = default.model_dump()
    best = named_right(clips, default, fps)
    for _ in range(_PASSES):
        for name, factors in GRID.items():
            base = getattr(default, name)
            for factor in factors:
                trial = ExerciseConfig(**{**values, name: base * factor})
                score = named_right(clips, trial, fps)
                if score > best:
                    best, values = score, trial.model_dump()
    return HingeConfig(classify=ExerciseConfig(**values))


def main(argv: list[str] | None = None) -> int:
    """Command line: prints the values all the clips choose next to the defaults."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fps", type=float, default=0.0)
    args = parser.parse_args(argv)
    clips = load_clips()
    chosen = tune(clips, args.fps).classify
    default = ExerciseConfig()
    for name in GRID:
        print(f"{name}: default {getattr(default, name):g}, chosen {getattr(chosen, name):g}")
    print(
        f"named right: {named_right(clips, default, args.fps)} with the defaults, "
        f"{named_right(clips, chosen, args.fps)} chosen, of {len(clips)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
