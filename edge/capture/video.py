"""Reading video files frame by frame: replay's path into the daemon's capture code.

A file is opened by the same `open_capture` a camera's reader uses (FFmpeg, its
timeouts, its file checks and messages), and every frame passes the same `check_image`,
so a capture bug shows in replay-based tests too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.capture.config import CaptureConfig
from edge.capture.opener import check_file, check_image, open_capture
from edge.capture.source import CaptureSource, SourceKind
from edge.errors import SourceError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame.

    Attributes:
        index: 0-based frame number in the file.
        t_s: Seconds from the start of the clip (frame index / fps).
        image: (H, W, 3) uint8 BGR.
    """

    index: int
    t_s: float
    image: np.ndarray


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video file."""

    fps: float
    frame_count: int
    width: int
    height: int


def check_video_path(path: Path) -> None:
    """Checks that `path` is a readable file, before anything is asked of OpenCV.

    Raises:
        SourceError: It does not exist, is a directory (or another non-file), or cannot
            be read; the message says which.
    """
    check_file(path)


def open_video(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Opens a video file as a camera's reader opens a file source.

    Raises:
        SourceError: The path is no readable file (`check_video_path`) or OpenCV cannot
            open it as a video.
    """
    source = CaptureSource(SourceKind.FILE, str(path), str(path))
    capture, fps = open_capture(source, CaptureConfig())
    info = VideoInfo(
        fps=fps or 30.0,  # some containers report 0 or 90000
        frame_count=int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )
    return capture, info


def probe_video(path: Path) -> VideoInfo:
    """Opens a video file and decodes its first frame, then closes it (a cheap check).

    Raises:
        SourceError: The path is no readable file, not a video, or no frame decodes.
    """
    capture, info = open_video(path)
    try:
        ok, _ = capture.read()
    finally:
        capture.release()
    if not ok:
        raise SourceError(f"no frame could be decoded from {path}")
    return info


def iter_video(path: Path, max_frames: int | None = None) -> Iterator[VideoFrame]:
    """Yields the frames of a video file in order.

    A file that ends early (truncated, or a corrupt frame the decoder cannot skip) ends the
    iteration with a warning naming where it stopped; frames already yielded stand.

    Raises:
        SourceError: The file cannot be opened or holds no decodable frame.
    """
    capture, info = open_video(path)
    index = 0
    try:
        while max_frames is None or index < max_frames:
            ok, image = capture.read()
            if not ok:
                break
            problem = check_image(image)
            if problem is None:
                yield VideoFrame(index, index / info.fps, image)
            else:  # skipped as a camera's reader skips it; its time slot stays empty
                logger.warning("%s: frame %d skipped: %s", path, index, problem)
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise SourceError(f"no frame could be decoded from {path}")
    if max_frames is None and info.frame_count > 0 and index < info.frame_count - 1:
        logger.warning("%s: decoding stopped at frame %d of %d", path, index, info.frame_count)
