"""A rendered clip replayed once with `--events` and `--report`, shared by the report tests."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edge.capture.video import VideoFrame
from edge.contract import AnyEvent, parse_event
from edge.hinge import HingeScorer
from edge.report.trace import Trace, TraceRecorder
from edge.synth.clip import ClipCamera, render_clip
from edge.synth.motion import MotionSpec
from tests.report.builders import truth_poses

# Small and short: rendering takes a few seconds, the replay as long again.
CAMERA = ClipCamera(width_px=320, height_px=180, focal_px=225.0, fps=15.0)
SPEC = MotionSpec(exercise="rdl", reps=2, faults={"knee_dominant": 0.6})


@dataclass(frozen=True)
class ReplayRun:
    """What `hinge-edge replay CLIP --events E --report DIR` produced."""

    clip: Path
    truth: dict
    events: list[AnyEvent]  # the events file, parsed
    report: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def rendered_clip(tmp_path_factory) -> tuple[Path, dict]:
    clip = tmp_path_factory.mktemp("clip") / "rdl.mp4"
    return clip, render_clip(SPEC, CAMERA, clip, seed=1)


@pytest.fixture(scope="session")
def replay_run(rendered_clip, tmp_path_factory) -> ReplayRun:
    """The real command line in a subprocess (its stderr is what a user sees)."""
    clip, truth = rendered_clip
    out = tmp_path_factory.mktemp("replay")
    events, report = out / "events.jsonl", out / "report"
    # The exercise fixed, as at a configured platform: a knee-dominant RDL is recognised
    # as a squat just as often, and a squat is not scored.
    command = [sys.executable, "-m", "edge", "replay", str(clip), "--exercise", "rdl"]
    command += ["--events", str(events), "--report", str(report)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = events.read_text(encoding="utf-8").splitlines()
    return ReplayRun(
        clip, truth, [parse_event(line) for line in lines], report, done.stdout, done.stderr
    )


@pytest.fixture(scope="session")
def truth_run(rendered_clip) -> tuple[Trace, list[AnyEvent]]:
    """The scorer fed the clip's true landmarks (no pose model), recorded as a replay would."""
    _, truth = rendered_clip
    scorer = HingeScorer(session_id="truth")
    recorder = TraceRecorder(scorer)
    events: list[AnyEvent] = []
    for i, frame in enumerate(truth["frames"]):
        poses = truth_poses(frame)
        done = [
            e.stamped("truth", None)
            for e in scorer.update(frame["t_s"], poses.xy[0], poses.visibility[0])
        ]
        events += done
        recorder(VideoFrame(i, frame["t_s"], np.zeros((1, 1, 3), np.uint8)), poses, done)
    events += [e.stamped("truth", None) for e in scorer.close(truth["frames"][-1]["t_s"])]
    return recorder.trace(events), events
