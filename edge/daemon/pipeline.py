"""One camera's analysis: frame -> pose -> hinge scorer -> events and live state.

A `CameraPipeline` owns the camera's pose tracker (sharing the loaded models with the
other cameras) and its scorer. The scheduler hands it the newest frame when the camera
is due (`analysis_fps`); it never queues frames. It reports what it produced to an
`EventSink`: rep and set events, and the live state when that changed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from edge.capture.frame import Frame
from edge.contract import AnyEvent, CameraState, LastRep, PoseCost, RepEvent, SetEvent, iso
from edge.daemon.stills import BottomFrame, DeepestFrame
from edge.hinge import HingeConfig, HingeScorer
from edge.pose import PoseStage
from edge.pose.back import BackOutline, pose_and_back
from edge.types import Poses

logger = logging.getLogger(__name__)

PRESENT_S = 1.0
"""The athlete counts as present while a pose was found within this many seconds."""
_FPS_WINDOW_S = 5.0
STAGES = ("pose", "scoring", "publish")
"""The pipeline's stages whose CPU seconds `PipelineCounters.cpu_s` adds up (the worker
thread's own CPU time: onnxruntime runs a session on the calling thread with threads: 1)."""
POSE_PASSES = {"landmark": "landmark_inference", "mask": "mask_inference"}
"""The pose model's passes whose calls and time `PipelineCounters.passes` counts, each with
the key of `PoseEstimator.seconds` its inference time goes to (the mask pass: the back
check's model, run in place of the landmark pass on the frames the scorer chooses)."""
# The segmenter's phases as the state contract names them (docs/mqtt.md): its `bottom`
# ("started at depth") is a bar on the floor; `unknown` (seen, neither standing nor deep
# yet, e.g. just after a camera reconnects mid-rep) is shown as `top`, which the scorer
# also treats it as (between reps), and is not a phase the contract has.
_PHASES = {"bottom": "floor", "unknown": "top"}


class EventSink(Protocol):
    """Where a pipeline's output goes (the daemon: MQTT, the web page, the log)."""

    def on_event(self, camera_id: str, event: AnyEvent, frame_ts_wall: float) -> None:
        """A rep, rep_update or set event (the engine's, not yet stamped)."""

    def on_state(self, camera_id: str, state: CameraState) -> None:
        """The camera's live state changed (the `<prefix>/<camera>/state` payload)."""

    def on_still(self, camera_id: str, rep: RepEvent, bottom: BottomFrame) -> None:
        """A rep's deepest frame, just before its rep event (cameras with stills only)."""


@dataclass
class PassCount:
    """One pose model pass on one camera: frames it ran on, and its inference seconds."""

    calls: int = 0
    seconds: float = 0.0

    def ms_per_call(self) -> float | None:
        """Mean inference time of a call, ms; None before the first."""
        return 1e3 * self.seconds / self.calls if self.calls else None


def inference_seconds(estimator: PoseStage) -> tuple[float, ...]:
    """The estimator's cumulative inference seconds of each of `POSE_PASSES`, in order.

    Zeros for a pose stage that keeps no timings (a scripted one's stay at zero too).
    """
    seconds: Mapping[str, float] = getattr(estimator, "seconds", {})
    return tuple(float(seconds.get(key, 0.0)) for key in POSE_PASSES.values())


@dataclass
class PipelineCounters:
    """Counters of one camera's analysis (read by the stats and the health page)."""

    analysed: int = 0
    skipped: int = 0
    reps: int = 0
    sets: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=512))
    cpu_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    passes: dict[str, PassCount] = field(
        default_factory=lambda: {name: PassCount() for name in POSE_PASSES}
    )

    def fps(self, now: float) -> float:
        """Frames analysed per second over the last few seconds."""
        while self.recent and self.recent[0] < now - _FPS_WINDOW_S:
            self.recent.popleft()
        return len(self.recent) / _FPS_WINDOW_S

    def count_passes(self, before: tuple[float, ...], after: tuple[float, ...]) -> None:
        """Adds one frame's passes: `inference_seconds` before and after its pose stage.

        A pass whose seconds grew ran on the frame (one call, however many crops it
        tried); the estimator is this camera's, so every second is this camera's.
        """
        for count, t0, t1 in zip(self.passes.values(), before, after, strict=True):
            if t1 > t0:
                count.seconds += t1 - t0
                count.calls += 1

    def pose_cost(self) -> PoseCost:
        """The passes as the camera's status and the stats report them."""
        landmark, mask = self.passes["landmark"], self.passes["mask"]
        return PoseCost(
            landmark_calls=landmark.calls,
            landmark_ms=landmark.ms_per_call(),
            mask_calls=mask.calls,
            mask_ms=mask.ms_per_call(),
            mask_calls_per_rep=mask.calls / self.reps if self.reps else None,
        )


class CameraPipeline:
    """Pose + scoring for one camera; `step` is called by one scheduler worker at a time."""

    def __init__(
        self,
        camera_id: str,
        analysis_fps: float,
        estimator: PoseStage,
        hinge: HingeConfig,
        session_id: str,
        sink: EventSink,
    ) -> None:
        """Creates the pipeline.

        Args:
            camera_id: The camera's id (topic level and event prefix).
            analysis_fps: Analyse at most this many frames per second.
            estimator: This camera's pose tracker (models shared; a `PoseStage`).
            hinge: The scorer's configuration for this camera.
            session_id: Prefix of event ids, unique per camera and daemon run.
            sink: Receives events and state changes.
        """
        self.camera_id = camera_id
        self.period_s = 1.0 / analysis_fps
        self.lock = threading.Lock()
        self.last_seq = 0
        self.next_due = 0.0
        self.counters = PipelineCounters()
        self._estimator = estimator
        self._scorer = HingeScorer(hinge, session_id=session_id)
        self._sink = sink
        self._origin = time.monotonic()
        self._epoch = 0
        self._last_frame_mono = math.nan
        self._last_pose_t = -math.inf
        self._last_t = 0.0
        self._last_rep: LastRep | None = None
        self._state: CameraState | None = None
        self._deepest: DeepestFrame | None = None  # stills are off unless switched on

    def enable_stills(self) -> None:
        """Keeps each rep's deepest frame for `EventSink.on_still` (`images: true` only)."""
        self._deepest = DeepestFrame(self._scorer.config.faults.back_rounding_margin)

    @property
    def stills_enabled(self) -> bool:
        """True when this pipeline keeps frames for stills."""
        return self._deepest is not None

    # ----------------------------------------------------------- scheduling
    def due(self, now: float) -> bool:
        """True when the camera may be analysed again."""
        return now >= self.next_due

    def _advance(self, now: float) -> None:
        self.next_due += self.period_s
        if self.next_due < now - self.period_s:  # fell behind: do not burst to catch up
            self.next_due = now

    # ----------------------------------------------------------- analysis
    def step(self, frame: Frame) -> None:
        """Analyses one frame (the newest the camera had)."""
        now = time.monotonic()
        self._advance(now)
        self._count_skipped(frame)
        if frame.stream_epoch != self._epoch:  # a new stream: the tracker starts afresh
            self._epoch = frame.stream_epoch
            self._estimator.reset()
            if self._deepest is not None:
                self._deepest.clear()
        t_s = max(frame.ts_mono - self._origin, self._last_t)
        cpu0, inference0 = time.thread_time(), inference_seconds(self._estimator)
        poses, back = pose_and_back(self._estimator, self._scorer, frame.image, t_s)
        cpu1 = time.thread_time()
        self.counters.count_passes(inference0, inference_seconds(self._estimator))
        self._last_t = t_s
        seen = len(poses) > 0
        if seen:
            self._last_pose_t = t_s
        events = self._scorer.update(
            t_s,
            poses.xy[0] if seen else None,
            poses.visibility[0] if seen else None,
            poses.world[0] if seen else None,
            back=None if back is None else back.shape,
        )
        if self._deepest is not None and seen:
            self._offer_bottom(t_s, frame, poses, back)
        cpu2 = time.thread_time()
        self.counters.analysed += 1
        self.counters.recent.append(now)
        self.last_seq = frame.seq
        self._emit(events, frame.ts_wall)
        self._publish_state(frame.ts_wall)
        cpu = self.counters.cpu_s
        cpu["pose"] += cpu1 - cpu0
        cpu["scoring"] += cpu2 - cpu1
        cpu["publish"] += time.thread_time() - cpu2

    def _count_skipped(self, frame: Frame) -> None:
        """Analysis slots missed since the last analysed frame (the box fell behind)."""
        if frame.stream_epoch == self._epoch and not math.isnan(self._last_frame_mono):
            gap = frame.ts_mono - self._last_frame_mono
            self.counters.skipped += max(0, round(gap / self.period_s) - 1)
        self._last_frame_mono = frame.ts_mono

    def _offer_bottom(
        self, t_s: float, frame: Frame, poses: Poses, back: BackOutline | None
    ) -> None:
        signals = self._scorer.signals
        if signals is not None and self._deepest is not None:
            xy, visibility = poses.xy[0], poses.visibility[0]
            self._deepest.offer(signals.depth, t_s, frame.image, xy, visibility, back)

    def idle(self) -> None:
        """Called when no frame came for a while: lets a set end while the camera is down."""
        with self.lock:
            t_s = max(time.monotonic() - self._origin, self._last_t)
            self._last_t = t_s
            self._emit(self._scorer.update(t_s, None, None), time.time())
            self._publish_state(time.time())

    def close(self) -> None:
        """Ends the stream (shutdown): a rep in progress and the open set are emitted."""
        with self.lock:
            t_s = max(time.monotonic() - self._origin, self._last_t)
            self._emit(self._scorer.close(t_s), time.time())

    def _emit(self, events: list[AnyEvent], ts_wall: float) -> None:
        for event in events:
            if isinstance(event, RepEvent):
                self.counters.reps += 1
                self._last_rep = LastRep(event.rep, event.score, event.cue)
                self._hand_still(event)
            elif isinstance(event, SetEvent):
                self.counters.sets += 1
                if self._deepest is not None:
                    self._deepest.clear()
            self._sink.on_event(self.camera_id, event, ts_wall)

    def _hand_still(self, rep: RepEvent) -> None:
        """Gives the rep's deepest frame to the sink before the rep event (stills on only)."""
        bottom = self._deepest.take() if self._deepest is not None else None
        if bottom is not None:
            self._sink.on_still(self.camera_id, rep, bottom)

    # ----------------------------------------------------------- live state
    def state(self, ts_wall: float) -> CameraState:
        """The `<prefix>/<camera>/state` payload, as of wall-clock time `ts_wall`."""
        live = self._scorer.state
        present = self._last_t - self._last_pose_t <= PRESENT_S
        set_no = live["set"]
        return CameraState(
            camera=self.camera_id,
            athlete_present=present,
            phase=_PHASES.get(live["phase"], live["phase"]) if present else "absent",
            exercise=live["exercise"],
            set_id=f"{self._scorer.session_id}-{set_no}" if set_no is not None else None,
            reps_in_set=live["reps"],
            last_rep=self._last_rep if set_no is not None else None,
            ts=iso(ts_wall),
        )

    def _publish_state(self, ts_wall: float) -> None:
        state = self.state(ts_wall)
        if self._state is None or replace(state, ts=self._state.ts) != self._state:
            self._state = state  # published on a change of anything but the time
            self._sink.on_state(self.camera_id, state)
