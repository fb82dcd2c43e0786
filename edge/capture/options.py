"""How a camera is read: timeouts, reconnection pacing, looping of files."""

from __future__ import annotations

from dataclasses import dataclass

from edge.errors import ConfigError


@dataclass(frozen=True)
class CaptureOptions:
    """Options of one `CameraReader`.

    Attributes:
        loop: File sources only: start again at the end (else the state becomes `ended`).
        open_timeout_s: Give up opening a stream after this (passed to FFmpeg at open time).
        read_timeout_s: Give up one blocked read after this (FFmpeg; a frozen RTSP stream
            fails only after about 3x this, see `edge.capture.reader`). A read that times
            out makes the stream `stalled` too, before `stall_timeout_s` if shorter.
        stall_timeout_s: No fresh frame for this long: the stream is `stalled` and reopened.
        backoff_min_s: First wait before reopening a failed source; doubled on each failure.
        backoff_max_s: Longest wait between two attempts (also the pace once over budget).
        restart_budget: At most this many reopenings within `restart_window_s`; past it an
            error is logged once and attempts go on at `backoff_max_s` only.
        restart_window_s: The sliding window of the budget, and of the quality label.
        nominal_fps: The frame rate the camera should deliver; None: the file's own rate for
            files, no frame-rate rule for live sources.
    """

    loop: bool = False
    open_timeout_s: float = 5.0
    read_timeout_s: float = 2.0
    stall_timeout_s: float = 5.0
    backoff_min_s: float = 1.0
    backoff_max_s: float = 30.0
    restart_budget: int = 10
    restart_window_s: float = 300.0
    nominal_fps: float | None = None

    def __post_init__(self) -> None:
        positive = (
            "open_timeout_s",
            "read_timeout_s",
            "stall_timeout_s",
            "backoff_min_s",
            "restart_window_s",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigError(f"capture option {name} must be > 0, got {getattr(self, name)}")
        if self.backoff_max_s < self.backoff_min_s:
            raise ConfigError(
                f"capture option backoff_max_s ({self.backoff_max_s}) must be >= "
                f"backoff_min_s ({self.backoff_min_s})"
            )
        if self.restart_budget < 1:
            raise ConfigError(
                f"capture option restart_budget must be >= 1, got {self.restart_budget}"
            )
        if self.nominal_fps is not None and not self.nominal_fps > 0:
            raise ConfigError(f"capture option nominal_fps must be > 0, got {self.nominal_fps}")
