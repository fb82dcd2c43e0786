"""Stills: the deepest frame of each rep, kept only for cameras with `images: true`.

The clip's frames go through two real camera pipelines (the scorer real, the pose stage
replaying the clip's true landmarks: no model loads), one with stills on and one with
them off, into a sink that records what it is handed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
import pytest

from edge.capture.frame import Frame
from edge.capture.video import iter_video
from edge.contract import Fault
from edge.daemon import app
from edge.daemon.app import Daemon
from edge.daemon.pipeline import CameraPipeline
from edge.daemon.stills import BottomFrame, DeepestFrame, render_still
from edge.hinge import HingeConfig
from edge.hinge.config import FaultConfig
from edge.pose.scripted import ScriptedPoseEstimator
from edge.report.draw import BACK_BGR, HIGHLIGHT_BGR
from edge.settings import AppSettings
from tests.contract.samples import REP as _A_REP
from tests.report.builders import bent_outline
from tests.web.conftest import CLIP_CAMERA, CLIP_SPEC, STRICT_SWING

FRAME_S = 1 / CLIP_CAMERA.fps


@dataclass
class Recorder:
    """An `EventSink` that keeps everything it is handed, in order."""

    log: list[tuple[str, Any]] = field(default_factory=list)

    def on_event(self, camera_id: str, event: dict[str, Any], frame_ts_wall: float) -> None:
        self.log.append(("event", event))

    def on_state(self, camera_id: str, state: dict[str, Any]) -> None:
        self.log.append(("state", state))

    def on_still(self, camera_id: str, rep: dict[str, Any], bottom: BottomFrame) -> None:
        self.log.append(("still", (rep, bottom)))

    def reps(self) -> list[dict[str, Any]]:
        return [item for kind, item in self.log if kind == "event" and item["event"] == "rep"]

    def stills(self) -> list[tuple[dict[str, Any], BottomFrame]]:
        return [item for kind, item in self.log if kind == "still"]


@pytest.fixture(scope="module")
def pipelines(swing_clip, swing_keypoints) -> dict[str, tuple[CameraPipeline, Recorder]]:
    """The clip through a pipeline with stills on and one with them off."""
    hinge = HingeConfig(exercise="swing", faults=FaultConfig(hip_knee_ratio=STRICT_SWING))
    out = {}
    for name in ("on", "off"):
        sink = Recorder()
        estimator = ScriptedPoseEstimator.from_file(swing_keypoints, swing_clip[0])
        pipeline = CameraPipeline(name, CLIP_CAMERA.fps, estimator, hinge, f"{name}-t", sink)
        if name == "on":
            pipeline.enable_stills()
        out[name] = (pipeline, sink)
    origin = time.monotonic()
    for video in iter_video(swing_clip[0]):
        for name, (pipeline, _) in out.items():
            frame = Frame(name, video.index + 1, video.image, origin + video.t_s, 0.0, video.t_s, 1)
            pipeline.step(frame)
    for pipeline, _ in out.values():
        pipeline.close()
    return out


def test_each_rep_hands_its_deepest_frame_just_before_the_rep_event(pipelines):
    pipeline, sink = pipelines["on"]
    reps, stills = sink.reps(), sink.stills()
    assert len(reps) == CLIP_SPEC.reps and len(stills) == len(reps)
    for rep, (still_rep, bottom) in zip(reps, stills, strict=True):
        assert still_rep is rep
        at = next(i for i, (kind, item) in enumerate(sink.log) if item is rep)
        assert sink.log[at - 1] == ("still", (rep, bottom))  # the picture is ready first
        assert abs(bottom.t_s - rep["t_bottom_s"]) <= 2 * FRAME_S
        assert bottom.image.shape == (CLIP_CAMERA.height_px, CLIP_CAMERA.width_px, 3)
    assert pipeline.stills_enabled


def test_without_images_nothing_is_kept_and_the_verdicts_are_the_same(pipelines):
    pipeline, sink = pipelines["off"]
    assert not pipeline.stills_enabled
    assert sink.stills() == []
    on = [(r["rep"], r["score"], r["cue"]) for r in pipelines["on"][1].reps()]
    assert [(r["rep"], r["score"], r["cue"]) for r in sink.reps()] == on


def test_the_still_shows_the_faulty_segment_in_red(pipelines):
    rep, bottom = pipelines["on"][1].stills()[-1]
    assert [f["code"] for f in rep["faults"]] == ["knee_dominant"]
    png = render_still(bottom, rep)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == bottom.image.shape
    red = np.all(image == HIGHLIGHT_BGR, axis=2)
    assert red.sum() > 20
    # The red is on the legs: between the hips and the ankles, not on the trunk.
    hips_y = bottom.xy[[23, 24], 1].mean()
    ys = np.nonzero(red)[0]
    assert ys.min() >= hips_y - 3


def test_a_wide_frame_gives_a_still_640_wide():
    image = np.zeros((720, 1280, 3), np.uint8)
    xy = np.tile(np.array([[640.0, 360.0]], np.float32), (33, 1))
    bottom = BottomFrame(0.4, 1.0, image, xy, np.ones(33, np.float32))
    png = render_still(bottom, replace(_A_REP, rep=1, score=100.0, faults=()))
    assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape == (360, 640, 3)


def test_deepest_frame_keeps_the_deepest_and_forgets_on_take():
    keeper = DeepestFrame()
    image = np.zeros((4, 4, 3), np.uint8)
    xy, vis = np.zeros((33, 2), np.float32), np.ones(33, np.float32)
    for t, depth in enumerate([0.1, 0.3, float("nan"), 0.2]):
        keeper.offer(depth, float(t), image, xy, vis)
    image[:] = 255  # the kept frame is a copy
    best = keeper.take()
    assert best is not None and (best.depth, best.t_s) == (0.3, 1.0) and best.image.max() == 0
    assert keeper.take() is None and not keeper.holding


def near(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.abs(image.astype(int) - colour).max(axis=2) < 30


def test_an_outlined_frame_is_preferred_and_its_back_drawn_red_when_rounded():
    keeper = DeepestFrame(rounded_beyond=0.05)
    image = np.zeros((200, 200, 3), np.uint8)
    xy, vis = np.full((33, 2), np.nan, np.float32), np.ones(33, np.float32)
    outline = bent_outline(0.1, y=150)  # below the caption box
    keeper.offer(0.5, 1.0, image, xy, vis)  # the deepest frame has no outline
    keeper.offer(0.4, 1.1, image, xy, vis, outline)
    keeper.offer(0.3, 1.2, image, xy, vis, bent_outline(0.2))  # outlined, but shallower
    bottom = keeper.take()
    assert bottom is not None and bottom.t_s == 1.1 and bottom.outline is outline
    assert keeper.take() is None and not keeper.holding
    rounded = replace(_A_REP, faults=(Fault("spine_flexion", 0.5, "trunk"),))
    clean = replace(_A_REP, faults=())
    for rep, reds in ((rounded, True), (clean, False)):
        still = cv2.imdecode(np.frombuffer(render_still(bottom, rep), np.uint8), cv2.IMREAD_COLOR)
        red = near(still, HIGHLIGHT_BGR)
        assert red.any() == reds
        if reds:  # on the bulge, above the chord at y = 150
            assert np.nonzero(red)[0].max() < 150
        assert near(still, BACK_BGR).any()


def test_the_daemon_keeps_stills_only_for_cameras_with_images(
    tmp_path, swing_keypoints, pipelines, monkeypatch
):
    scripted = ScriptedPoseEstimator.from_file(swing_keypoints)  # no model loads
    monkeypatch.setattr(
        app, "PoseEstimator", lambda config, zone, models, mask_model=None: scripted
    )
    settings = AppSettings(
        cameras={
            "on": {"source": "rtsp://127.0.0.1:1/cam", "images": True},
            "off": {"source": "rtsp://127.0.0.1:1/cam"},
        },
        mqtt={"host": "127.0.0.1"},
        spool={"path": str(tmp_path / "spool")},
    )
    daemon = Daemon(settings)  # not started: no camera opened, no broker needed
    for camera_id in settings.cameras:
        daemon._add_camera(camera_id, ())
    assert daemon._cameras["on"][1].stills_enabled
    assert not daemon._cameras["off"][1].stills_enabled
    rep, bottom = pipelines["on"][1].stills()[-1]
    for camera_id in settings.cameras:
        daemon.on_still(camera_id, rep, bottom)
    assert set(daemon._stills) == {"on"}
    assert daemon.still("off") is None
    assert daemon.still("on").startswith(b"\x89PNG")
