"""Writing the annotated video in a format browsers play, without slowing the replay down.

Two ways, best first:
- the `ffmpeg` program with libx264 (H.264 in MP4: plays everywhere; about 100 fps at
  640x360 on one loaded x86 core, files of ~100 kB per second of video);
- OpenCV's own FFmpeg with VP8 (WebM: plays in Chromium and Firefox; about 35 fps there,
  ~15 times larger files).
OpenCV's pip wheels offer no H.264 encoder; their VP9-in-MP4 ran at 6 fps (slower than
the pose model) and their MPEG-4 part 2 does not play in Chromium, so neither is used.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Protocol

import cv2
import numpy as np

from edge.errors import ReportError

logger = logging.getLogger(__name__)

_CRF = 26  # x264 quality: a debug video, faces and lines still sharp at 640 px
_CLOSE_TIMEOUT_S = 120.0  # ffmpeg finishing the file after the last frame


class VideoSink(Protocol):
    """Frames in, a video file out."""

    path: Path
    codec: str

    def write(self, image: np.ndarray) -> None:
        """Appends one (H, W, 3) uint8 BGR frame of the sink's size."""

    def close(self) -> None:
        """Finishes the file."""


@functools.cache
def _ffmpeg_with_x264() -> str | None:
    """The `ffmpeg` program's path if it has the libx264 encoder, else None."""
    program = shutil.which("ffmpeg")
    if program is None:
        return None
    try:
        listing = subprocess.run(
            [program, "-hide_banner", "-encoders"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return program if " libx264 " in listing else None


class FfmpegSink:
    """H.264 in MP4 through an `ffmpeg` process reading raw frames on its stdin."""

    codec = "h264"

    def __init__(self, program: str, path: Path, fps: float, size: tuple[int, int]) -> None:
        """Starts ffmpeg writing `path` at `fps` frames per second, `size` = (width, height)."""
        self.path = path
        self._log = tempfile.TemporaryFile()  # ffmpeg's messages (a pipe could fill and block)
        command = [program, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"]
        command += ["-pix_fmt", "bgr24", "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}"]
        command += ["-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(_CRF)]
        command += ["-pix_fmt", "yuv420p", "-movflags", "+faststart", "-threads", "1", str(path)]
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=self._log)
        except OSError as err:
            raise ReportError(f"cannot start {program} to write {path}: {err}") from err
        self._stdin: IO[bytes] = self._process.stdin  # type: ignore[assignment]  # PIPE: set

    def write(self, image: np.ndarray) -> None:
        """Sends one frame to ffmpeg."""
        try:
            self._stdin.write(np.ascontiguousarray(image).tobytes())
        except BrokenPipeError as err:
            raise ReportError(f"ffmpeg stopped writing {self.path}: {self._messages()}") from err

    def close(self) -> None:
        """Lets ffmpeg finish the file; raises ReportError if it failed."""
        try:
            self._stdin.close()
        except BrokenPipeError:
            pass  # it already quit: its exit code says why
        try:
            code = self._process.wait(_CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired as err:
            self._process.kill()
            raise ReportError(f"ffmpeg did not finish {self.path} in time") from err
        if code != 0:
            raise ReportError(f"ffmpeg failed to write {self.path}: {self._messages()}")
        self._log.close()

    def _messages(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip()
        return text[-500:] or "no message (is the folder writable?)"


class OpenCvSink:
    """VP8 in WebM through OpenCV's FFmpeg backend."""

    codec = "vp8"

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        """Opens `path` for writing at `fps` frames per second, `size` = (width, height)."""
        self.path = path
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"VP80"), fps, size)
        if not self._writer.isOpened():
            raise ReportError(f"cannot write a video to {path} (folder not writable?)")

    def write(self, image: np.ndarray) -> None:
        """Appends one frame."""
        self._writer.write(image)

    def close(self) -> None:
        """Finishes the file."""
        self._writer.release()


def open_sink(stem: Path, fps: float, size: tuple[int, int], use_ffmpeg: bool = True) -> VideoSink:
    """Opens the best writer available: `STEM.mp4` via ffmpeg, else `STEM.webm`.

    Args:
        stem: Output path without suffix.
        fps: Frames per second.
        size: (width, height), even numbers.
        use_ffmpeg: Try the `ffmpeg` program first.

    Raises:
        ReportError: Neither can write there.
    """
    program = _ffmpeg_with_x264() if use_ffmpeg else None
    if program is not None:
        return FfmpegSink(program, stem.with_suffix(".mp4"), fps, size)
    if use_ffmpeg:
        logger.info("no ffmpeg with libx264 on PATH: writing the annotated video as VP8/WebM")
    return OpenCvSink(stem.with_suffix(".webm"), fps, size)
