"""Progress lines for long passes over a video (replay, report rendering)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

_STEP_PCT = 5.0  # one line per 5% of the frames: 20 lines for a whole clip
_EVERY_FRAMES = 300  # when the frame count is unknown: one line per 300 frames
_MIN_FRAMES = 30  # never more often: a short clip needs no running commentary


class Progress:
    """Logs `clip.mp4: frame 45 of 450 (10%), 14.2 fps, about 28 s left` now and then.

    A line is logged each time the work crosses another `step_pct` of `total` frames
    (every 300 frames when the total is unknown; never more often than every 30), and at
    the last frame, through the logging system (stderr in the command line). Counting
    frames, not seconds, keeps the output reproducible.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        step_pct: float = _STEP_PCT,
        log: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Starts the count.

        Args:
            label: What is being processed (a file name), first on every line.
            total: Frames expected; None or 0 when the container does not say.
            step_pct: Percent of `total` between two lines.
            log: Logger to write to (default: this module's).
            clock: Seconds source for the rate (monotonic).
        """
        self.label = label
        self.total = total if total and total > 0 else None
        step = round(self.total * step_pct / 100) if self.total else _EVERY_FRAMES
        self.every = max(step, _MIN_FRAMES)
        self._log = log or logger
        self._clock = clock
        self._start = clock()
        self.lines = 0

    def tick(self, done: int) -> None:
        """Reports that `done` frames are finished (call once per frame, in order)."""
        if done % self.every and done != self.total:
            return
        rate = done / max(self._clock() - self._start, 1e-9)
        self.lines += 1
        if self.total is None:
            self._log.info("%s: frame %d, %.1f fps", self.label, done, rate)
            return
        left_s = (self.total - done) / max(rate, 1e-9)
        self._log.info(
            "%s: frame %d of %d (%d%%), %.1f fps, about %.0f s left",
            self.label,
            done,
            self.total,
            round(100 * done / self.total),
            rate,
            left_s,
        )
