"""Frame sources: cameras (RTSP, HTTP MJPEG, USB) and video files.

`CameraReader` reads one source in its own thread, keeps only the newest frame, reconnects
with backoff and reports its state (`CaptureSnapshot`); `edge.capture.video` reads a file
frame by frame for replays.
"""

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.frame import Frame
from edge.capture.reader import CameraReader
from edge.capture.snapshot import CaptureSnapshot, CaptureState, Quality
from edge.capture.source import CaptureSource, SourceKind, parse_source

__all__ = [
    "CameraReader",
    "CaptureConfig",
    "CaptureSnapshot",
    "CaptureSource",
    "CaptureState",
    "Frame",
    "Quality",
    "ReaderTuning",
    "SourceKind",
    "parse_source",
]
