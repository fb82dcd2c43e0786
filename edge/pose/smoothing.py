"""One-Euro filtering of the tracking ROI's alignment points, as MediaPipe's pose graph does.

MediaPipe 0.10.14 (`PoseLandmarkFiltering`, compiled into the wheel) always smooths the two
auxiliary landmarks that place the next frame's ROI, whatever `smooth_landmarks` says:
One-Euro with min_cutoff 0.01, beta 10, derivate_cutoff 1, velocities divided by the
object scale (the alignment box side, 2 x the distance between the two points), at the
30 fps its Python API stamps frames with. A still athlete then keeps a steady crop, and a
noisy frame cannot throw the next crop off the body.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

AUX_MIN_CUTOFF = 0.01
AUX_BETA = 10.0
AUX_DERIVATE_CUTOFF = 1.0
FRAME_RATE = 30.0


class OneEuroFilter:
    """A One-Euro filter over an array of coordinates (every element filtered separately)."""

    def __init__(
        self,
        frequency: float = FRAME_RATE,
        min_cutoff: float = AUX_MIN_CUTOFF,
        beta: float = AUX_BETA,
        derivate_cutoff: float = AUX_DERIVATE_CUTOFF,
    ) -> None:
        """Creates a filter; the defaults are MediaPipe's for the pose ROI points."""
        self.frequency = frequency
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self.reset()

    def reset(self) -> None:
        """Forgets the history (the next value passes through unchanged)."""
        self._raw: np.ndarray | None = None
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def _alpha(self, cutoff: float | np.ndarray) -> float | np.ndarray:
        tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
        return 1.0 / (1.0 + tau * self.frequency)

    def apply(self, values: np.ndarray, scale: float = 1.0) -> npt.NDArray[np.float32]:
        """Filters one sample.

        Args:
            values: The new raw sample (any shape, fixed between calls).
            scale: Object size in the values' units; speeds are measured in sizes per second.

        Returns:
            The filtered sample, float32, same shape.
        """
        values = np.asarray(values, np.float64)
        if self._value is None or self._raw is None or self._speed is None:
            self._value, self._speed = values.copy(), np.zeros_like(values)
        else:
            speed = (values - self._raw) / max(scale, 1e-6) * self.frequency
            a = self._alpha(self.derivate_cutoff)
            self._speed = a * speed + (1.0 - a) * self._speed
            a = self._alpha(self.min_cutoff + self.beta * np.abs(self._speed))
            self._value = a * values + (1.0 - a) * self._value
        self._raw = values
        return self._value.astype(np.float32)
