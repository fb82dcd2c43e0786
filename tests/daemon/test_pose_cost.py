"""The pose stage's cost per camera: calls and inference time of the landmark and mask passes.

In-process, no model: a scripted pose stage books fixed inference times into `seconds` as
`PoseEstimator` does, a generated set goes through a real camera pipeline (its scorer asks
for the back check's frames), and the figures are read where operators read them: the
camera's status and the stats payload (checked against docs/schemas/), /api/state's
counters and the Prometheus text. The real models in a running daemon:
tests/daemon/test_demo.py.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from edge.capture.frame import Frame
from edge.contract import CameraStatus, Stats
from edge.contract.schema import json_schema
from edge.daemon import app
from edge.daemon.app import Daemon
from edge.daemon.pipeline import POSE_PASSES, CameraPipeline, PipelineCounters
from edge.hinge import HingeConfig
from edge.pose.scripted import ScriptedPoseEstimator
from edge.settings import AppSettings
from edge.synth.sequence import SIDE_VIEWS, random_set
from edge.types import Poses
from tests.daemon.test_contract import metric_values
from tests.daemon.test_pipeline import MessageSink, keypoints_of

CAMERA = "platform-1"
LANDMARK_S, MASK_S = 0.020, 0.028  # booked per call, as a quiet x86 core measures them


class TimedPoseStage:
    """A scripted pose stage that books inference time as `PoseEstimator` does (duck-typed).

    The landmark pass is booked only when it finds the athlete (an empty frame stands for
    one where the detector found nobody, so the landmark model never ran); the mask pass on
    every frame it is asked for.
    """

    def __init__(self, scripted: ScriptedPoseEstimator, mask: bool = True) -> None:
        self._scripted = scripted
        self.mask_model = object() if mask else None  # what `pose_and_back` looks for
        self.seconds: dict[str, float] = defaultdict(float)
        self.masked = 0

    def reset(self) -> None:
        self._scripted.reset()

    def process(self, bgr: np.ndarray, t_s: float | None = None) -> Poses:
        poses = self._scripted.process(bgr, t_s)
        if len(poses):
            self.seconds["landmark_inference"] += LANDMARK_S
        return poses

    def process_with_mask(self, bgr: np.ndarray, t_s: float | None = None) -> tuple[Poses, None]:
        self.masked += 1
        self.seconds["mask_inference"] += MASK_S
        return self._scripted.process(bgr, t_s), None


def play_set(pipeline: CameraPipeline, seq) -> None:
    """Every frame of a generated set through the pipeline, at the set's frame times."""
    origin = time.monotonic()  # the pipeline's clock started just before: within a frame
    image = np.zeros((seq.capture.lens.height_px, seq.capture.lens.width_px, 3), np.uint8)
    for i, t in enumerate(seq.t):
        pipeline.step(Frame(CAMERA, i + 1, image, origin + float(t), time.time(), float(t), 1))


@pytest.fixture(scope="module")
def rdl_set():
    return random_set("rdl", {}, np.random.default_rng(7), SIDE_VIEWS, reps=3)


def run_pipeline(seq, mask: bool = True) -> tuple[CameraPipeline, TimedPoseStage]:
    stage = TimedPoseStage(ScriptedPoseEstimator(keypoints_of(seq)), mask=mask)
    hinge = HingeConfig(exercise="rdl")
    pipeline = CameraPipeline(CAMERA, seq.capture.fps, stage, hinge, "p1-test", MessageSink())
    play_set(pipeline, seq)
    return pipeline, stage


@pytest.mark.parametrize(
    ("before", "after", "calls", "seconds"),
    [
        ((0.0, 0.0), (0.02, 0.0), (1, 0), (0.02, 0.0)),  # a landmark pass
        ((1.0, 2.0), (1.0, 2.03), (0, 1), (0.0, 0.03)),  # a masked frame
        ((1.0, 2.0), (1.0, 2.0), (0, 0), (0.0, 0.0)),  # nobody found: no model ran
        ((0.0, 0.0), (0.05, 0.0), (1, 0), (0.05, 0.0)),  # retries on one frame: one call
    ],
)
def test_a_frame_counts_one_call_of_each_pass_that_ran(before, after, calls, seconds):
    counters = PipelineCounters()
    counters.count_passes(before, after)
    assert tuple(counters.passes) == tuple(POSE_PASSES) == ("landmark", "mask")
    assert tuple(c.calls for c in counters.passes.values()) == calls
    assert tuple(c.seconds for c in counters.passes.values()) == pytest.approx(seconds)


def test_the_back_check_frames_are_counted_as_mask_calls_with_their_time(rdl_set):
    pipeline, stage = run_pipeline(rdl_set)
    landmark, mask = pipeline.counters.passes["landmark"], pipeline.counters.passes["mask"]
    reps = pipeline.counters.reps
    assert reps == len(rdl_set.reps) == 3
    assert mask.calls == stage.masked > 0  # every frame the scorer asked for, no other
    assert landmark.calls + mask.calls == len(rdl_set.t) == pipeline.counters.analysed
    assert landmark.ms_per_call() == pytest.approx(1e3 * LANDMARK_S)
    assert mask.ms_per_call() == pytest.approx(1e3 * MASK_S)
    # max_rate_hz 2: a few frames a rep (docs/back.md: 4-6), far from every frame
    seconds_a_rep = (rdl_set.t[-1] - rdl_set.t[0]) / reps
    assert 1 <= mask.calls / reps <= 2.0 * seconds_a_rep + 1
    cost = pipeline.counters.pose_cost()
    assert (cost.landmark_calls, cost.mask_calls) == (landmark.calls, mask.calls)
    assert (cost.landmark_ms, cost.mask_ms) == (20.0, 28.0)
    assert cost.mask_calls_per_rep == round(mask.calls / reps, 2)


def test_without_the_mask_model_nothing_is_masked_and_frames_without_anyone_are_no_call(
    rdl_set,
):
    track = keypoints_of(rdl_set)
    track["score"][::5] = 0.0  # nobody on every fifth frame
    stage = TimedPoseStage(ScriptedPoseEstimator(track), mask=False)
    pipeline = CameraPipeline(
        CAMERA, rdl_set.capture.fps, stage, HingeConfig(exercise="rdl"), "p1-t", MessageSink()
    )
    play_set(pipeline, rdl_set)
    cost = pipeline.counters.pose_cost()
    assert stage.masked == 0 and (cost.mask_calls, cost.mask_ms) == (0, None)
    assert cost.landmark_calls == len(rdl_set.t) - math.ceil(len(rdl_set.t) / 5)
    assert cost.landmark_ms == 20.0


def test_before_any_frame_the_figures_are_null_not_zero():
    cost = PipelineCounters().pose_cost()
    assert (cost.landmark_calls, cost.mask_calls) == (0, 0)
    assert cost.landmark_ms is cost.mask_ms is cost.mask_calls_per_rep is None


def test_the_daemon_reports_each_cameras_cost_on_status_stats_state_and_metrics(
    tmp_path: Path, rdl_set, monkeypatch
):
    """Two cameras share the models but not the figures: only the one analysed has calls."""
    stages = {
        camera: TimedPoseStage(ScriptedPoseEstimator(keypoints_of(rdl_set)))
        for camera in ("platform-1", "platform-2")
    }
    made = iter(stages.values())
    monkeypatch.setattr(app, "PoseEstimator", lambda *args, **kwargs: next(made))
    settings = AppSettings(
        cameras={camera: {"source": "rtsp://127.0.0.1:1/cam"} for camera in stages},
        mqtt={"host": "127.0.0.1"},
        spool={"path": str(tmp_path / "spool")},
        hinge={"exercise": "rdl"},
    )
    daemon = Daemon(settings)  # not started: no camera opened, no broker needed
    for camera_id in settings.cameras:
        daemon._add_camera(camera_id, ())
    pipeline = daemon._cameras[CAMERA][1]
    play_set(pipeline, rdl_set)
    landmark, mask = pipeline.counters.passes["landmark"], pipeline.counters.passes["mask"]
    assert mask.calls == stages[CAMERA].masked > 0

    stats = daemon.publish_stats()
    reader = daemon._cameras[CAMERA][0]
    for payload in (stats, daemon._camera_status(CAMERA, reader.snapshot())):
        schema = json_schema(type(payload))
        jsonschema.Draft202012Validator(schema).validate(json.loads(payload.to_json()))
        assert type(payload).from_json(payload.to_json()) == payload
    pose = stats.cameras[CAMERA].pose
    assert pose is not None and (pose.landmark_calls, pose.mask_calls) == (
        landmark.calls,
        mask.calls,
    )
    assert (pose.landmark_ms, pose.mask_ms) == (20.0, 28.0)
    assert pose.mask_calls_per_rep == round(mask.calls / 3, 2)
    idle = stats.cameras["platform-2"].pose
    assert idle is not None and (idle.landmark_calls, idle.mask_calls, idle.mask_ms) == (0, 0, None)

    counters = daemon.snapshot()["cameras"][CAMERA]["counters"]
    assert counters["passes"]["mask"] == {"calls": mask.calls, "seconds": mask.seconds}

    metrics = metric_values(daemon.metrics().decode())
    calls, seconds = (
        metrics["hinge_pose_calls_total"],
        metrics["hinge_pose_inference_seconds_total"],
    )
    for name, count in pipeline.counters.passes.items():
        key = (("camera", CAMERA), ("pass", name))
        assert calls[key] == count.calls and seconds[key] == pytest.approx(count.seconds)
        assert calls[(("camera", "platform-2"), ("pass", name))] == 0
    per_call = (
        seconds[(("camera", CAMERA), ("pass", "mask"))]
        / calls[(("camera", CAMERA), ("pass", "mask"))]
    )
    assert per_call == pytest.approx(MASK_S)


def test_a_status_without_pose_still_reads():
    """Payloads of daemons that predate the figures stay valid (the field is optional)."""
    from tests.contract.samples import CAMERA_STATUS, STATS

    old_status = {k: v for k, v in json.loads(CAMERA_STATUS.to_json()).items() if k != "pose"}
    assert CameraStatus.from_dict(old_status).pose is None
    old_stats = json.loads(STATS.to_json())
    for camera in old_stats["cameras"].values():
        camera.pop("pose", None)
    jsonschema.Draft202012Validator(json_schema(Stats)).validate(old_stats)
    assert all(c.pose is None for c in Stats.from_dict(old_stats).cameras.values())
