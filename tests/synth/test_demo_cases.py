"""The four demo cases of the synthetic athlete, end to end, with seed 7 and another seed.

Each clip is rendered by `hinge-edge synth` itself (its default camera: side_left, 3.5 m
away at 1.2 m, 30 fps; 640x360 and 3 reps here to keep rendering short):

    hinge-edge synth clean.mp4 --exercise rdl --reps 3 --seed 7
    hinge-edge synth knee.mp4 --exercise rdl --reps 3 --fault knee_dominant=0.8 --seed 7
    hinge-edge synth hips.mp4 --exercise deadlift --reps 3 --fault hips_rise_first=0.8 --seed 7
    hinge-edge synth swing.mp4 --exercise swing --reps 3 --seed 7

then its landmarks are found by the real pose models and scored by the hinge engine as
`hinge-edge replay` scores them (pixels and 3-D landmarks, frame by frame), the exercise
recognised, not fixed. A clean RDL is counted, named `rdl` and raises no fault; a
knee-dominant RDL has `knee_dominant` on most of its reps; a deadlift whose hips rise
first has `hips_rise_first` on most of its reps; a swing is counted and named `swing`.
The two faulty cases are also scored with the exercise fixed, as a camera's
`hinge.exercise` setting fixes it: recognition cannot know that knees bent 60-80 deg from
the top are an RDL gone wrong rather than a touch-and-go deadlift (the real 0016c clips,
correct deadlifts, read the same), the setting can.

Rendering the eight clips takes 10-20 minutes; the videos are kept in pytest's cache
(keyed by the command and the renderer's code) and so are their landmarks (keyed by the
pose code, the models and the video, as the suite's), so that a rerun after a change to
the hinge engine takes seconds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from edge.cli import main
from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth.clip import truth_path
from tools.synthsuite.suite import (
    cached_landmarks,
    find_landmarks,
    landmarks_key,
    score,
    with_codes,
)

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (7, 3)
REPS = 3
CASES: dict[str, list[str]] = {
    "clean_rdl": ["--exercise", "rdl"],
    "knee_dominant_rdl": ["--exercise", "rdl", "--fault", "knee_dominant=0.8"],
    "hips_rise_first_deadlift": ["--exercise", "deadlift", "--fault", "hips_rise_first=0.8"],
    "swing": ["--exercise", "swing"],
}


def render_key(argv: list[str]) -> str:
    """A digest of the `synth` command and the renderer's code (edge/synth, edge/cli.py)."""
    digest = hashlib.sha256(" ".join(argv).encode())
    for path in [*sorted((ROOT / "edge" / "synth").glob("*.py")), ROOT / "edge" / "cli.py"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Demo:
    """Renders (or reuses), finds the landmarks of (or reuses) and scores each case once."""

    def __init__(self, folder: Path, pose_models) -> None:
        self.folder = folder
        self.pose_models = pose_models
        self.estimator: PoseEstimator | None = None
        self.runs: dict[tuple[str, int], dict[str, Any]] = {}

    def __call__(self, case: str, seed: int) -> dict[str, Any]:
        if (case, seed) not in self.runs:
            self.runs[(case, seed)] = self._run(case, seed)
        return self.runs[(case, seed)]

    def _video(self, case: str, seed: int) -> Path:
        argv = [*CASES[case], "--reps", str(REPS), "--seed", str(seed), "--size", "640x360"]
        video = self.folder / f"{case}-{seed}-{render_key(argv)}.mp4"
        if not (video.is_file() and truth_path(video).is_file()):
            for stale in self.folder.glob(f"{case}-{seed}-*"):
                stale.unlink()
            assert main(["synth", str(video), *argv]) == 0
        return video

    def _run(self, case: str, seed: int) -> dict[str, Any]:
        video = self._video(case, seed)
        key = landmarks_key(video)
        data = cached_landmarks(video, key)
        if data is None:
            if self.estimator is None:
                self.estimator = PoseEstimator(PoseConfig(), models=self.pose_models)
            data = find_landmarks(video, self.estimator, key)
        events = score(data, None, f"{case}-{seed}")  # recognised, as `hinge-edge replay`
        reps = with_codes(events)
        configured = with_codes(score(data, CASES[case][1], f"{case}-{seed}"))
        return {
            "reps": reps,
            "codes": [rep["codes"] for rep in reps],
            "exercises": [rep["exercise"] for rep in reps],
            "sets": [e["exercise"] for e in events if e["event"] == "set"],
            "configured_codes": [rep["codes"] for rep in configured],
        }


def seen(run: dict[str, Any]) -> str:
    """What the engine made of a clip, for assertion messages."""
    return (
        f"{len(run['reps'])} reps, exercise per rep {run['exercises']}, sets {run['sets']}, "
        f"faults per rep {run['codes']}"
    )


# Known failures, run as strict xfails so a fix shows up (issue 13's note gives the figures).
KNOWN: dict[tuple[str, str, int], str] = {
    ("clean", "clean_rdl", 3): "chest_first on every rep: early in the descent the pose "
    "stage reads the hips 0.03 leg lengths forward as the bar slides down the thighs, where "
    "the render's truth moves them back",
    ("fault", "knee_dominant_rdl", 7): "knees bent 63-80 deg from the top: named deadlift; its "
    "hip/knee flexion ratio at the bottom (1.3-1.4) is a deadlift's, not a squat's",
    ("fault", "knee_dominant_rdl", 3): "as seed 7: named deadlift, hip/knee ratio 1.55-1.67",
}


def known(request, kind: str, case: str, seed: int) -> None:
    """Marks a known failure as a strict expected failure, with its reason."""
    reason = KNOWN.get((kind, case, seed))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope="module")
def demo(request, pose_models) -> Demo:
    return Demo(Path(request.config.cache.mkdir("demo-cases")), pose_models)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES)
def test_every_rep_is_counted_once(demo, case, seed):
    run = demo(case, seed)
    assert len(run["reps"]) == REPS, seen(run)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("case", "exercise"), [("clean_rdl", "rdl"), ("swing", "swing")])
def test_the_exercise_is_recognised(request, demo, case, exercise, seed):
    known(request, "exercise", case, seed)
    run = demo(case, seed)
    assert run["sets"] == [exercise], seen(run)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_clean_rdl_raises_no_fault(request, demo, seed):
    known(request, "clean", "clean_rdl", seed)
    run = demo("clean_rdl", seed)
    assert run["reps"] and not any(run["codes"]), seen(run)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("case", "code"),
    [("knee_dominant_rdl", "knee_dominant"), ("hips_rise_first_deadlift", "hips_rise_first")],
)
def test_the_fault_is_flagged_where_the_camera_names_the_exercise(demo, case, code, seed):
    """The camera's `hinge.exercise` setting (what a coach sets for a platform) overrides
    recognition: a knee-dominant RDL judged as the RDL it is meant to be."""
    run = demo(case, seed)
    flagged = sum(code in codes for codes in run["configured_codes"])
    assert flagged > REPS / 2, f"configured as {CASES[case][1]}: {run['configured_codes']}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("case", "code"),
    [("knee_dominant_rdl", "knee_dominant"), ("hips_rise_first_deadlift", "hips_rise_first")],
)
def test_the_injected_fault_is_flagged_on_most_reps(request, demo, case, code, seed):
    known(request, "fault", case, seed)
    run = demo(case, seed)
    flagged = sum(code in codes for codes in run["codes"])
    assert flagged > REPS / 2, seen(run)
