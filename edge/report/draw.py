"""Drawing on frames with OpenCV: the BlazePose skeleton, faulty segments, caption boxes.

Images are (H, W, 3) uint8 BGR, drawn on in place; landmarks are (33, 2) image pixels in
continuous coordinates (as `Poses.xy`). Shared by the replay report and, later, the
daemon's stills.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

# BlazePose's 33-landmark connections (MediaPipe's POSE_CONNECTIONS), grouped into the
# body segments a fault can point at, plus a neck (ear -> shoulder) that MediaPipe does
# not draw but head faults need.
SEGMENTS: dict[str, tuple[tuple[int, int], ...]] = {
    "head": ((0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10)),
    "neck": ((7, 11), (8, 12)),
    "trunk": ((11, 12), (11, 23), (12, 24), (23, 24)),
    "arms": (
        (11, 13),
        (13, 15),
        (15, 17),
        (15, 19),
        (15, 21),
        (17, 19),
        (12, 14),
        (14, 16),
        (16, 18),
        (16, 20),
        (16, 22),
        (18, 20),
    ),
    "thigh": ((23, 25), (24, 26)),
    "shin": ((25, 27), (26, 28)),
    "feet": ((27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32)),
}

FAULT_SEGMENTS: dict[str, tuple[str, ...]] = {
    "knee_dominant": ("thigh", "shin"),  # knees forward, shins tipped
    "spine_flexion": ("trunk",),  # rounded back
    "head_extension": ("neck", "head"),  # looking up against the torso
    "chest_first": ("trunk",),  # the chest rises before the hips
    "hips_rise_first": ("trunk", "thigh"),  # the hips shoot up, the torso stays down
    "incomplete_lockout": ("trunk", "thigh"),  # hips not extended at the top
    "hyperextension": ("trunk",),  # leaning back at the top
    "partial_rep": ("trunk",),  # not deep enough
    "rushed_eccentric": (),  # a matter of time, not of a segment
}
"""Segments to highlight for each fault code (`docs/events.md`)."""

LOCKOUT_FAULTS = frozenset({"incomplete_lockout", "hyperextension"})
"""Faults seen at the top of a rep; the others are seen at (or on the way to) the bottom."""

BONE_BGR = (235, 225, 200)
HIGHLIGHT_BGR = (40, 40, 235)
FAINT_BGR = (150, 150, 150)
OUTLINE_BGR = (30, 30, 30)
MIN_VISIBILITY = 0.5  # below: a guessed landmark, drawn thin and grey


def segments_for(codes: Iterable[str]) -> set[str]:
    """The segments the given fault codes point at (unknown codes point nowhere)."""
    return {segment for code in codes for segment in FAULT_SEGMENTS.get(code, ())}


def line_width_px(image: np.ndarray) -> int:
    """A bone's line width that reads at this frame size (1 px at 180 p, 4 px at 720 p)."""
    return max(1, round(min(image.shape[:2]) / 180))


def draw_skeleton(
    image: np.ndarray,
    xy: np.ndarray,
    visibility: np.ndarray,
    highlight: Iterable[str] = (),
    min_visibility: float = MIN_VISIBILITY,
) -> np.ndarray:
    """Draws the BlazePose skeleton, the highlighted segments thick and red.

    Args:
        image: (H, W, 3) uint8 BGR, drawn on in place.
        xy: (33, 2) landmark pixels; NaN rows are skipped.
        visibility: (33,) in [0, 1]; a bone with an end below `min_visibility` is drawn
            thin and grey (a guess), never highlighted.
        highlight: Names of `SEGMENTS` to highlight.
        min_visibility: Visibility under which a landmark counts as guessed.

    Returns:
        The same image.
    """
    width = line_width_px(image)
    hot = set(highlight)
    seen = np.isfinite(xy).all(axis=1) & (visibility >= min_visibility)
    points = np.nan_to_num(xy * 16).astype(np.int64)  # 4 fractional bits for cv2's shift
    ordered = sorted(SEGMENTS.items(), key=lambda item: item[0] in hot)  # red on top
    for name, bones in ordered:
        for a, b in bones:
            if not (np.isfinite(xy[a]).all() and np.isfinite(xy[b]).all()):
                continue
            pa, pb = tuple(points[a]), tuple(points[b])
            if not (seen[a] and seen[b]):
                cv2.line(image, pa, pb, FAINT_BGR, 1, cv2.LINE_AA, shift=4)
                continue
            thick = 2 * width if name in hot else width
            colour = HIGHLIGHT_BGR if name in hot else BONE_BGR
            cv2.line(image, pa, pb, OUTLINE_BGR, thick + 2, cv2.LINE_AA, shift=4)
            cv2.line(image, pa, pb, colour, thick, cv2.LINE_AA, shift=4)
    for i in np.flatnonzero(seen):
        cv2.circle(image, tuple(points[i]), 16 * (width + 1), OUTLINE_BGR, -1, cv2.LINE_AA, 4)
        cv2.circle(image, tuple(points[i]), 16 * width, BONE_BGR, -1, cv2.LINE_AA, 4)
    return image


def _wrap(text: str, max_px: int, scale: float, thickness: int) -> list[str]:
    """Splits `text` into lines no wider than `max_px` (a long word stands alone)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        fits = cv2.getTextSize(trial, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0][0] <= max_px
        if lines and fits:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def draw_caption(
    image: np.ndarray, lines: Sequence[str], colours: Sequence[tuple[int, int, int]] = ()
) -> np.ndarray:
    """Writes lines of text in a dark box at the top left, wrapped to the frame's width.

    Args:
        image: (H, W, 3) uint8 BGR, drawn on in place.
        lines: Text lines (ASCII: OpenCV's fonts have no other glyphs).
        colours: BGR per line (default white).

    Returns:
        The same image.
    """
    height, width = image.shape[:2]
    scale = max(0.4, height / 720)  # 1.0 at 720 p; below 0.4 the glyphs smear
    thickness = max(1, round(scale * 1.5))
    line_px = round(30 * scale) + 4
    pad = round(8 * scale)
    rows = []
    for i, line in enumerate(lines):
        colour = colours[i] if i < len(colours) else (255, 255, 255)
        rows += [(text, colour) for text in _wrap(line, width - 4 * pad, scale, thickness)]
    if not rows:
        return image
    box_w = max(
        cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0][0] for t, _ in rows
    )
    box = image[: pad * 2 + line_px * len(rows), : box_w + pad * 2]
    box[:] = (box * 0.35).astype(np.uint8)  # darken: legible over any background
    for i, (text, colour) in enumerate(rows):
        origin = (pad, pad + line_px * (i + 1) - round(8 * scale))
        cv2.putText(
            image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA
        )
    return image


CHORD_BGR = (200, 200, 200)
BACK_BGR = (235, 200, 40)  # sky blue: apart from the bones, the red and a green plate


def draw_back(
    image: np.ndarray, edge_xy: np.ndarray, signed: np.ndarray, red_beyond: float | None = None
) -> np.ndarray:
    """Draws the back's outline and the chord it is measured against.

    Args:
        image: (H, W, 3) uint8 BGR, drawn on in place.
        edge_xy: (N, 2) the dorsal edge in image pixels, shoulder end first; its end
            points are the chord's.
        signed: (N,) each point's distance behind the chord (torso fractions).
        red_beyond: Draw the stretches of edge further behind the chord than this in red
            (the rep was judged rounded); None draws the whole edge in `BACK_BGR`.

    Returns:
        The same image.
    """
    width = line_width_px(image) + 1  # over the trunk's bone, it must stand out
    points = np.round(np.asarray(edge_xy, np.float64) * 16).astype(np.int64)
    ends = tuple(points[0]), tuple(points[-1])
    cv2.line(image, *ends, OUTLINE_BGR, width + 2, cv2.LINE_AA, shift=4)
    cv2.line(image, *ends, CHORD_BGR, width - 1, cv2.LINE_AA, shift=4)
    hot = np.zeros(len(points), bool) if red_beyond is None else np.asarray(signed) > red_beyond
    for i in range(len(points) - 1):
        thick = 2 * width if hot[i] or hot[i + 1] else width
        colour = HIGHLIGHT_BGR if hot[i] or hot[i + 1] else BACK_BGR
        a, b = tuple(points[i]), tuple(points[i + 1])
        cv2.line(image, a, b, OUTLINE_BGR, thick + 2, cv2.LINE_AA, shift=4)
        cv2.line(image, a, b, colour, thick, cv2.LINE_AA, shift=4)
    return image
