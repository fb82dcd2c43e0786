"""The frame a camera reader hands over, and the one-slot buffer it waits in."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One frame from a camera.

    Attributes:
        camera_id: The camera it came from.
        seq: 1, 2, 3... per reader, over every reopening; never reused.
        image: (H, W, 3) uint8 BGR.
        ts_mono: `time.monotonic()` when the frame arrived (for a file: when it was due).
        ts_wall: `time.time()` at the same moment (for event payloads only).
        stream_s: Seconds into the stream: the position in a file, or since the stream
            was opened for a live source. Restarts at 0 when `stream_epoch` changes.
        stream_epoch: 1 for the first opening, +1 on every reopening or loop of a file:
            a change tells the consumer the stream restarted (reset trackers, rep state).
    """

    camera_id: str
    seq: int
    image: np.ndarray
    ts_mono: float
    ts_wall: float
    stream_s: float
    stream_epoch: int


class FrameSlot:
    """Keeps only the newest frame; counts frames overwritten before anyone took them.

    It also tells the reader which frames are worth converting to an image (`wanted`):
    every frame until the consumer says when it wants the next one (`want`); from then on
    only the first frame at or after that time, and, while the consumer is late, a newer
    one whenever the frame waiting is older than `max_age_s`. Taking a frame clears the
    time: none is wanted until the consumer gives the next one (a frame converted while it
    works on the last one would be stale by the time it comes back). The others are only grabbed
    (decoded by FFmpeg, never converted to BGR nor copied).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._taken = True
        self._skipped = 0
        self._want_at: float | None = None  # None: every frame is wanted
        self._max_age_s = 0.0

    def want(self, at_mono: float, max_age_s: float) -> None:
        """The consumer's next frame: the first at or after `at_mono` (monotonic time).

        Args:
            at_mono: When the consumer will next take a frame.
            max_age_s: While a frame waits untaken past `at_mono`, replace it once older
                than this (the consumer is late: it should still get a recent frame).
        """
        with self._lock:
            self._want_at, self._max_age_s = at_mono, max_age_s

    def wanted(self, now: float) -> bool:
        """True when a frame arriving at `now` should be converted and put here."""
        with self._lock:
            if self._want_at is None:
                return True
            if now < self._want_at:
                return False
            if self._taken or self._frame is None:
                return True
            return now - self._frame.ts_mono >= self._max_age_s

    def put(self, frame: Frame) -> None:
        """Replaces the held frame (an untaken one is counted as skipped)."""
        with self._lock:
            if not self._taken:
                self._skipped += 1
            self._frame, self._taken = frame, False

    def take(self, after_seq: int) -> Frame | None:
        """Returns the held frame if its seq is above `after_seq` and marks it taken."""
        with self._lock:
            frame = self._frame
            if frame is None or frame.seq <= after_seq:
                return None
            self._taken = True
            if self._want_at is not None:  # nothing more until the consumer says when
                self._want_at = math.inf
            return frame

    def stats(self) -> tuple[int, int]:
        """Returns (frames skipped so far, seq of the newest frame or 0)."""
        with self._lock:
            return self._skipped, self._frame.seq if self._frame is not None else 0
