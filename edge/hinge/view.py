"""The camera's view of the athlete, from how wide the shoulders and hips look."""

from __future__ import annotations

import math

from edge.hinge.config import ViewConfig
from edge.hinge.filters import TimeAverage

# How much a fault verdict can be trusted from each view (angles are sagittal-plane).
VIEW_CONFIDENCE = {"side_left": 1.0, "side_right": 1.0, "oblique": 0.6, "front": 0.35}


class ViewEstimator:
    """Smooths the width cue over time and labels the view, with a dead band.

    Width = mean of shoulder and hip width over torso length: near 0 from the side (one
    shoulder hides the other), about 0.8-1 from the front or back. A camera does not
    move during a set, so the label is held until the smoothed width passes a boundary
    by `ViewConfig.band_norm`: an athlete standing at a boundary keeps one view for the
    set instead of switching the verdicts that depend on it from rep to rep.
    """

    def __init__(self, config: ViewConfig) -> None:
        """Creates an estimator with no evidence yet."""
        self.config = config
        self._width = TimeAverage(config.smoothing_s)
        self._kind = "front"  # side, oblique or front; front until evidence comes
        self._first_t = math.nan  # the first width seen

    def update(self, t_s: float, width_norm: float) -> None:
        """Adds one frame's width (NaN is ignored)."""
        if math.isnan(width_norm):
            return
        first = math.isnan(self._width.value)
        if first:
            self._first_t = t_s
        width = self._width(t_s, width_norm)
        self._kind = self._classify(width, band=0.0 if first else self.config.band_norm)

    def _classify(self, width: float, band: float) -> str:
        """The view a width reads as, holding the current one within `band` of a boundary."""
        side, front = self.config.side_max_width_norm, self.config.front_min_width_norm
        # Each boundary moves away from the current view by the band: leaving it takes
        # the width past the boundary by that much, coming back likewise.
        side_edge = side + band if self._kind == "side" else side - band
        front_edge = front - band if self._kind == "front" else front + band
        if width >= front_edge:
            return "front"
        return "oblique" if width > side_edge else "side"

    @property
    def front(self) -> bool:
        """Seen from the front, on a width averaged over its whole time constant at least.

        Not the label's default before any evidence, nor a first glimpse of a width.
        """
        settled = self._width.t_s - self._first_t >= self.config.smoothing_s
        return settled and self._kind == "front"

    def label(self, side: int) -> str:
        """`side_left`/`side_right` (which side faces the camera), `oblique` or `front`."""
        if math.isnan(self._width.value) or self._kind != "side":
            return "front" if math.isnan(self._width.value) else self._kind
        return "side_left" if side == 0 else "side_right"
