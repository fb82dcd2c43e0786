"""Online rep segmentation: hysteresis on the depth signal, counted at lockout.

A rep counts when the athlete gets back to the top after having been deep enough, as a
coach counts it. Two orders are handled: top -> bottom -> top (RDL, good morning, swing)
and bottom -> top for lifts that start on the floor (the first rep of a deadlift set has
no top before it). Jitter below the amplitude, movements faster than `min_rep_s` or
slower than `max_rep_s`, and anything interrupted by a long landmark gap are not reps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from edge.hinge.config import RepConfig

_TOP_LEARN_RATE = 0.05  # EMA weight of a top-phase depth sample in the standing level
_TOP_LEVEL_MAX = 0.2  # a "standing" depth above this is not standing
_LOCKOUT_LEARN_RATE = 0.3  # weight of a rep's lockout depth in the standing level
_LOCKOUT_CAP = 0.2  # the relative lockout level never lies further than this above standing
_TURN_BACK = 0.03  # depth below the deepest point that marks the way up
_STILL = 0.02  # depth within this of standing: standing tall (the start of a descent)
SETTLE_FRAMES = 2  # frames without further rise that mark lockout reached
_SETTLE_EPS = 0.002  # depth change below this is "no further rise"
_SETTLE_LEAN_DEG = 0.3  # torso change below this is "no further lean"
_SETTLE_MAX_S = 1.2  # lockout is declared at most this long after reaching the top level
_STALL_LEAN_DEG = 25.0  # a torso further forward than this is not at the top yet
_LEAN_SWING_DEG = 10.0  # a rep tilting the torso this much must bring it back up...
_LEAN_BACK_SHARE = 0.25  # ...by this share of the tilt before it can be at the top


class Phase(StrEnum):
    """Where the athlete is in a rep (published as the live phase)."""

    UNKNOWN = "unknown"
    TOP = "top"
    DESCENDING = "descending"
    ASCENDING = "ascending"
    LOCKING = "locking"  # back above the lockout level, finishing the rise
    BOTTOM = "bottom"  # started at depth (a lift from the floor), no top seen yet


@dataclass(frozen=True)
class RepBoundary:
    """Times of one counted rep (seconds, the stream's clock).

    Attributes:
        start_t_s: Last moment at the top before the descent (from_floor: first frame seen
            at depth).
        bottom_t_s: Deepest point of the rep.
        lockout_t_s: Back at the top: the moment the rep counted.
        from_floor: The rep began at depth (floor -> lockout).
        depth: Deepest depth reached, relative to the standing level.
    """

    start_t_s: float
    bottom_t_s: float
    lockout_t_s: float
    from_floor: bool
    depth: float


class RepSegmenter:
    """The rep state machine of one athlete."""

    def __init__(self, config: RepConfig) -> None:
        """Creates a segmenter in the UNKNOWN phase."""
        self.config = config
        self.top_level = config.standing_depth_norm
        self.front_view = False  # seen from the front: the shallower depth threshold
        self.reset()

    def reset(self) -> None:
        """Drops any rep in progress (athlete lost or changed)."""
        self.phase = Phase.UNKNOWN
        self._top_t = math.nan
        self._still_t = -math.inf
        self._top_since = -math.inf  # when the athlete last came to the top (or locked out)
        self._start_t = math.nan
        self._max_depth = -math.inf
        self._bottom_t = math.nan
        self._deep = False
        self._last_seen_t = math.nan
        self._from_floor = False
        self._floor_pause_s = 0.0
        self._prev_t = math.nan
        self._lock_depth = math.inf
        self._lock_lean = math.inf
        self._lock_start_t = math.nan
        self._lock_t = math.nan
        self._settled = 0
        self._tallest_depth = math.inf  # the tallest moment at the top since then
        self._tallest_t = math.nan
        self._top_lean = math.nan  # the torso's lean at the top before this rep
        self._peak_lean = math.nan  # and its furthest forward since

    @property
    def thresholds(self) -> tuple[float, float]:
        """`(lockout, depth)` levels of the depth signal for the current standing level.

        The depth level is lower seen from the front (`front_view`, which the caller
        sets): there every witness of the depth foreshortens.
        """
        amplitude = self.config.min_amplitude_norm
        if self.front_view:
            amplitude *= self.config.front_amplitude_share
        return (self.top_level + self.config.lockout_margin_norm, self.top_level + amplitude)

    def update(self, t_s: float, depth: float, lean: float = math.nan) -> RepBoundary | None:
        """Feeds one frame; returns a rep when it reaches lockout.

        Args:
            t_s: Frame time.
            depth: Smoothed depth (NaN: no landmarks this frame).
            lean: Optional torso inclination (deg); lockout waits until it stops falling
                too, so a lean back at the top is part of the rep it ends.
        """
        if math.isnan(depth):
            if (
                not math.isnan(self._last_seen_t)
                and t_s - self._last_seen_t > self.config.max_gap_s
            ):
                # Lost while finishing the rise: the athlete was seen most of the way up,
                # so the rep stands (a plate hiding the lockout is common from the side).
                return self.finish()
            return None
        self._last_seen_t = t_s
        up, down = self.thresholds
        if self.phase is Phase.UNKNOWN:
            self._enter_from_unknown(t_s, depth, up, down)
            return None
        if self.phase is Phase.TOP:
            self._at_top(t_s, depth, up)
            self._top_lean = self._peak_lean = lean
            return None
        if self.phase is Phase.LOCKING:
            return self._locking(t_s, depth, up, down, lean)
        if not math.isnan(lean) and not lean <= self._peak_lean:  # none so far, or further
            self._peak_lean = lean
        return self._in_rep(t_s, depth, up, down)

    def _enter_from_unknown(self, t_s: float, depth: float, up: float, down: float) -> None:
        if depth <= up:
            self._enter_top(t_s, depth)
        elif depth >= down:
            self.phase, self._start_t, self._deep = Phase.BOTTOM, t_s, True
            self._max_depth, self._bottom_t, self._from_floor = depth, t_s, True
            self._floor_pause_s, self._prev_t = 0.0, t_s

    def _enter_top(self, t_s: float, depth: float) -> None:
        self.phase, self._top_t, self._top_since = Phase.TOP, t_s, t_s
        self._tallest_depth, self._tallest_t = depth, t_s

    def _at_top(self, t_s: float, depth: float, up: float) -> None:
        if depth <= up:
            self._top_t = t_s
            if depth <= self._tallest_depth:
                self._tallest_depth, self._tallest_t = depth, t_s
            if depth <= self.top_level + _STILL:  # standing still: learn the standing level
                self._still_t = t_s
                level = self.top_level + _TOP_LEARN_RATE * (depth - self.top_level)
                self.top_level = min(level, _TOP_LEVEL_MAX)
            return
        self.phase = Phase.DESCENDING
        # The descent began when the athlete last stood tall, not when the depth crossed
        # the lockout level (the ease out of the top is slow); never before the last rep's
        # lockout: in a touch-and-go set the athlete may not stand that tall again, and then
        # the descent began at the tallest moment since.
        recent = max(self._top_t - self.config.max_rep_s, self._top_since)
        start = self._still_t if self._still_t >= recent else self._tallest_t
        self._start_t, self._deep, self._from_floor = start, False, False
        self._max_depth, self._bottom_t = depth, t_s

    def _in_rep(self, t_s: float, depth: float, up: float, down: float) -> RepBoundary | None:
        if self.phase is Phase.BOTTOM and depth >= self._max_depth - _TURN_BACK:
            self._floor_pause_s += t_s - self._prev_t
        self._prev_t = t_s
        if depth >= self._max_depth:  # ties: the latest, i.e. the moment the lift starts
            self._max_depth, self._bottom_t = depth, t_s
        self._deep = self._deep or depth >= down
        if self.phase is not Phase.BOTTOM:
            turned = depth < self._max_depth - _TURN_BACK
            self.phase = Phase.ASCENDING if turned else Phase.DESCENDING
        if t_s - self._start_t > self.config.max_rep_s and self.phase is not Phase.BOTTOM:
            self.reset()  # an excursion this long is something else (sitting, tying a shoe)
            return None
        if depth > self._lockout_level(up):
            return None
        if not self._deep:  # back up without having been deep: jitter or a partial, no rep
            self.phase, self._top_t = Phase.TOP, t_s
            return None
        # Back at the top: wait until the rise stops, so lockout is the real lockout
        # (full extension), a frame or two later.
        self.phase, self._lock_depth, self._lock_t, self._settled = Phase.LOCKING, depth, t_s, 0
        self._lock_start_t, self._lock_lean = t_s, math.inf
        return None

    def finish(self) -> RepBoundary | None:
        """Ends the stream: a rep caught finishing its rise counts, anything else is dropped."""
        rep = self._finish(self._lock_t) if self.phase is Phase.LOCKING else None
        self.reset()
        return rep

    def _lockout_level(self, up: float) -> float:
        """The top: near standing, or most of the way back up from this rep's bottom."""
        relative = self.config.lockout_fraction * (self._max_depth - self.top_level)
        return max(up, self.top_level + min(relative, _LOCKOUT_CAP))

    def _locking(
        self, t_s: float, depth: float, up: float, down: float, lean: float
    ) -> RepBoundary | None:
        if depth >= down and self._lock_depth > up and self._torso_down(lean):
            # Back at full depth with the torso still where it was at the bottom, having come
            # only most of the way up (never near standing): that top was a misread depth (a
            # hip or an ankle lost for a frame or two), not a lockout, and the rep goes on.
            self.phase = Phase.BOTTOM if self._from_floor else Phase.DESCENDING
            return self._in_rep(t_s, depth, up, down)
        rising = depth < self._lock_depth - _SETTLE_EPS
        leaning = not math.isnan(lean) and lean < self._lock_lean - _SETTLE_LEAN_DEG
        if rising or leaning:
            self._lock_depth = min(self._lock_depth, depth)
            self._lock_lean = lean if not math.isnan(lean) else self._lock_lean
            self._lock_t, self._settled = t_s, 0
            if t_s - self._lock_start_t < _SETTLE_MAX_S:
                return None
        self._settled += 1
        # Sinking back below the top ends the rise at once (a touch-and-go heads into the
        # next rep) unless the torso says otherwise: a plate hiding the shins from the side
        # throws the depth off near the top while the lean still falls.
        lean_still = math.isfinite(self._lock_lean) and lean <= self._lock_lean + _SETTLE_LEAN_DEG
        sinking = depth > self._lockout_level(up) and not lean_still
        if self._settled < SETTLE_FRAMES and not sinking:
            return None
        # A stall on the way up (a wobble, a balance check on one leg) is not the top: with
        # the torso still well forward, wait for the rise to go on, unless it heads down again.
        stalled = lean > _STALL_LEAN_DEG and depth > up and depth <= self._lock_depth + _TURN_BACK
        if stalled and t_s - self._lock_start_t < _SETTLE_MAX_S:
            return None
        if self._torso_down(self._lock_lean):
            self.phase = Phase.ASCENDING  # a misread depth, not the top: the rep goes on
            return None
        return self._finish(self._lock_t)

    def _torso_down(self, lean: float) -> bool:
        """The depth reads the top but the torso (`lean`) has not come back up from its tilt.

        A rep that tilted the torso (`_LEAN_SWING_DEG`) ends with the torso back up at
        least `_LEAN_BACK_SHARE` of the way: a depth that dips to the top while the torso
        stays where it was at the bottom is a misread landmark (a knee or an ankle lost
        for a moment), not a lockout. Views that hide the tilt (the front) never ask.
        """
        swing = self._peak_lean - self._top_lean
        if not swing >= _LEAN_SWING_DEG or not math.isfinite(lean):
            return False
        return lean > self._peak_lean - _LEAN_BACK_SHARE * swing

    def _finish(self, t_s: float) -> RepBoundary | None:
        from_floor = self._from_floor
        start = self._bottom_t if from_floor else self._start_t
        duration = t_s - start
        # A lift from the floor is only its concentric half so far: half the minimum.
        minimum = self.config.min_rep_s / 2 if from_floor else self.config.min_rep_s
        counted = self._deep and minimum <= duration <= self.config.max_rep_s
        # From the floor only if the start was seen (a pause at the bottom, or floor depth),
        # not a clip or a camera that picks the athlete up halfway through the lift.
        start_seen = (
            self._floor_pause_s >= self.config.floor_pause_s
            or self._max_depth - self.top_level >= self.config.floor_min_depth_norm
        )
        counted = counted and (not from_floor or start_seen)
        rep = (
            RepBoundary(
                self._start_t, self._bottom_t, t_s, from_floor, self._max_depth - self.top_level
            )
            if counted
            else None
        )
        self._enter_top(t_s, self._lock_depth)
        if rep is not None:  # the athlete's own top: some stand taller than others read
            level = self.top_level + _LOCKOUT_LEARN_RATE * (self._lock_depth - self.top_level)
            self.top_level = min(level, _TOP_LEVEL_MAX)
        return rep
