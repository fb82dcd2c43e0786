"""Stills of the last rep: the athlete at the bottom, skeleton drawn, faulty segment in red.

Only for cameras with `images: true` (off by default: gym members' pictures stay out of
memory unless the operator switches them on). The pipeline keeps the deepest frame since
the previous rep in a `DeepestFrame`; when a rep is counted the daemon turns it into a
PNG with `render_still` and keeps only that, the newest, per camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.contract import RepEvent
from edge.errors import StillError
from edge.report.draw import LOCKOUT_FAULTS, draw_caption, draw_skeleton, segments_for

MAX_WIDTH_PX = 640
"""Stills wider than this are scaled down: enough to see the skeleton on a page."""
_FAULT_BGR = (90, 90, 255)


@dataclass(frozen=True)
class BottomFrame:
    """The deepest frame of a rep, as the pose model saw it.

    Attributes:
        depth: The scorer's depth signal on this frame (larger is deeper).
        t_s: Time of the frame on the pipeline's clock (as the events' `t_*_s`).
        image: (H, W, 3) uint8 BGR, a private copy.
        xy: (33, 2) landmark pixels.
        visibility: (33,) in [0, 1].
    """

    depth: float
    t_s: float
    image: np.ndarray
    xy: np.ndarray
    visibility: np.ndarray


class DeepestFrame:
    """Keeps the deepest frame offered since the last `take()` (one frame, no history)."""

    def __init__(self) -> None:
        self._best: BottomFrame | None = None

    def offer(
        self, depth: float, t_s: float, image: np.ndarray, xy: np.ndarray, visibility: np.ndarray
    ) -> None:
        """Keeps this frame (copied) if it is deeper than the one kept; NaN depth is ignored."""
        if not math.isfinite(depth) or (self._best is not None and depth <= self._best.depth):
            return
        self._best = BottomFrame(depth, t_s, image.copy(), xy.copy(), visibility.copy())

    def take(self) -> BottomFrame | None:
        """The deepest frame so far, and forgets it."""
        best, self._best = self._best, None
        return best

    def clear(self) -> None:
        """Forgets the kept frame (a new stream, or the set ended)."""
        self._best = None

    @property
    def holding(self) -> bool:
        """True while a frame is kept."""
        return self._best is not None


def render_still(bottom: BottomFrame, rep: RepEvent) -> bytes:
    """The PNG of a rep's bottom: skeleton, the segments its faults point at in red.

    Lockout faults (seen at the top) are not highlighted on the bottom picture.

    Args:
        bottom: The rep's deepest frame.
        rep: The rep event (`faults`, `rep`, `score`).

    Returns:
        PNG bytes, at most `MAX_WIDTH_PX` wide.

    Raises:
        StillError: OpenCV could not encode the picture.
    """
    image, xy = _scaled(bottom.image, bottom.xy)
    codes = [f.code for f in rep.faults if f.code not in LOCKOUT_FAULTS]
    draw_skeleton(image, xy, bottom.visibility, segments_for(codes))
    score = rep.score
    head = f"rep {rep.rep} bottom" + ("" if score is None else f", score {score:g}")
    draw_caption(image, [head, *codes], [(255, 255, 255)] + [_FAULT_BGR] * len(codes))
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise StillError(f"OpenCV could not encode a {image.shape} still as PNG")
    return png.tobytes()


def _scaled(image: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the image no wider than `MAX_WIDTH_PX`, and the landmarks to match."""
    height, width = image.shape[:2]
    if width <= MAX_WIDTH_PX:
        return image.copy(), xy
    scale = MAX_WIDTH_PX / width
    size = (MAX_WIDTH_PX, max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), xy * scale
