"""Platform zones: polygons in relative image coordinates, and point-in-zone tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FULL_FRAME: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


class Zone:
    """A platform zone: where the athlete's hips are while lifting.

    The polygon is given in relative coordinates (0..1 of the frame's width and height), so
    it survives a change of stream resolution.
    """

    def __init__(self, polygon: tuple[tuple[float, float], ...] | list = FULL_FRAME) -> None:
        """Creates a zone.

        Args:
            polygon: At least 3 `(x, y)` vertices, each coordinate in [0, 1].

        Raises:
            ValueError: Fewer than 3 vertices or a coordinate outside [0, 1].
        """
        vertices = np.asarray(polygon, dtype=np.float64)
        if vertices.ndim != 2 or vertices.shape[1] != 2 or vertices.shape[0] < 3:
            raise ValueError(f"a zone needs at least 3 (x, y) vertices, got {polygon!r}")
        if np.any(vertices < 0) or np.any(vertices > 1):
            raise ValueError(
                f"zone vertices must lie in [0, 1] (relative to the frame), got {polygon!r}"
            )
        self.vertices = vertices

    @property
    def is_full_frame(self) -> bool:
        """True when the zone covers the whole frame (nothing to filter)."""
        lo, hi = self.vertices.min(axis=0), self.vertices.max(axis=0)
        return bool(np.all(lo <= 0) and np.all(hi >= 1) and self.vertices.shape[0] == 4)

    def contains(self, points_px: np.ndarray, frame_wh: tuple[int, int]) -> npt.NDArray[np.bool_]:
        """Tests (M, 2) pixel points against the zone (even-odd rule).

        Returns:
            (M,) booleans; NaN points are outside.
        """
        pts = np.asarray(points_px, np.float64).reshape(-1, 2) / np.asarray(frame_wh, np.float64)
        x, y = pts[:, 0:1], pts[:, 1:2]
        x0, y0 = self.vertices[:, 0], self.vertices[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside = (crosses & (x < x_at)).sum(axis=1) % 2 == 1
        return inside & np.all(np.isfinite(pts), axis=1)

    def bbox_px(self, frame_wh: tuple[int, int]) -> tuple[int, int, int, int]:
        """Returns the zone's bounding box `(x0, y0, x1, y1)` in integer pixels."""
        w, h = frame_wh
        lo = self.vertices.min(axis=0) * (w, h)
        hi = self.vertices.max(axis=0) * (w, h)
        return int(lo[0]), int(lo[1]), int(np.ceil(hi[0])), int(np.ceil(hi[1]))
