"""Stills of the last rep: the athlete at the bottom, skeleton drawn, faulty segment in red.

Only for cameras with `images: true` (off by default: gym members' pictures stay out of
memory unless the operator switches them on). The pipeline keeps the deepest frame since
the previous rep in a `DeepestFrame`, and the deepest on which the back check read the
back's outline (docs/back.md): that one is preferred, so the still shows the outline the
verdict was made from, red where a rounded back bulges. When a rep is counted the daemon
turns the frame into a PNG with `render_still` and keeps only that, the newest, per camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.contract import RepEvent
from edge.errors import StillError
from edge.hinge.config import FaultConfig
from edge.pose.back import BackOutline
from edge.report.draw import LOCKOUT_FAULTS, draw_back, draw_caption, draw_skeleton, segments_for

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
        outline: The back's outline on this frame, where the back check read one.
        rounded_beyond: A rounded rep's outline is drawn red further than this behind
            its chord (the engine's `faults.back_rounding_margin`).
    """

    depth: float
    t_s: float
    image: np.ndarray
    xy: np.ndarray
    visibility: np.ndarray
    outline: BackOutline | None = None
    rounded_beyond: float = FaultConfig().back_rounding_margin


class DeepestFrame:
    """Keeps the deepest frame offered since the last `take()`, and the deepest outlined one.

    At most two frames are held, never a history.
    """

    def __init__(self, rounded_beyond: float = FaultConfig().back_rounding_margin) -> None:
        """`rounded_beyond`: the engine's `faults.back_rounding_margin` (for the drawing)."""
        self._rounded_beyond = rounded_beyond
        self._best: BottomFrame | None = None
        self._outlined: BottomFrame | None = None

    def offer(
        self,
        depth: float,
        t_s: float,
        image: np.ndarray,
        xy: np.ndarray,
        visibility: np.ndarray,
        outline: BackOutline | None = None,
    ) -> None:
        """Keeps this frame (copied) if it is deeper than the one kept; NaN depth is ignored.

        A frame with an outline competes with the outlined frames only.
        """
        kept = self._best if outline is None else self._outlined
        if not math.isfinite(depth) or (kept is not None and depth <= kept.depth):
            return
        frame = BottomFrame(
            depth, t_s, image.copy(), xy.copy(), visibility.copy(), outline, self._rounded_beyond
        )
        if outline is None:
            self._best = frame
        else:
            self._outlined = frame

    def take(self) -> BottomFrame | None:
        """The deepest outlined frame, else the deepest frame; forgets both."""
        chosen = self._outlined or self._best
        self.clear()
        return chosen

    def clear(self) -> None:
        """Forgets the kept frames (a new stream, or the set ended)."""
        self._best = self._outlined = None

    @property
    def holding(self) -> bool:
        """True while a frame is kept."""
        return self._best is not None or self._outlined is not None


def render_still(bottom: BottomFrame, rep: RepEvent) -> bytes:
    """The PNG of a rep's bottom: skeleton, the segments its faults point at in red.

    Lockout faults (seen at the top) are not highlighted on the bottom picture. Where the
    frame has the back's outline, it is drawn with its chord, red where it bulges beyond
    the margin on a rep judged rounded (`spine_flexion`).

    Args:
        bottom: The rep's deepest frame.
        rep: The rep event (`faults`, `rep`, `score`).

    Returns:
        PNG bytes, at most `MAX_WIDTH_PX` wide.

    Raises:
        StillError: OpenCV could not encode the picture.
    """
    image, scale = _scaled(bottom.image)
    codes = [f.code for f in rep.faults if f.code not in LOCKOUT_FAULTS]
    draw_skeleton(image, bottom.xy * scale, bottom.visibility, segments_for(codes))
    if bottom.outline is not None:
        red = bottom.rounded_beyond if "spine_flexion" in codes else None
        draw_back(image, bottom.outline.edge_xy * scale, bottom.outline.signed, red)
    score = rep.score
    head = f"rep {rep.rep} bottom" + ("" if score is None else f", score {score:g}")
    draw_caption(image, [head, *codes], [(255, 255, 255)] + [_FAULT_BGR] * len(codes))
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise StillError(f"OpenCV could not encode a {image.shape} still as PNG")
    return png.tobytes()


def _scaled(image: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy of the image no wider than `MAX_WIDTH_PX`, and the factor it was scaled by."""
    height, width = image.shape[:2]
    if width <= MAX_WIDTH_PX:
        return image.copy(), 1.0
    scale = MAX_WIDTH_PX / width
    size = (MAX_WIDTH_PX, max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale
