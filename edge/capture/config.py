"""The capture stage's config: how one camera is read.

`CaptureConfig` holds the capture keys of a camera (`cameras.<id>.loop`, the timeouts);
the daemon's camera entry (`edge.settings.CameraConfig`) is one, with the camera's source,
zone and analysis keys added, and goes to its `CameraReader` as it is. `ReaderTuning` holds
what the operator does not set: the reopening pace, the restart budget and the nominal
frame rate (fixed in the daemon; tests shorten them).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from edge.config_base import StrictModel


class CaptureConfig(StrictModel):
    """How one camera is read: looping of files, FFmpeg's timeouts, stall detection.

    A read that times out makes the stream `stalled` too, before `stall_timeout_s` if
    shorter (a frozen RTSP stream fails only after about 3x `read_timeout_s`, see
    `edge.capture.reader`).
    """

    loop: bool = Field(False, description="File sources: start again at the end")
    open_timeout_s: float = Field(5.0, gt=0, le=300, description="Give up opening after this")
    read_timeout_s: float = Field(2.0, gt=0, le=300, description="Give up one read after this")
    stall_timeout_s: float = Field(
        5.0, gt=0, le=3600, description="No new frame for this long: reconnect"
    )
    decode_threads: int = Field(
        1,
        ge=0,
        le=16,
        description="FFmpeg decoder threads for this camera; 1: decoded on the camera's own "
        "reader thread (the cameras share the cores, no frame of delay); 0: FFmpeg's choice "
        "(one per core, each adding a frame of delay)",
    )


class ReaderTuning(StrictModel):
    """How a reader paces its reopenings and judges its stream (not operator keys)."""

    backoff_min_s: float = Field(
        1.0, gt=0, description="First wait before reopening a failed source; doubled each time"
    )
    backoff_max_s: float = Field(
        30.0, gt=0, description="Longest wait between two attempts (the pace once over budget)"
    )
    restart_budget: int = Field(
        10,
        ge=1,
        description="At most this many reopenings within restart_window_s; past it an error is "
        "logged once and attempts go on at backoff_max_s only",
    )
    restart_window_s: float = Field(
        300.0, gt=0, description="The sliding window of the budget, and of the quality label"
    )
    nominal_fps: float | None = Field(
        None,
        gt=0,
        description="The frame rate the camera should deliver; null: the file's own rate for "
        "files, no frame-rate rule for live sources",
    )

    @model_validator(mode="after")
    def _backoff_ordered(self) -> ReaderTuning:
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("backoff_max_s must not be below backoff_min_s")
        return self
