"""Pacing: a file played at its own rate, backoff between reopenings, a restart budget."""

from __future__ import annotations

import threading
import time
from collections import deque


class Backoff:
    """Waits that double from `min_s` up to `max_s`; `reset()` after a good session."""

    def __init__(self, min_s: float, max_s: float) -> None:
        self._min_s, self._max_s = min_s, max_s
        self._next_s = min_s

    def next_delay(self) -> float:
        """Returns the wait before the next attempt and doubles the one after."""
        delay = self._next_s
        self._next_s = min(self._max_s, self._next_s * 2)
        return delay

    def reset(self) -> None:
        """Starts again from `min_s`."""
        self._next_s = self._min_s


class RestartBudget:
    """At most `budget` restarts within a sliding `window_s` (Frigate's "restarting too fast")."""

    def __init__(self, budget: int, window_s: float) -> None:
        self._budget, self._window_s = budget, window_s
        self._times: deque[float] = deque()

    def record(self, now: float) -> None:
        """Notes one restart at monotonic time `now`."""
        self._times.append(now)
        self._forget(now)

    def count(self, now: float) -> int:
        """Restarts within the window ending at `now`."""
        self._forget(now)
        return len(self._times)

    def exceeded(self, now: float) -> bool:
        """True while more than `budget` restarts fall within the window."""
        return self.count(now) > self._budget

    def _forget(self, now: float) -> None:
        while self._times and self._times[0] <= now - self._window_s:
            self._times.popleft()


CATCH_UP_S = 0.5
"""A file falling this far behind its own clock (a busy CPU) restarts its pacing there."""


class FilePacer:
    """Holds frames of a file until they are due on the wall clock (playback at its own rate)."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._anchor: tuple[float, float] | None = None  # (monotonic, stream seconds)

    def wait(self, stream_s: float) -> None:
        """Returns when the frame at `stream_s` is due (at once for the first, or if stopped)."""
        now = time.monotonic()
        if self._anchor is None:
            self._anchor = (now, stream_s)
            return
        due = self._anchor[0] + stream_s - self._anchor[1]
        if due > now:
            self._stop.wait(due - now)
        elif now - due > CATCH_UP_S:
            self._anchor = (now, stream_s)
