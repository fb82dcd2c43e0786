"""`HingeScorer`: one athlete's landmarks in, rep, rep-update and set events out, online."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from edge.contract import AnyEvent, LoweringMetrics, RepEvent, RepMetrics, RepUpdate
from edge.hinge import faults
from edge.hinge.config import HingeConfig
from edge.hinge.events import fault_list, set_summary, withheld_list
from edge.hinge.exercise import ExerciseVote, RepFeatures, rep_features
from edge.hinge.judge import angle_faults, confidence, judge
from edge.hinge.layout import Layout, layout_for
from edge.hinge.reps import Phase, RepBoundary, RepSegmenter
from edge.hinge.signals import BackShape, FrameSignals, SignalExtractor
from edge.hinge.view import ViewEstimator
from edge.hinge.window import Baseline, RepWindow, nan_reduce, pause_seconds, rep_metrics

_KEEP_AT_TOP_S = 1.0  # history kept while standing: enough for the next descent's start
_FLOOR_RETURN = 0.7  # a set from the floor returns this deep (share of its first rep's depth)
_LIFT_OFF = 0.05  # within this share of the rep's depth of the deepest point: still down
_STANDING = 0.02  # depth within this of the standing level: standing tall
_LOCKED_S = 0.1  # the frames this close to lockout show the athlete's top position
_MIN_TORSO_SWING = 15.0  # deg: a side-view rep tilts the torso at least this much...
_MIN_KNEE_SWING = 30.0  # ...or bends the knees this much
_MAX_LOCKOUT_TORSO = 40.0  # deg: at lockout the torso is near upright, whatever the lifter
_LOWERED_S = 0.2  # the bar rests at the bottom this long before the lowering is judged
_FLOAT_WAIT_S = 0.6  # a swing's bell may float up this long after its hips locked out
# A set that began at the bottom is still one from the top when this many reps in a row do
# not go back down to the floor: its first lift was a pick-up (a lowering misread as reps
# gives one or two).
_FROM_THE_TOP_REPS = 3
# Lifts that begin standing: a set of them is never a set of lifts from the floor, however
# its first rep was first seen (a clip or a camera that picks the athlete up at the bottom).
_FROM_THE_TOP = ("swing", "single_leg_rdl", "good_morning")


class HingeScorer:
    """Scores one athlete's hinge reps from a stream of landmarks.

    Pure: no clock is read (times are passed in), no I/O. Feed every frame to `update`,
    with `None` when the athlete is not seen; call `close` at the end of a stream.
    """

    def __init__(
        self,
        config: HingeConfig | None = None,
        session_id: str = "replay",
        layout: Layout = "blazepose33",
    ) -> None:
        """Creates a scorer.

        Args:
            config: Thresholds; the defaults follow docs/hinge.md.
            session_id: Prefix of every event id (make it unique per camera and run).
            layout: `blazepose33` or `coco17` landmarks.
        """
        self.config = config or HingeConfig()
        self.session_id = session_id
        self._signals = SignalExtractor(self.config.signals, layout, self.config.view)
        self._reps = RepSegmenter(self.config.reps)
        self._view = ViewEstimator(self.config.view)
        self._exercise = ExerciseVote(self.config.exercise, self.config.classify)
        self._baseline = Baseline()
        self._standing = faults.StandingReference()
        self._frames: list[FrameSignals] = []
        self._set_no = 0
        self._set: list[RepEvent] = []  # as revised by their lowering (rep_update)
        self._set_start_t = math.nan
        self._floor_mode = False
        self._floor_depth = 0.0
        # In a set from the floor, the reps since the last that went back down to it, when
        # each was known complete and its frames (the buffer keeps a second at the top):
        # dropped when the next rep goes back to the floor, counted once
        # `_FROM_THE_TOP_REPS` in a row have not (`_leave_floor`).
        self._shallow: list[tuple[RepBoundary, float, RepWindow]] = []
        self._last_rep_t = math.nan
        self._last_seen_t = math.nan
        # A swing whose arms had not risen by lockout, and when it reached it: counted once
        # the bell floats up (`_FLOAT_WAIT_S`), dropped as a park if it does not.
        self._pending: tuple[RepBoundary, float] | None = None
        self._now = math.nan
        self.last_side = 0
        self._last_frame: FrameSignals | None = None  # for `signals`, never read here
        self._last_back_t = -math.inf  # when the mask model was last asked for (the rate)

    # ----------------------------------------------------------------- per frame
    def update(
        self,
        t_s: float,
        xy: np.ndarray | None,
        visibility: np.ndarray | None,
        world: np.ndarray | None = None,
        back: BackShape | None = None,
    ) -> list[AnyEvent]:
        """Feeds one frame.

        Args:
            t_s: Frame time in seconds (increasing).
            xy: (K, 2) landmark pixels (K = 33 or 17), or None when nobody is seen.
            visibility: (K,) in [0, 1], or None.
            world: Optional (K, 3) 3-D landmarks in metres (BlazePose's world output): joint
                angles that do not depend on where the camera stands.
            back: The back's outline on this frame, where the mask model saw it (the
                frames `wants_back` asked for).

        Returns:
            Events completed on this frame (usually none): `rep`, `rep_update`, `set`.
        """
        events: list[AnyEvent] = []
        depth = lean = math.nan
        self._last_frame = None
        self._now = t_s
        if xy is not None and visibility is not None:
            frame = self._last_frame = self._signals.update(
                t_s,
                xy.tolist(),
                visibility.tolist(),
                None if world is None or np.isnan(world).all() else world.tolist(),
            )
            if frame.jumped:  # someone else, or a cut: nothing in progress carries over
                finished = self._reps.finish()  # a rep caught finishing its rise stands
                events += self._on_rep(finished) if finished is not None else []
                events += self._end_set(t_s, "athlete_changed") if self._set else []
                self._frames = []
            if back is not None:
                frame.back_bulge, frame.back_arch = back.bulge, back.arch
                frame.back_bulge_upper, frame.back_bulge_lower = back.bulge_upper, back.bulge_lower
            depth, lean = frame.depth, frame.torso_deg
            if not math.isnan(depth):
                self._seen(t_s, frame)
        if math.isnan(depth) and t_s - self._last_seen_t > self.config.reps.max_gap_s:
            self._signals.reset()  # the next person seen starts afresh
        events += self._settle_pending(final=False)
        boundary = self._reps.update(t_s, depth, lean)
        if boundary is not None:
            events += self._on_rep(boundary)
        events += self._check_set_end(t_s)
        if self._reps.phase in (Phase.TOP, Phase.UNKNOWN):
            keep = t_s - _KEEP_AT_TOP_S
            if self._pending is not None:
                keep = min(keep, self._pending[0].start_t_s)
            self._frames = [f for f in self._frames if f.t_s >= keep]
        return events

    def close(self, t_s: float) -> list[AnyEvent]:
        """Ends the stream: a rep caught finishing its rise counts; the set is summarised."""
        boundary = self._reps.finish()
        events = self._on_rep(boundary) if boundary is not None else []
        return events + (self._end_set(t_s, "end_of_stream") if self._set else [])

    def wants_back(self, t_s: float) -> bool:
        """Whether the frame at `t_s` should be seen by the mask model (the back check).

        Deep in a rep (the rounded back shows at the bottom) and at its top (the arch),
        judged from the frames so far, at most `back.max_rate_hz` of them a second: a few
        frames a rep, where a mask on every frame would double the pose stage's cost.
        Asking counts, whether or not the outline could then be read (a frame the mask
        model saw but rejected must not make it ask on every frame): call it once a frame.
        """
        back = self.config.back
        frame = self._last_frame
        if not back.enabled or frame is None or math.isnan(frame.depth):
            return False
        if t_s - self._last_back_t < 1.0 / back.max_rate_hz:
            return False
        phase = self._reps.phase
        _, deep = self._reps.thresholds
        in_rep = phase in (Phase.DESCENDING, Phase.ASCENDING, Phase.BOTTOM)
        wanted = (in_rep and frame.depth >= deep) or phase is Phase.LOCKING
        if wanted:
            self._last_back_t = t_s
        return wanted

    @property
    def signals(self) -> FrameSignals | None:
        """The last frame's measured signals (smoothed angles, depth), None if nobody was seen.

        A copy, for traces and reports: changing it changes nothing in the scorer.
        """
        return None if self._last_frame is None else replace(self._last_frame)

    @property
    def exercise_evidence(self) -> tuple[list[RepFeatures], bool]:
        """The current (or just ended) set's rep features and floor start, for tuning tools."""
        return self._exercise.evidence

    @property
    def state(self) -> dict[str, Any]:
        """Live state: phase, reps in the current set, athlete present, exercise, view."""
        return {
            "phase": self._reps.phase.value,
            "reps": len(self._set),
            "set": self._set_no if self._set else None,
            "exercise": self._exercise.current,
            "view": self._view.label(self.last_side),
        }

    def _seen(self, t_s: float, frame: FrameSignals) -> None:
        self._last_seen_t = t_s
        self.last_side = frame.side
        self._frames.append(frame)
        self._view.update(t_s, frame.width_norm)
        self._reps.front_view = self._view.front
        if self._reps.phase is Phase.TOP and frame.depth <= self._reps.top_level + _STANDING:
            self._baseline.update(frame)  # standing tall and still: the athlete's baseline

    # ----------------------------------------------------------------- reps
    def _on_rep(self, rep: RepBoundary) -> list[AnyEvent]:
        events = self._settle_pending(final=True)
        rep = self._exact_bottom(rep, lift_off=rep.from_floor)
        if not self._plausible(rep) or self._cut_at_the_bottom(rep):
            return events
        if self._parked(rep, rep.lockout_t_s):
            self._pending = (rep, self._now)
            return events
        return events + self._count(rep, self._now)

    def _settle_pending(self, final: bool) -> list[AnyEvent]:
        """The swing waiting for its bell to float: counted once it does, dropped if not.

        `final`: decide now, on the frames so far (another rep came, or the set ended).
        """
        if self._pending is None:
            return []
        rep, reached = self._pending
        if not self._parked(rep, self._now):
            self._pending = None
            return self._count(rep, reached)
        if final or self._now - rep.lockout_t_s > _FLOAT_WAIT_S:
            self._pending = None  # the park, or a pause: no swing
        return []

    def _count(
        self, rep: RepBoundary, until: float, window: RepWindow | None = None
    ) -> list[AnyEvent]:
        """Counts a rep judged on the frames up to `until` (when it was known complete).

        `window`: the rep's frames, where they were kept aside (else from the buffer).
        """
        events: list[AnyEvent] = []
        shallow, self._shallow = self._shallow, []
        if not self._set:
            self._start_set(rep)
        elif self._floor_set and rep.depth < _FLOOR_RETURN * self._floor_depth:
            # A lift from the floor goes back down to it, and this one did not: held, until
            # the reps have kept coming from the top long enough to make it no floor set.
            if len(shallow) + 1 < _FROM_THE_TOP_REPS:
                self._shallow = [*shallow, (rep, until, self._window(rep.start_t_s, until))]
                return events
            self._leave_floor()
            for earlier in shallow:
                events += self._count(*earlier)
        elif self._floor_set and not rep.from_floor:
            # A set of lifts from the floor: the lowering before this lift belongs to the
            # previous rep (a rep counts floor -> lockout, the way down completes it).
            events.append(self._lowering(rep.start_t_s, rep.bottom_t_s))
            floor = replace(rep, from_floor=True)
            rep = replace(self._exact_bottom(floor, lift_off=True), start_t_s=self._arrival(rep))
        if window is None:
            window = self._window(rep.start_t_s, until)
        events.append(self._rep_event(window, rep))
        self._last_rep_t = rep.lockout_t_s
        self._frames = [f for f in self._frames if f.t_s >= rep.lockout_t_s]
        return events

    def _leave_floor(self) -> None:
        """The set's reps come from the top, not the floor.

        Its first lift was a pick-up (a swing's hike, the first pull of a set of RDLs), or
        its floor depth a misread. The reps counted from the floor stay as they were sent
        (no `rep_update` lowering follows the last of them); the exercise is voted again
        without the floor start.
        """
        self._floor_mode = False
        self._exercise.leave_floor()

    @property
    def _floor_set(self) -> bool:
        """A set of lifts from the floor: it began at the bottom, and is none that begins standing.

        As far as the set's exercise is known (`_FROM_THE_TOP`).
        """
        return self._floor_mode and self._exercise.current not in _FROM_THE_TOP

    def _window(self, t0: float, t1: float = math.inf) -> RepWindow:
        """The buffered frames from `t0` to `t1`, as arrays."""
        return RepWindow([f for f in self._frames if t0 <= f.t_s <= t1])

    def _plausible(self, rep: RepBoundary) -> bool:
        """From the side a rep must show the body folding and standing tall again.

        The depth signal alone can be fooled when the torso is hidden (plates in front of
        it) and the landmarks drift; a real hinge or squat moves the torso or the knees,
        and ends with the torso near upright. Front and oblique views cannot tell (the
        fold is foreshortened, and where front ends and oblique begins varies with the
        body), so they pass.
        """
        if not self._view.label(self.last_side).startswith("side"):
            return True
        window = self._window(rep.start_t_s, rep.lockout_t_s)
        torso, knee = window["torso_deg"], window["knee_deg"]
        moved = (
            nan_reduce(np.nanmax, torso) - nan_reduce(np.nanmin, torso) >= _MIN_TORSO_SWING
            or nan_reduce(np.nanmax, knee) - nan_reduce(np.nanmin, knee) >= _MIN_KNEE_SWING
        )
        upright = window.at("torso_deg", rep.lockout_t_s) <= _MAX_LOCKOUT_TORSO
        return bool(moved and upright)

    @staticmethod
    def _cut_at_the_bottom(rep: RepBoundary) -> bool:
        """A rep from the top with no rise at all: its deepest point at its very end."""
        return not rep.from_floor and rep.bottom_t_s >= rep.lockout_t_s

    def _parked(self, rep: RepBoundary, until: float) -> bool:
        """In a set of swings, a rep whose arms did not rise at the top (by `until`) is no swing.

        It is the park (the bell set down and the athlete standing up without it) or a
        pause: a swing counts when the bell floats up. Seen from a low camera in front, the
        hips lock out before the bell floats: `_settle_pending` asks again until then.
        """
        if self._exercise.current != "swing" or not self._set or self._exercise.fixed:
            return False
        # Its own top: the rise to lockout and on, not the float of the swing before, where
        # a touch-and-go rep's descent begins.
        features = rep_features(self._window(rep.bottom_t_s, until), rep)
        c = self.config.classify
        return features.arm_up_peak > c.swing_arm_top_cos and not (
            features.wrists_up_top >= c.swing_wrists_top_norm
        )

    def _exact_bottom(self, rep: RepBoundary, lift_off: bool = False) -> RepBoundary:
        """Times the bottom on the unsmoothed signal (the filter lags by a frame or two).

        The deepest moment, or for a lift from the floor the lift-off: the last moment
        still at depth before the rise.
        """
        window = self._window(rep.start_t_s, rep.lockout_t_s)
        raw = window["depth_raw"]
        if not len(window) or np.all(np.isnan(raw)):
            return rep
        if not lift_off:
            return replace(rep, bottom_t_s=float(window["t_s"][int(np.nanargmax(raw))]))
        deep = np.flatnonzero(raw >= np.nanmax(raw) - _LIFT_OFF * max(rep.depth, 1e-6))
        return replace(rep, bottom_t_s=float(window["t_s"][deep[-1]]))

    def _arrival(self, rep: RepBoundary) -> float:
        """When the hips got lowest on the way down: the start of a lift from the floor.

        Not the depth signal's deepest point: hips shooting up first tip the torso further
        forward and move that later, into the lift being judged.
        """
        window = self._window(rep.start_t_s, rep.lockout_t_s)
        hips = window["hip_height_norm"]
        if not len(window) or np.all(np.isnan(hips)):
            return rep.bottom_t_s
        return float(window["t_s"][int(np.nanargmin(hips))])

    def _start_set(self, rep: RepBoundary) -> None:
        self._set_no += 1
        self._shallow = []
        self._exercise.reset(floor_set=rep.from_floor)
        self._standing.reset()
        self._floor_mode = rep.from_floor
        self._floor_depth = rep.depth
        self._set_start_t = rep.bottom_t_s if rep.from_floor else rep.start_t_s

    def _rep_event(self, window: RepWindow, rep: RepBoundary) -> RepEvent:
        top = window.between(rep.lockout_t_s - _LOCKED_S, rep.lockout_t_s)
        base = self._baseline.filled_from(top)
        needed = self.config.back.min_frames
        metrics = rep_metrics(window, rep, base) | {
            "back_rounding": faults.back_rounding(window, needed),
            "lumbar_arch": faults.lumbar_arch(window, rep),  # a metric: one frame will do
        }
        exercise = self._exercise.add(rep_features(window, rep))
        view = self._view.label(_majority_side(window))
        standing = self._standing.add(window, base, rep.lockout_t_s)
        side = view.startswith("side")
        severities = angle_faults(
            window, rep, base, exercise, self.config.faults, needed, standing, side
        )
        if not rep.from_floor:
            severities["rushed_eccentric"] = faults.rushed_eccentric(
                metrics["eccentric_s"], exercise, self.config.faults
            )
        verdict = judge(severities, exercise, view, self.config.faults)
        number = len(self._set) + 1
        payload = RepEvent(
            id=f"{self.session_id}-{self._set_no}-{number}",
            set_id=f"{self.session_id}-{self._set_no}",
            rep=number,
            exercise=exercise,
            exercise_source=self._exercise.source,
            exercise_confidence=1.0 if self._exercise.fixed else self._exercise.confidence,
            score=verdict.score,
            cue=verdict.cue,
            view=view,
            confidence=confidence(window, view),
            faults=fault_list(verdict.faults, self.config.faults.cues),
            withheld=withheld_list(verdict.withheld),
            metrics=RepMetrics(**metrics),
            from_floor=rep.from_floor,
            t_start_s=rep.start_t_s,
            t_bottom_s=rep.bottom_t_s,
            t_lockout_s=rep.lockout_t_s,
        )
        # A later rep_update revises the set's record of it (score, faults, tempo) for the
        # set summary, never the event already sent (events are frozen).
        self._set.append(payload)
        return payload

    def _lowering(self, t_top: float, t_bottom: float) -> RepUpdate:
        """The follow-up of a rep from the floor: its way down, once it is over."""
        previous = self._set[-1]
        window = self._window(t_top, t_bottom)
        eccentric = t_bottom - t_top
        boundary = RepBoundary(t_top, t_bottom, t_bottom, False, previous.metrics.depth_norm)
        severity = faults.rushed_eccentric(eccentric, previous.exercise, self.config.faults)
        fresh = judge(
            {"rushed_eccentric": severity},
            previous.exercise,
            previous.view,
            self.config.faults,
        )
        added = fault_list(fresh.faults, self.config.faults.cues)
        weights = self.config.faults.weights
        lost = sum(weights.get(code, 0) * sev for code, sev in fresh.faults.items())
        score = previous.score
        if score is not None:
            score = round(max(0.0, score - lost), 1)
        self._set[-1] = replace(
            previous,
            score=score,
            faults=previous.faults + added,
            metrics=replace(previous.metrics, eccentric_s=round(eccentric, 3)),
        )
        return RepUpdate(
            id=f"{previous.id}-lowering",
            rep_id=previous.id,
            set_id=previous.set_id,
            rep=previous.rep,
            score=score,
            faults=added,
            metrics=LoweringMetrics(eccentric, pause_seconds(window, boundary)),
            t_start_s=t_top,
            t_bottom_s=t_bottom,
        )

    # ----------------------------------------------------------------- sets
    def _check_set_end(self, t_s: float) -> list[AnyEvent]:
        if not self._set:
            return []
        sets = self.config.sets
        if t_s - self._last_seen_t > sets.absent_s:
            return self._end_set(t_s, "absent")
        idle = self._reps.phase in (Phase.TOP, Phase.UNKNOWN)
        if idle and t_s - self._last_rep_t > sets.idle_s:
            return self._end_set(t_s, "idle")
        return []

    def _end_set(self, t_s: float, reason: str) -> list[AnyEvent]:
        events = self._settle_pending(final=True)
        self._shallow = []  # the set's last excursions, short of the floor: not reps
        lowered = self._final_lowering()
        if lowered is not None:
            events.append(self._lowering(*lowered))
        events.append(
            set_summary(
                f"{self.session_id}-{self._set_no}",
                self._set,
                reason,
                (self._set_start_t, min(t_s, self._last_seen_t)),
            )
        )
        self._set = []
        return events

    def _final_lowering(self) -> tuple[float, float] | None:
        """After the last lift of a floor set: when the bar went down (top, bottom)."""
        if not self._floor_set or not self._frames:
            return None
        window = RepWindow(self._frames)
        depth = window["depth"]
        deepest = nan_reduce(np.nanmax, depth)
        if (
            math.isnan(deepest)
            or deepest - self._reps.top_level < self.config.reps.min_amplitude_norm
        ):
            return None
        bottom = float(window["t_s"][int(np.nanargmax(depth))])
        if self._last_seen_t - bottom < _LOWERED_S:
            return None  # still going down when the stream ended: no lowering to judge
        up, _ = self._reps.thresholds
        tops = window["t_s"][(depth <= up) & (window["t_s"] <= bottom)]
        top = float(tops[-1]) if tops.size else float(window["t_s"][0])
        return (top, bottom) if bottom > top else None  # deepest at the top: no way down


def _majority_side(window: RepWindow) -> int:
    sides = window["side"]
    return int(np.nanmean(sides) > 0.5) if len(window) else 0


def score_track(  # noqa: PLR0913 - a recorded track: its arrays, the optional ones too
    t: np.ndarray,
    xy: np.ndarray,
    visibility: np.ndarray,
    config: HingeConfig | None = None,
    session_id: str = "replay",
    world: np.ndarray | None = None,
    back: np.ndarray | None = None,
) -> list[AnyEvent]:
    """Scores a whole recorded track: (F,) times, (F, K, 2) pixels, (F, K) visibility.

    `world`, if given, holds (F, K, 3) 3-D landmarks; `back`, (F, 4) back outlines (bulge,
    its upper and lower halves, arch; NaN rows where the mask model did not run). Frames
    whose landmarks are all NaN count as "nobody seen". Returns every event.
    """
    scorer = HingeScorer(config, session_id, layout_for(xy.shape[1]))
    events: list[AnyEvent] = []
    for i in range(len(t)):
        seen = not np.all(np.isnan(xy[i]))
        shape = None
        if back is not None and not np.isnan(back[i, 0]):
            shape = BackShape(*(float(v) for v in back[i]))
        events += scorer.update(
            float(t[i]),
            xy[i] if seen else None,
            visibility[i] if seen else None,
            world[i] if seen and world is not None else None,
            back=shape,
        )
    return events + scorer.close(float(t[-1]) if len(t) else 0.0)
