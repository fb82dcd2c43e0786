"""Finds the picture inside black bars (portrait video pillarboxed in a landscape frame)."""

from __future__ import annotations

import cv2
import numpy as np

_DARK_LEVEL = 20  # 8-bit luma under which a pixel counts as bar (compressed black is 0-16)
_ACTIVE_FRACTION = 0.08  # a row/column with more bright pixels than this is picture
_SAMPLE_WIDTH = 320  # analyse a downscaled copy: bars are large, detail is not needed


def find_content_box(image_bgr: np.ndarray) -> tuple[int, int, int, int]:
    """Returns the box `(x0, y0, x1, y1)` holding the picture, without black bars.

    A caption burned into a bar covers few pixels of each column, so it does not count as
    picture. A frame that is black all over returns the whole frame.
    """
    h, w = image_bgr.shape[:2]
    scale = min(1.0, _SAMPLE_WIDTH / w)
    small = cv2.resize(
        image_bgr,
        (max(1, round(w * scale)), max(1, round(h * scale))),
        interpolation=cv2.INTER_AREA,
    )
    bright = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) > _DARK_LEVEL
    cols = np.flatnonzero(bright.mean(axis=0) > _ACTIVE_FRACTION)
    if cols.size == 0:
        return 0, 0, w, h
    # Rows are judged inside the picture's columns only: a dark floor between two bars
    # would otherwise look like a letterbox bar and cut the athlete's feet off.
    rows = np.flatnonzero(bright[:, cols[0] : cols[-1] + 1].mean(axis=1) > _ACTIVE_FRACTION)
    if rows.size == 0:
        return 0, 0, w, h
    sh, sw = bright.shape
    x0, x1 = int(cols[0] * w / sw), int(np.ceil((cols[-1] + 1) * w / sw))
    y0, y1 = int(rows[0] * h / sh), int(np.ceil((rows[-1] + 1) * h / sh))
    return x0, y0, min(x1, w), min(y1, h)


class ContentArea:
    """Tracks the picture area of a stream: the union of the boxes seen so far.

    Bars do not move within a stream, but a dark frame can hide picture, so the area only
    grows. It is re-measured every `interval` frames, which costs well under a millisecond.
    """

    def __init__(self, interval: int = 30) -> None:
        """Creates a tracker that re-measures every `interval` frames."""
        self.interval = interval
        self._box: tuple[int, int, int, int] | None = None
        self._frames = 0
        self._shape: tuple[int, int] | None = None

    def update(self, image_bgr: np.ndarray) -> tuple[int, int, int, int]:
        """Returns the current picture box, re-measuring it when due."""
        shape = image_bgr.shape[:2]
        if shape != self._shape:  # new resolution: start over
            self._box, self._frames, self._shape = None, 0, shape
        if self._box is None or self._frames % self.interval == 0:
            box = find_content_box(image_bgr)
            if self._box is not None:
                box = (
                    min(box[0], self._box[0]),
                    min(box[1], self._box[1]),
                    max(box[2], self._box[2]),
                    max(box[3], self._box[3]),
                )
            self._box = box
        self._frames += 1
        return self._box
