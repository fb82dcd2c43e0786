"""Opening a source with the right OpenCV backend, and checking what a read returned."""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from edge.capture.config import CaptureConfig
from edge.capture.source import CaptureSource, SourceKind
from edge.errors import SourceError


def open_capture(source: CaptureSource, config: CaptureConfig) -> tuple[cv2.VideoCapture, float]:
    """Opens a source: FFmpeg with open/read timeouts for files and streams, V4L2 for USB.

    The timeouts only take effect when passed at open time (setting them afterwards does
    nothing). V4L2 takes no timeout: a USB read blocks up to OpenCV's select timeout
    (10 s unless the environment variable OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT says otherwise).

    Returns:
        The opened capture, and the frame rate it reports (0.0 if none or implausible).

    Raises:
        SourceError: It cannot be opened; the message says why where that can be told.
    """
    if source.kind is SourceKind.FILE:
        check_file(Path(str(source.target)), ": check the camera's source path")
    try:
        capture = _create(source, config)
    except cv2.error as err:
        raise SourceError(source.scrub(f"OpenCV cannot open {source.display}: {err}")) from err
    if not capture.isOpened():
        capture.release()
        raise SourceError(_open_failure(source, config))
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, fps if math.isfinite(fps) and 1.0 <= fps <= 240.0 else 0.0


def _create(source: CaptureSource, config: CaptureConfig) -> cv2.VideoCapture:
    if source.kind is SourceKind.USB:
        return cv2.VideoCapture(source.target, cv2.CAP_V4L2)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        round(config.open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        round(config.read_timeout_s * 1000),
    ]
    if config.decode_threads > 0:
        params += [cv2.CAP_PROP_N_THREADS, config.decode_threads]
    return cv2.VideoCapture(str(source.target), cv2.CAP_FFMPEG, params)


def check_file(path: Path, hint: str = "") -> None:
    """Checks that a file source is a readable file, before anything is asked of OpenCV.

    Args:
        path: The file.
        hint: Appended to a missing file's message (what to check, in the caller's terms).

    Raises:
        SourceError: It does not exist, is a directory (or another non-file), or cannot
            be read; the message says which.
    """
    if not path.exists():
        raise SourceError(f"video file {path} does not exist{hint}")
    if path.is_dir():
        raise SourceError(f"{path} is a directory, not a video file")
    if not path.is_file():
        raise SourceError(f"{path} is not a regular file: give a video file")
    if not os.access(path, os.R_OK):
        raise SourceError(f"video file {path} is not readable: check its permissions")


def _open_failure(source: CaptureSource, config: CaptureConfig) -> str:
    if source.kind is SourceKind.FILE:
        return f"cannot open {source.display} as a video (not a video, or an unknown codec)"
    if source.kind is SourceKind.USB:
        return (
            f"cannot open USB camera {source.display} (V4L2): is it plugged in, "
            "is the index right, and may this user open /dev/video*?"
        )
    return (
        f"cannot open {source.display} within {config.open_timeout_s:g} s: camera "
        "unreachable, wrong path or port, or wrong credentials"
    )


def check_image(image: object) -> str | None:
    """Tells what is wrong with an image a read returned, or None if it is a usable frame.

    A usable frame is a non-empty (H, W, 3) uint8 array.
    """
    if not isinstance(image, np.ndarray):
        return f"read returned {type(image).__name__} instead of an image"
    if image.dtype != np.uint8:
        return f"image has dtype {image.dtype}, expected uint8"
    if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
        return f"image has shape {image.shape}, expected (H, W, 3) with H, W > 0"
    return None
