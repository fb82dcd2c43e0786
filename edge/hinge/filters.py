"""Filters for live signals: the One Euro filter, and a running mean over time.

The One Euro filter (Casiez, Roussel, Vogel, CHI 2012) is a low-pass filter whose cutoff
rises with speed: still signals are smoothed hard (no jitter at the top of a rep), fast
ones follow with little lag (the rep event goes out on time). Time is passed in; plain
floats, because it runs once per signal per frame.
"""

from __future__ import annotations

import math


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuro:
    """One scalar signal; NaN input holds the last output and is not learned from."""

    __slots__ = ("_dx", "_t", "_x", "beta", "d_cutoff", "min_cutoff")

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float = 1.0) -> None:
        """Creates a filter with the paper's three parameters."""
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff_hz, beta, d_cutoff_hz
        self._x = math.nan
        self._dx = 0.0
        self._t = math.nan

    def reset(self) -> None:
        """Forgets the history (the next sample passes through unchanged)."""
        self._x, self._dx, self._t = math.nan, 0.0, math.nan

    def __call__(self, t_s: float, x: float) -> float:
        """Filters sample `x` taken at time `t_s`; returns the smoothed value."""
        if math.isnan(x):
            return self._x
        if math.isnan(self._x):
            self._x, self._t = x, t_s
            return x
        dt = t_s - self._t
        if dt <= 0:
            return self._x
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t_s
        return self._x


class TimeAverage:
    """A running mean over time (an exponential one, `time_constant_s`), not over frames.

    A cue averaged this way reads the same at 10 analysed fps as at 30. The first sample
    passes through; NaN input is ignored. `t_s` is the time of the last sample taken.
    """

    __slots__ = ("t_s", "time_constant_s", "value")

    def __init__(self, time_constant_s: float) -> None:
        """Creates a mean with no sample yet (`value` and `t_s` NaN)."""
        self.time_constant_s = time_constant_s
        self.value = math.nan
        self.t_s = math.nan

    def __call__(self, t_s: float, x: float) -> float:
        """Adds sample `x` taken at time `t_s`; returns the mean."""
        if math.isnan(x):
            return self.value
        if math.isnan(self.value):
            self.value = x
        else:
            weight = 1.0 - math.exp(-max(0.0, t_s - self.t_s) / self.time_constant_s)
            self.value += weight * (x - self.value)
        self.t_s = t_s
        return self.value
