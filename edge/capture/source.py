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
every log line and status uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from edge.errors import SourceError

MASK = "***"
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_USB = re.compile(r"^usb:(?P<index>.*)$", re.IGNORECASE)
# Query parameters some cameras take credentials in (`...?user=admin&password=x`).
_SECRET_QUERY = re.compile(
    r"([?&;](?:password|passwd|pass|pwd|passphrase|token|key|secret|auth|api_key|apikey)=)[^&;#]*",
    re.IGNORECASE,
)
_MASKED_VALUE = rf"\g<1>{MASK}"


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
        """Replaces the raw source (with its credentials) by the display form in a message."""
        raw = str(self.target)
        return text.replace(raw, self.display) if raw != self.display else text


def redact_url(url: str) -> str:
    """Masks credentials in a source string.

    The password of the userinfo (`rtsp://user:pass@host/x` -> `rtsp://user:***@host/x`;
    everything up to the last `@` counts as userinfo, so a raw `@` or `/` in a password is
    masked too) and the values of credential-like query parameters (`password`, `pwd`,
    `token`, `key`...). Strings that are not URLs come back unchanged.
    """
    match = _URL.match(url)
    if match is None:
        return url
    userinfo, rest = _split_userinfo(match["rest"])
    if userinfo is not None:
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}:{MASK}@{rest}" if colon else f"{userinfo}@{rest}"
    return f"{match['scheme']}://" + _SECRET_QUERY.sub(_MASKED_VALUE, rest)


def url_password(url: str) -> str | None:
    """The password in a URL's userinfo as written (percent-escapes kept), or None."""
    match = _URL.match(url)
    userinfo = _split_userinfo(match["rest"])[0] if match is not None else None
    if userinfo is None or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2] or None


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """(userinfo, the rest) of what follows `scheme://`: everything up to the last `@`."""
    at = rest.rfind("@")
    return (rest[:at], rest[at + 1 :]) if at >= 0 else (None, rest)


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
        return CaptureSource(_url_kind(url["scheme"]), source, redact_url(source))
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
