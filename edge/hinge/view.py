"""The camera's view of the athlete, from how wide the shoulders and hips look."""

from __future__ import annotations

import math

from edge.hinge.config import ViewConfig

# How much a fault verdict can be trusted from each view (angles are sagittal-plane).
VIEW_CONFIDENCE = {"side_left": 1.0, "side_right": 1.0, "oblique": 0.6, "front": 0.35}


class ViewEstimator:
    """Smooths the width cue over time and labels the view.

    Width = mean of shoulder and hip width over torso length: near 0 from the side (one
    shoulder hides the other), about 0.8-1 from the front or back.
    """

    def __init__(self, config: ViewConfig) -> None:
        """Creates an estimator with no evidence yet."""
        self.config = config
        self._width = math.nan
        self._t = math.nan

    def update(self, t_s: float, width_norm: float) -> None:
        """Adds one frame's width (NaN is ignored)."""
        if math.isnan(width_norm):
            return
        if math.isnan(self._width):
            self._width, self._t = width_norm, t_s
            return
        dt = max(0.0, t_s - self._t)
        weight = 1.0 - math.exp(-dt / self.config.smoothing_s)
        self._width += weight * (width_norm - self._width)
        self._t = t_s

    def label(self, side: int) -> str:
        """`side_left`/`side_right` (which side faces the camera), `oblique` or `front`."""
        if math.isnan(self._width) or self._width >= self.config.front_min_width_norm:
            return "front"
        if self._width > self.config.side_max_width_norm:
            return "oblique"
        return "side_left" if side == 0 else "side_right"
