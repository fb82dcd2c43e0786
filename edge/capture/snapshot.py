"""What a camera reader reports: its state, a quality label, and snapshots of its counters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

FPS_WINDOW_S = 2.0
"""Frames of the last this many seconds make `fps_in`; the frame-rate rule waits as long."""


class CaptureState(StrEnum):
    """Where a camera reader stands.

    `connecting`: first opening; `online`: frames arrive; `stalled`: open but no frame for
    `stall_timeout_s` (being reopened); `offline`: cannot be opened or read, retrying (retries
    do not change the state); `ended`: a file source reached its end without `loop`;
    `stopped`: `stop()` was called (final).
    """

    CONNECTING = "connecting"
    ONLINE = "online"
    STALLED = "stalled"
    OFFLINE = "offline"
    ENDED = "ended"
    STOPPED = "stopped"


class Quality(StrEnum):
    """How usable the stream is for coaching (see `rate_quality`)."""

    GOOD = "good"
    DEGRADED = "degraded"
    POOR = "poor"
    OFFLINE = "offline"


@dataclass(frozen=True)
class CaptureSnapshot:
    """The state and counters of one camera reader at one moment.

    Attributes:
        camera_id: The camera.
        source: The source with credentials masked.
        kind: `file`, `rtsp`, `http`, `stream` or `usb`.
        state: A `CaptureState` value.
        quality: A `Quality` value (the rule is in `rate_quality`).
        since: When the state last changed, ISO 8601 UTC.
        fps_in: Frames per second delivered over the last `FPS_WINDOW_S` seconds.
        nominal_fps: The rate the source should deliver, None if unknown.
        frames_read: Frames read from the source since start (grabbed).
        frames_retrieved: Frames of those converted to an image (the others were wanted
            by no consumer: only grabbed, see `FrameSlot.wanted`).
        frames_skipped: Frames overwritten before the consumer took them.
        corrupt_frames: Reads that returned an empty or malformed image (skipped).
        reconnects: Reopenings after a failure or a stall (loops of a file not counted).
        stalls: Times the stream stopped delivering frames for `stall_timeout_s`.
        stream_epoch: Openings so far (see `Frame.stream_epoch`).
        decode_cpu_s: CPU seconds the reader thread spent reading, decoding and converting
            frames since start (FFmpeg decodes on that thread with `decode_threads: 1`).
        last_seq: Seq of the newest frame, 0 before the first.
        last_frame_age_s: Seconds since the newest frame arrived; None before the first.
        last_error: The latest error in words, credentials masked; None if none yet.
        over_budget: More reopenings than `restart_budget` within `restart_window_s`.
    """

    camera_id: str
    source: str
    kind: str
    state: CaptureState
    quality: Quality
    since: str
    fps_in: float
    nominal_fps: float | None
    frames_read: int
    frames_retrieved: int
    frames_skipped: int
    corrupt_frames: int
    reconnects: int
    stalls: int
    stream_epoch: int
    decode_cpu_s: float
    last_seq: int
    last_frame_age_s: float | None
    last_error: str | None
    over_budget: bool

    def as_dict(self) -> dict[str, Any]:
        """Returns the fields as JSON-ready values (enums as strings, floats rounded)."""
        out = dataclasses.asdict(self)
        out["state"], out["quality"] = str(self.state), str(self.quality)
        out["fps_in"] = round(self.fps_in, 2)
        out["decode_cpu_s"] = round(self.decode_cpu_s, 3)
        if self.last_frame_age_s is not None:
            out["last_frame_age_s"] = round(self.last_frame_age_s, 3)
        return out


def rate_quality(
    state: CaptureState,
    incidents: int,
    fps_in: float | None,
    nominal_fps: float | None,
) -> Quality:
    """Labels a stream's quality.

    Rule, first match wins:
    - `offline`: the state is neither `online` nor `stalled` (no frames can come).
    - `poor`: `stalled`; or 3 or more incidents (stalls + reconnects) within the last
      `restart_window_s`; or `fps_in` below 50% of the nominal rate.
    - `degraded`: 1 or 2 incidents in that window; or `fps_in` below 80% of nominal.
    - `good`: otherwise.
    The frame-rate rule applies only with a nominal rate and once the stream has been online
    for `FPS_WINDOW_S` (the caller passes `fps_in=None` before that).
    """
    if state not in (CaptureState.ONLINE, CaptureState.STALLED):
        return Quality.OFFLINE
    ratio = fps_in / nominal_fps if fps_in is not None and nominal_fps else 1.0
    if state is CaptureState.STALLED or incidents >= 3 or ratio < 0.5:
        return Quality.POOR
    if incidents >= 1 or ratio < 0.8:
        return Quality.DEGRADED
    return Quality.GOOD
