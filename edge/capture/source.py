"""Camera source strings: what kind of source a config string names, and what OpenCV gets.

Forms (case-insensitive schemes):

| config string                       | kind     | OpenCV target            | backend    |
|-------------------------------------|----------|--------------------------|------------|
| `rtsp://[user:pass@]host[:p]/path`  | `rtsp`   | the URL                  | CAP_FFMPEG |
| `http(s)://...` (MJPEG)             | `http`   | the URL                  | CAP_FFMPEG |
| other `scheme://...` (rtmp, srt...) | `stream` | the URL                  | CAP_FFMPEG |
| `usb:N`, a bare `N`                 | `usb`    | the index N (int)        | CAP_V4L2   |
| `/dev/...` (`/dev/video0`, by-id)   | `usb`    | the device path          | CAP_V4L2   |
| anything else                       | `file`   | the path                 | CAP_FFMPEG |

Credentials never leave this module unmasked: `CaptureSource.display` is the redacted form
(`edge.redact.redact_url`) every log line, error and status uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from edge.errors import SourceError
from edge.redact import redact_url

_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_USB = re.compile(r"^usb:(?P<index>.*)$", re.IGNORECASE)


class SourceKind(StrEnum):
    """What kind of source a camera string names."""

    FILE = "file"
    RTSP = "rtsp"
    HTTP = "http"
    STREAM = "stream"
    USB = "usb"


@dataclass(frozen=True)
class CaptureSource:
    """A parsed camera source.

    Attributes:
        kind: What it is.
        target: What `cv2.VideoCapture` gets: the URL or path (str) or a V4L2 index (int).
        display: The source with credentials masked: the only form to log or publish.
    """

    kind: SourceKind
    target: str | int = field(repr=False)
    display: str

    @property
    def is_live(self) -> bool:
        """True for cameras and streams, False for video files."""
        return self.kind is not SourceKind.FILE

    def scrub(self, text: str) -> str:
        """A message with the raw source replaced by the display form, and any URL redacted."""
        raw = str(self.target)
        if raw != self.display:
            text = text.replace(raw, self.display)
        return redact_url(text)


def parse_source(text: str) -> CaptureSource:
    """Tells what a camera source string names and what OpenCV should be given.

    Args:
        text: The `source` of a camera in the configuration (see the module docstring).

    Returns:
        The kind, the OpenCV target and the redacted display form.

    Raises:
        SourceError: The string is empty, or `usb:` is not followed by a device index.
    """
    source = text.strip()
    if not source:
        raise SourceError("empty camera source: give an rtsp:// or http:// URL, usb:N or a file")
    url = _URL.match(source)
    if url is not None:
        return CaptureSource(_url_kind(url["scheme"]), source, redact_url(source, whole=True))
    usb = _USB.match(source)
    if usb is not None:
        index = usb["index"].strip()
        if not index.isdigit():
            raise SourceError(
                f"bad USB camera source {source!r}: use usb:N with N the index of /dev/videoN"
            )
        return CaptureSource(SourceKind.USB, int(index), f"usb:{int(index)}")
    if source.isdigit():
        return CaptureSource(SourceKind.USB, int(source), f"usb:{int(source)}")
    if source.startswith("/dev/"):
        return CaptureSource(SourceKind.USB, source, source)
    return CaptureSource(SourceKind.FILE, source, source)


def _url_kind(scheme: str) -> SourceKind:
    scheme = scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return SourceKind.RTSP
    if scheme in ("http", "https"):
        return SourceKind.HTTP
    return SourceKind.STREAM
