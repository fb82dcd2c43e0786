"""The frame a camera reader hands over, and the one-slot buffer it waits in."""

from __future__ import annotations

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
    """Keeps only the newest frame; counts frames overwritten before anyone took them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._taken = True
        self._skipped = 0

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
            return frame

    def stats(self) -> tuple[int, int]:
        """Returns (frames skipped so far, seq of the newest frame or 0)."""
        with self._lock:
            return self._skipped, self._frame.seq if self._frame is not None else 0
