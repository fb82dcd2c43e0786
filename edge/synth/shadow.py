"""A soft floor shadow under the athlete, drawn in image space with OpenCV.

Each primitive's outline is projected along the key light onto the floor (y = 0), then
into the image, filled, and blurred: a wide, faint penumbra plus a tight, darker contact
shadow from the parts near the floor (the feet). Cheap and convincing enough; not a
physically correct shadow.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.synth.camera import Camera
from edge.synth.geometry import Vec
from edge.synth.primitives import Capsule, Primitive, box_corners

_RING = np.stack(
    [
        np.cos(np.linspace(0, 2 * np.pi, 12, endpoint=False)),
        np.sin(np.linspace(0, 2 * np.pi, 12, endpoint=False)),
    ],
    axis=1,
)
_CONTACT_HEIGHT_M = 0.15  # parts lower than this also cast the tight contact shadow


def floor_shadow(prims: list[Primitive], camera: Camera, light_unit: Vec) -> Vec:
    """Returns (H, W) shadow strength in [0, 1] on the floor plane (1 = darkest).

    Args:
        prims: Primitives casting the shadow.
        camera: The (possibly supersampled) render camera.
        light_unit: (3,) unit vector towards the key light.
    """
    # Drawn at half resolution: the shadow is soft, and blurring is the costly step.
    size = (camera.height_px // 2, camera.width_px // 2)
    wide, tight = np.zeros(size, np.float32), np.zeros(size, np.float32)
    towards = light_unit if light_unit[1] > 0.2 else np.array([0.0, 1.0, 0.0])
    for prim in prims:
        floor_pts, low = _footprint(prim, towards)
        xy, depth = camera.project(floor_pts)
        if (depth < 0.05).any():
            continue
        hull = cv2.convexHull(np.round(xy * 8).astype(np.int32))
        cv2.fillConvexPoly(wide, hull, 1.0, lineType=cv2.LINE_AA, shift=4)
        if low:
            cv2.fillConvexPoly(tight, hull, 1.0, lineType=cv2.LINE_AA, shift=4)
    scale = 0.5 * camera.focal_px / max(1.0, float(np.linalg.norm(camera.position_m)))
    wide = cv2.GaussianBlur(wide, (0, 0), max(0.7, 0.06 * scale))
    tight = cv2.GaussianBlur(tight, (0, 0), max(0.7, 0.015 * scale))
    strength = np.clip(0.45 * wide + 0.35 * tight, 0.0, 0.8)
    full = (camera.width_px, camera.height_px)
    return cv2.resize(strength, full, interpolation=cv2.INTER_LINEAR)


def _footprint(prim: Primitive, towards: Vec) -> tuple[Vec, bool]:
    """Outline points of a primitive's shadow on the floor, and whether it is near the floor."""
    if isinstance(prim, Capsule):
        ends = ((prim.a, prim.ra), (prim.b, prim.rb))
        pts = np.concatenate([_ring(c, r) for c, r in ends])
        low = min(prim.a[1] - prim.ra, prim.b[1] - prim.rb) < _CONTACT_HEIGHT_M
    else:
        lo, hi = prim.bounds()
        pts = box_corners(lo, hi)
        low = lo[1] < _CONTACT_HEIGHT_M
    heights = np.maximum(pts[:, 1], 0.0)
    on_floor = pts - (heights / towards[1])[:, None] * towards
    on_floor[:, 1] = 0.0
    return on_floor, bool(low)


def _ring(centre: Vec, radius: float) -> Vec:
    """A horizontal ring of points around a sphere's centre (its vertical shadow outline)."""
    return centre + radius * np.stack([_RING[:, 0], np.zeros(len(_RING)), _RING[:, 1]], axis=1)
