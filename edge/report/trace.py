"""What the scorer measured on every frame of a replay, recorded for the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edge.capture.video import VideoFrame
from edge.contract import AnyEvent
from edge.hinge import HingeScorer
from edge.hinge.config import FaultConfig
from edge.pose.back import BackOutline
from edge.types import NUM_LANDMARKS, Poses

TRACE_FIELDS = ("depth", "torso_deg", "hip_deg", "knee_deg", "shin_deg", "head_ext_deg")
"""`FrameSignals` fields kept per frame (smoothed, as the scorer used them)."""


@dataclass
class Trace:
    """One replay, frame by frame.

    Attributes:
        t_s: (F,) frame times, seconds from the clip start.
        signals: Field name (`TRACE_FIELDS`) -> (F,) values, NaN where not measured.
        phase: (F,) the rep segmenter's phase after each frame (`top`, `down`, ...).
        xy: (F, 33, 2) landmark pixels of the athlete, NaN where nobody was seen.
        visibility: (F, 33) in [0, 1], 0 where nobody was seen.
        emitted_at: Event id -> index of the frame on which the event was emitted.
        outlines: Frame index -> the back's outline, on the frames the back check read
            one (docs/back.md); empty without the back check.
        rounded_beyond: The engine's `faults.back_rounding_margin`: a rounded rep's
            outline is drawn red where it lies further than this behind its chord.
    """

    t_s: np.ndarray
    signals: dict[str, np.ndarray]
    phase: list[str]
    xy: np.ndarray
    visibility: np.ndarray
    emitted_at: dict[str, int] = field(default_factory=dict)
    outlines: dict[int, BackOutline] = field(default_factory=dict)
    rounded_beyond: float = FaultConfig().back_rounding_margin

    def __len__(self) -> int:
        return len(self.t_s)

    def frame_at(self, t_s: float) -> int:
        """Index of the frame nearest `t_s`."""
        return int(np.argmin(np.abs(self.t_s - t_s)))

    def outlined_near(self, t_s: float, within_s: float) -> int | None:
        """Index of the frame nearest `t_s` with a back outline, if one is within `within_s`."""
        if not self.outlines:
            return None
        indices = np.fromiter(self.outlines, np.int64)
        gaps = np.abs(self.t_s[indices] - t_s)
        best = int(np.argmin(gaps))
        return int(indices[best]) if gaps[best] <= within_s else None


class TraceRecorder:
    """A `replay(on_frame=...)` callback that records the scorer's view of each frame.

    It reads the scorer after its update on the same frame, so the traces come from the
    very run that produced the events.
    """

    def __init__(self, scorer: HingeScorer) -> None:
        """Records what `scorer` (the one given to `replay`) measures."""
        self._scorer = scorer
        self._t: list[float] = []
        self._values: dict[str, list[float]] = {name: [] for name in TRACE_FIELDS}
        self._phase: list[str] = []
        self._xy: list[np.ndarray] = []
        self._vis: list[np.ndarray] = []
        self._emitted: dict[str, int] = {}

    def __call__(self, frame: VideoFrame, poses: Poses, events: list[AnyEvent]) -> None:
        """Records one frame (the signature of `edge.replay.FrameCallback`)."""
        index = len(self._t)
        self._t.append(frame.t_s)
        signals = self._scorer.signals
        for name, values in self._values.items():
            values.append(np.nan if signals is None else float(getattr(signals, name)))
        self._phase.append(str(self._scorer.state["phase"]))
        if len(poses):
            self._xy.append(poses.xy[0].copy())
            self._vis.append(poses.visibility[0].copy())
        else:
            self._xy.append(np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
            self._vis.append(np.zeros(NUM_LANDMARKS, np.float32))
        self._emitted.update({event.id: index for event in events})

    def trace(
        self, events: Sequence[AnyEvent] = (), outlines: Sequence[BackOutline | None] = ()
    ) -> Trace:
        """The recording so far.

        Args:
            events: Every event of the replay; those not seen frame by frame (the end of
                the stream's, from `scorer.close`) count as emitted on the last frame.
            outlines: The replay's back outlines, one per frame (`ReplayResult.outlines`).
        """
        emitted = dict(self._emitted)
        last = max(len(self._t) - 1, 0)
        emitted.update({e.id: last for e in events if e.id not in emitted})
        return Trace(
            t_s=np.asarray(self._t, np.float64),
            signals={name: np.asarray(v, np.float64) for name, v in self._values.items()},
            phase=list(self._phase),
            xy=np.asarray(self._xy, np.float32).reshape(-1, NUM_LANDMARKS, 2),
            visibility=np.asarray(self._vis, np.float32).reshape(-1, NUM_LANDMARKS),
            emitted_at=emitted,
            outlines={i: o for i, o in enumerate(outlines) if o is not None},
            rounded_beyond=self._scorer.config.faults.back_rounding_margin,
        )
