"""The report's pictures: key frames (PNG) and the annotated video, in one pass over the clip.

The clip is decoded a second time rather than held in memory during the replay: at 720 p
a rep's frames would take hundreds of megabytes, and decoding costs far less than the
pose model did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from edge.capture.video import iter_video, open_video
from edge.contract import AnyEvent, RepEvent, RepUpdate, SetEvent
from edge.errors import ReportError
from edge.report.draw import draw_back, draw_caption, draw_skeleton, segments_for
from edge.report.progress import Progress
from edge.report.rows import RepRow
from edge.report.trace import Trace
from edge.report.video import open_sink

VIDEO_STEM = "annotated"  # .mp4 (H.264, via ffmpeg) or .webm (VP8, via OpenCV)
KEYFRAME_DIR = "keyframes"
_MAX_VIDEO_WIDTH = 640  # enough to see the skeleton; keeps encoding faster than the replay
_HIGHLIGHT_S = 2.0  # after a rep is counted its faulty segments stay red this long
_OUTLINE_NEAR_S = 0.4  # a key frame moves this far to a frame the back check read
_GOOD = (120, 230, 120)
_BAD = (90, 90, 255)


@dataclass(frozen=True)
class KeyFrame:
    """One still of the report.

    Attributes:
        rep: The rep's row.
        moment: `bottom` or `lockout`.
        index: Frame index in the clip.
        path: File path relative to the report folder.
    """

    rep: RepRow
    moment: str
    index: int
    path: str

    @property
    def faults(self) -> list[str]:
        """Fault codes shown at this moment."""
        return self.rep.fault_codes(self.moment)

    @property
    def t_s(self) -> float:
        """The rep's time of this moment (the event's)."""
        return self.rep.time_of(self.moment)


@dataclass(frozen=True)
class Media:
    """What `render_media` wrote (paths relative to the report folder)."""

    keyframes: list[KeyFrame]
    video: str | None
    video_codec: str | None
    video_size: tuple[int, int]


def plan_keyframes(trace: Trace, rows: list[RepRow]) -> list[KeyFrame]:
    """Each rep's bottom and lockout frame, named after the rep's id.

    Where the back check read an outline close to the moment, that frame is taken, so
    the picture can show the back the verdict was made from.
    """
    out = []
    for row in rows:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", row.id)
        for moment in ("bottom", "lockout"):
            t_s = row.time_of(moment)
            outlined = trace.outlined_near(t_s, _OUTLINE_NEAR_S)
            index = trace.frame_at(t_s) if outlined is None else outlined
            out.append(KeyFrame(row, moment, index, f"{KEYFRAME_DIR}/{stem}-{moment}.png"))
    return out


class _Overlay:
    """What the annotated video shows on each frame: reps counted so far, last verdict."""

    def __init__(self, trace: Trace, rows: list[RepRow], events: list[AnyEvent]) -> None:
        self._trace = trace
        by_id = {row.id: row for row in rows}
        timed = [(trace.emitted_at.get(e.id, len(trace) - 1), n, e) for n, e in enumerate(events)]
        self._queue = sorted(timed, key=lambda item: item[:2])
        self._rows = by_id
        self._reps = 0
        self._last: RepEvent | None = None  # with the score of any update
        self._last_index = -1
        self._set_line = ""

    def advance(self, index: int) -> None:
        """Takes in the events emitted up to frame `index`."""
        while self._queue and self._queue[0][0] <= index:
            at, _, event = self._queue.pop(0)
            if isinstance(event, RepEvent):
                self._reps += 1
                self._last, self._last_index, self._set_line = event, at, ""
            elif isinstance(event, RepUpdate) and self._last is not None:
                self._last = replace(self._last, score=event.score)
            elif isinstance(event, SetEvent):
                mean = event.mean_score
                self._set_line = f"set over: {event.reps} reps" + (
                    "" if mean is None else f", mean {mean:g}"
                )

    def caption(self, index: int) -> tuple[list[str], list[tuple[int, int, int]]]:
        """Text lines and their colours for frame `index`."""
        head = f"reps {self._reps}   t {self._trace.t_s[index]:.2f} s   {self._trace.phase[index]}"
        if self._last is None:
            return [head], [(255, 255, 255)]
        score = self._last.score
        lines = [head, f"last rep: {'not scored' if score is None else f'{score:g}'}"]
        colour = _GOOD if not self._last.faults else _BAD
        lines.append(self._last.cue)
        colours = [(255, 255, 255), (255, 255, 255), colour]
        if self._set_line:
            lines.append(self._set_line)
            colours.append((255, 255, 255))
        return lines, colours

    def highlight(self, index: int) -> set[str]:
        """Segments of the last rep's faults, for a short while after it was counted."""
        if (
            self._last is None
            or self._trace.t_s[index] - self._trace.t_s[self._last_index] > _HIGHLIGHT_S
        ):
            return set()
        row = self._rows.get(self._last.id)
        return segments_for(row.fault_codes() if row else [])


def _write_keyframe(out_dir: Path, key: KeyFrame, image: np.ndarray, trace: Trace) -> None:
    still = image.copy()
    draw_skeleton(still, trace.xy[key.index], trace.visibility[key.index], segments_for(key.faults))
    outline = trace.outlines.get(key.index)
    if outline is not None:
        red = trace.rounded_beyond if "spine_flexion" in key.faults else None
        draw_back(still, outline.edge_xy, outline.signed, red)
    score = "not scored" if key.rep.score is None else f"score {key.rep.score:g}"
    lines = [f"rep {key.rep.label} {key.moment} at {key.t_s:.2f} s, {score}", *key.faults]
    draw_caption(still, lines, [(255, 255, 255)] + [_BAD] * len(key.faults))
    target = out_dir / key.path
    if not cv2.imwrite(str(target), still):
        raise ReportError(f"cannot write the key frame {target} (disk full or not writable?)")


def render_media(
    video: Path,
    trace: Trace,
    rows: list[RepRow],
    events: list[AnyEvent],
    out_dir: Path,
    use_ffmpeg: bool = True,
) -> Media:
    """Writes the key frames and the annotated video into `out_dir`.

    Args:
        video: The replayed clip.
        trace: The replay's per-frame record (its length bounds the frames read).
        rows: The reps (from `rep_rows`).
        events: Every event of the replay, in emission order.
        out_dir: The report folder (exists).
        use_ffmpeg: Encode the video with the `ffmpeg` program if it has libx264.

    Raises:
        ReportError: A file cannot be written.
        SourceError: The clip cannot be read again.
    """
    capture, info = open_video(video)
    capture.release()
    scale = min(1.0, _MAX_VIDEO_WIDTH / info.width)
    size = (round(info.width * scale) // 2 * 2, round(info.height * scale) // 2 * 2)
    keyframes = plan_keyframes(trace, rows)
    (out_dir / KEYFRAME_DIR).mkdir(exist_ok=True)
    wanted: dict[int, list[KeyFrame]] = {}
    for key in keyframes:
        wanted.setdefault(key.index, []).append(key)
    overlay = _Overlay(trace, rows, events)
    sink = open_sink(out_dir / VIDEO_STEM, info.fps, size, use_ffmpeg)
    progress = Progress(f"{video.name} (report)", len(trace))
    try:
        for frame in iter_video(video, len(trace)):
            for key in wanted.get(frame.index, []):
                _write_keyframe(out_dir, key, frame.image, trace)
            overlay.advance(frame.index)
            sink.write(_annotate(frame.image, frame.index, trace, overlay, size))
            progress.tick(frame.index + 1)
    finally:
        sink.close()
    return Media(keyframes, sink.path.name, sink.codec, size)


def _annotate(
    image: np.ndarray, index: int, trace: Trace, overlay: _Overlay, size: tuple[int, int]
) -> np.ndarray:
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ratio = np.array([size[0] / image.shape[1], size[1] / image.shape[0]], np.float32)
    draw_skeleton(small, trace.xy[index] * ratio, trace.visibility[index], overlay.highlight(index))
    lines, colours = overlay.caption(index)
    return draw_caption(small, lines, colours)
