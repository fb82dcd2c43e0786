"""One camera's pipeline in-process: frames -> pose stage -> scorer -> events and state.

No model, broker or rendered clip: a generated set's landmarks are replayed by frame time
(`ScriptedPoseEstimator`), and what the pipeline hands its sink is stamped as the daemon
stamps it and checked against the MQTT contract (docs/schemas/). The daemon end to end,
over a real broker, is tests/daemon/test_contract.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from edge.capture.frame import Frame
from edge.contract import AnyEvent, CameraState, Payload, RepEvent, SetEvent
from edge.daemon.pipeline import CameraPipeline
from edge.hinge import HingeConfig
from edge.keypoints import KeypointTrack
from edge.pose.scripted import ScriptedPoseEstimator
from edge.synth.sequence import SIDE_VIEWS, Sequence, random_set
from edge.types import NUM_LANDMARKS, Poses
from tests.daemon.harness import Contract, payloads, rep_ids

CAMERA = "platform-1"


@dataclass
class MessageSink:
    """An `EventSink` that keeps what the daemon would publish, as MQTT messages."""

    messages: list[SimpleNamespace] = field(default_factory=list)

    def on_event(self, camera_id: str, event: AnyEvent, frame_ts_wall: float) -> None:
        message = event.stamped(camera_id, time.time(), frame_ts_wall)  # as the daemon does
        self._add(f"hinge/{camera_id}/{'set' if isinstance(event, SetEvent) else 'rep'}", message)

    def on_state(self, camera_id: str, state: CameraState) -> None:
        self._add(f"hinge/{camera_id}/state", state)

    def on_still(self, camera_id: str, rep: RepEvent, bottom: Any) -> None:
        raise AssertionError("stills are off")

    def _add(self, topic: str, payload: Payload) -> None:
        self.messages.append(SimpleNamespace(topic=topic, payload=payload.to_json().encode()))


def keypoints_of(seq: Sequence) -> dict[str, np.ndarray]:
    """The generated set as a keypoints file's arrays (one athlete, every frame)."""
    lens = seq.capture.lens
    track = KeypointTrack(frame_size=(lens.width_px, lens.height_px), fps=seq.capture.fps)
    k = NUM_LANDMARKS
    for t, xy, visibility, world in zip(seq.t, seq.xy, seq.visibility, seq.world, strict=True):
        poses = Poses(
            xy[None],
            np.zeros((1, k), np.float32),
            visibility[None],
            np.ones((1, k), np.float32),
            world[None],
            np.ones(1, np.float32),
            np.full((1, 4), np.nan, np.float32),
        )
        track.append(float(t), poses)
    return track.arrays()


def test_a_set_goes_through_the_pipeline_as_the_contract_says():
    seq = random_set("rdl", {}, np.random.default_rng(7), SIDE_VIEWS, reps=3)
    sink = MessageSink()
    estimator = ScriptedPoseEstimator(keypoints_of(seq))
    pipeline = CameraPipeline(
        CAMERA, seq.capture.fps, estimator, HingeConfig(exercise="rdl"), "p1-test", sink
    )
    origin = time.monotonic()  # the pipeline's clock started just before: within a frame
    image = np.zeros((seq.capture.lens.height_px, seq.capture.lens.width_px, 3), np.uint8)
    for i, t in enumerate(seq.t):
        pipeline.step(Frame(CAMERA, i + 1, image, origin + float(t), time.time(), float(t), 1))
    pipeline.close()

    Contract().check(sink.messages)
    (final,) = payloads(sink.messages, "/set")
    ids = rep_ids(sink.messages)
    assert len(ids) == len(seq.reps) == final["reps"] and set(ids.values()) == {1}
    assert sorted(ids) == sorted(final["rep_ids"]) and final["exercise"] == "rdl"
    assert [r["faults"] for r in payloads(sink.messages, "/rep")] == [[]] * len(seq.reps)
    states = payloads(sink.messages, "/state")
    assert [s["reps_in_set"] for s in states][-1] == len(seq.reps)
    assert {s["phase"] for s in states} >= {"top", "descending", "ascending", "locking"}
    assert states[0]["athlete_present"]
    counters = pipeline.counters
    assert (counters.analysed, counters.reps, counters.sets) == (len(seq.t), len(seq.reps), 1)
    assert estimator.frames == len(seq.t)
