"""Reading video files frame by frame through OpenCV's FFmpeg backend."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

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
    if not path.exists():
        raise SourceError(f"video file {path} does not exist")
    if path.is_dir():
        raise SourceError(f"{path} is a directory, not a video file")
    if not path.is_file():
        raise SourceError(f"{path} is not a regular file: give a video file")
    if not os.access(path, os.R_OK):
        raise SourceError(f"video file {path} is not readable: check its permissions")


def open_video(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Opens a video file.

    Raises:
        SourceError: The path is no readable file (`check_video_path`) or OpenCV cannot
            open it as a video.
    """
    check_video_path(path)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise SourceError(f"cannot open {path} as a video (not a video, or an unknown codec)")
    fps = capture.get(cv2.CAP_PROP_FPS)
    info = VideoInfo(
        fps=fps if 1.0 <= fps <= 1000.0 else 30.0,  # some containers report 0 or 90000
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
            yield VideoFrame(index, index / info.fps, image)
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise SourceError(f"no frame could be decoded from {path}")
    if max_frames is None and info.frame_count > 0 and index < info.frame_count - 1:
        logger.warning("%s: decoding stopped at frame %d of %d", path, index, info.frame_count)
