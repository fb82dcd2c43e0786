"""The back's outline between shoulder and hip, from BlazePose's person mask (pure NumPy).

BlazePose's 33 landmarks have no point on the spine, so a rounded or arched back is
invisible to them; the landmark model's segmentation output is not. From the mask (in
the 256x256 crop it was computed on) and the shoulder and hip of the side facing the
camera, rays are cast perpendicular to the shoulder-hip chord, toward the back, from
points at t = 0.1 .. 0.9 of the way from the shoulder (t = 0) to the hip (t = 1). Where
each ray leaves the mask is the dorsal edge. Its distance beyond the chord joining its
own two ends, over torso length, is the measure:

* positive (the edge bulges out behind the chord): a rounded back, upper half
  (t < 0.5, thoracic) and lower half (t >= 0.5, lumbar) reported apart;
* negative in the lower half (the edge dips in): an arched lower back.

Coordinates are the mask's: x = column, y = row, y down; mask pixel (row r, column c)
sits at (c, r), which is how the pose stage's crop coordinates are defined
(`edge.pose.landmarks.CropMask.to_crop`). Nothing here knows about the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from edge.hinge.signals import BackShape

if TYPE_CHECKING:
    from edge.hinge import HingeScorer
    from edge.pose.estimator import PoseStage
    from edge.pose.landmarks import CropMask
    from edge.types import Poses

# The mask is the sigmoid of the model's logits; 0.5 is MediaPipe's own cut (its
# SegmentationSmoothing / selfie examples) and the field experiment found the same
# ranking at 0.3 and 0.7 (docs/back.md).
MASK_THRESHOLD = 0.5
# Closing (dilate then erode) with a (2r+1)-px square: fills holes and notches up to 4 px
# wide at the 256-px crop (a sleeve fold, a strap), far below the back's own curvature.
CLOSE_RADIUS_PX = 2
UPPER_LOWER_SPLIT = 0.5  # t below it is the thoracic half, at or above it the lumbar half


@dataclass(frozen=True)
class BackConfig:
    """How the rays are cast and when a frame's edge is not measurable.

    Attributes:
        rays: Number of rays between `t_first` and `t_last` (17: one every 5% of the torso).
        t_first: Ray nearest the shoulder, as a fraction of the way shoulder -> hip. The
            ends are kept off the joints: around the shoulder and hip centres the mask's
            edge belongs to the arm and the buttock, not the back.
        t_last: Ray nearest the hip.
        max_depth: A ray that is still in the mask this far from the chord (fraction of
            torso length) has left the body (a plate, a bench, a second person): the
            back is half a torso thick at most.
        max_step: Adjacent rays whose lengths differ by more than this (fraction of torso
            length) are a step, not a back: with rays 0.05 torso apart it is an edge
            sloping more than 2:1 against the chord, what an arm, a bar or a hole makes.
        max_missing: Rays that may find no edge (filled in from their neighbours) before
            the frame is rejected; the two end rays may never be missing.
        min_torso_px: Shoulder-hip distances below this (mask pixels) leave too few pixels
            per ray step to read a bulge of a few percent.
        step_px: Sampling step along each ray in mask pixels (the edge is interpolated
            between samples, so this only needs to be below one pixel).
        threshold: Mask probability at which the edge is placed.
        close_radius_px: Closing radius applied to the mask before the rays are cast.
    """

    rays: int = 17
    t_first: float = 0.1
    t_last: float = 0.9
    max_depth: float = 0.6
    max_step: float = 0.1
    max_missing: int = 2
    min_torso_px: float = 20.0
    step_px: float = 0.25
    threshold: float = MASK_THRESHOLD
    close_radius_px: int = CLOSE_RADIUS_PX


@dataclass(frozen=True)
class BackMeasure:
    """The dorsal edge of one frame and what it says about the back.

    Distances are fractions of torso length (shoulder-hip distance); positive means
    behind the line joining the edge's two end points (t = `t_first` and `t_last`).

    Attributes:
        valid: The edge was measurable; every figure below is NaN otherwise.
        reason: `ok`, or why not: `short_torso`, `mask_missing` (a ray starts outside
            the mask or never leaves it), `jump` (ray lengths step: something crosses
            the back).
        torso_px: Shoulder-hip distance in mask pixels.
        t: (rays,) ray positions, 0 at the shoulder, 1 at the hip.
        depth: (rays,) smoothed distance from the shoulder-hip chord to the edge, torso
            fractions (NaN where a ray found no edge, on a rejected frame).
        points: (rays, 2) the edge in mask coordinates, for drawing.
        signed: (rays,) signed distance of the edge beyond its end chord, torso fractions.
        bulge: Largest `signed`: how far the back rounds out behind its end chord.
        bulge_upper: Largest `signed` over t < 0.5 (thoracic half).
        bulge_lower: Largest `signed` over t >= 0.5 (lumbar half).
        arch: Largest `-signed` over t >= 0.5: how far the lower back dips in.
        curvature: Second-order fit of `signed` along the end chord, as 1 / radius in
            torso units: positive rounds out (convex), negative arches in; about
            8 x sagitta for a circular arc spanning the torso.
    """

    valid: bool
    reason: str
    torso_px: float
    t: npt.NDArray[np.float64]
    depth: npt.NDArray[np.float64]
    points: npt.NDArray[np.float64]
    signed: npt.NDArray[np.float64]
    bulge: float = float("nan")
    bulge_upper: float = float("nan")
    bulge_lower: float = float("nan")
    arch: float = float("nan")
    curvature: float = float("nan")


def sigmoid(logits: np.ndarray) -> npt.NDArray[np.float32]:
    """The mask probability from the model's segmentation logits (any shape)."""
    return (1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))).astype(np.float32)


def _filter(values: np.ndarray, radius: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """A square (2r+1) max or min filter, borders repeated."""
    size = 2 * radius + 1
    padded = np.pad(values, radius, mode="edge")
    rows = reduce(sliding_window_view(padded, size, axis=0), axis=-1)
    return reduce(sliding_window_view(rows, size, axis=1), axis=-1)


def close_mask(probability: np.ndarray, radius: int = CLOSE_RADIUS_PX) -> npt.NDArray[np.float32]:
    """Grey-level closing of a (H, W) probability mask with a square of side 2r+1.

    With a flat square, thresholding commutes with closing: thresholding the result at
    0.5 is the binary mask at 0.5 with holes and notches narrower than the square
    closed, while the grey values keep the sub-pixel position of the edge.

    Args:
        probability: (H, W) values in [0, 1].
        radius: Closing radius in pixels (0 leaves the mask as it is).

    Returns:
        (H, W) float32 closed probability.
    """
    values = np.asarray(probability, np.float32)
    if radius <= 0:
        return values
    return _filter(_filter(values, radius, np.max), radius, np.min)


def _bilinear(image: np.ndarray, points: np.ndarray) -> npt.NDArray[np.float32]:
    """Samples (H, W) `image` at (..., 2) (x, y) points; 0 outside the image."""
    height, width = image.shape
    x, y = points[..., 0], points[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    x0 = np.clip(np.floor(x), 0, width - 2).astype(np.int64)
    y0 = np.clip(np.floor(y), 0, height - 2).astype(np.int64)
    fx, fy = np.clip(x - x0, 0, 1), np.clip(y - y0, 0, 1)
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return np.where(inside, top * (1 - fy) + bottom * fy, 0.0).astype(np.float32)


def back_normal(shoulder: np.ndarray, hip: np.ndarray, facing: int) -> npt.NDArray[np.float64]:
    """The unit normal of the shoulder-hip chord that points out of the athlete's back.

    With y down, an athlete facing +x has the back on the chord's right-hand turn of the
    hip -> shoulder direction u, i.e. (u_y, -u_x): standing (u = (0, -1)) it is -x,
    hinged to horizontal (u = (1, 0)) it is up (-y). Facing -x mirrors it. The rule holds
    at any lean and in any rotated crop (rotations keep handedness).

    Args:
        shoulder: (2,) shoulder, mask coordinates.
        hip: (2,) hip of the same side.
        facing: +1 when the toes point to +x in the mask's coordinates, -1 otherwise.

    Returns:
        (2,) unit vector.
    """
    up = np.asarray(shoulder, np.float64) - np.asarray(hip, np.float64)
    up /= np.linalg.norm(up)
    return float(np.sign(facing)) * np.array([up[1], -up[0]])


def facing_from_foot(heel: np.ndarray, toe: np.ndarray) -> int:
    """+1 when the foot (heel -> toe) points to +x, else -1 (any coordinates)."""
    return 1 if float(toe[0]) - float(heel[0]) >= 0 else -1


def _ray_depths(
    closed: np.ndarray, origins: np.ndarray, normal: np.ndarray, torso: float, c: BackConfig
) -> npt.NDArray[np.float64]:
    """Pixels from each origin to where the mask ends along `normal` (NaN: no edge)."""
    steps = np.arange(0.0, c.max_depth * torso + c.step_px, c.step_px)
    values = _bilinear(closed, origins[:, None, :] + steps[None, :, None] * normal)
    inside = values >= c.threshold
    depths = np.full(len(origins), np.nan)
    for ray, row in enumerate(inside):
        if not row[0] or row.all():
            continue  # starts outside the mask, or never leaves it within max_depth
        k = int(np.argmin(row))  # first sample outside
        before, after = float(values[ray, k - 1]), float(values[ray, k])
        frac = (before - c.threshold) / max(before - after, 1e-9)
        depths[ray] = steps[k - 1] + frac * c.step_px
    return depths


def _fill_missing(t: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Fills NaN rays by linear interpolation over t (the ends must be present)."""
    good = ~np.isnan(depths)
    return np.interp(t, t[good], depths[good])


def _smooth(values: np.ndarray) -> np.ndarray:
    """Smooths along the edge with [1, 2, 1] / 4.

    The ends are extended linearly so that a straight edge stays exactly straight
    (repeating the end values would bend it).
    """
    ext = np.concatenate([[2 * values[0] - values[1]], values, [2 * values[-1] - values[-2]]])
    return (ext[:-2] + 2 * ext[1:-1] + ext[2:]) / 4.0


def _rejected(reason: str, torso: float, t: np.ndarray, depths: np.ndarray) -> BackMeasure:
    nan2 = np.full((len(t), 2), np.nan)
    return BackMeasure(False, reason, torso, t, depths, nan2, np.full(len(t), np.nan))


def measure_back(
    probability: np.ndarray,
    shoulder: np.ndarray,
    hip: np.ndarray,
    facing: int,
    config: BackConfig | None = None,
) -> BackMeasure:
    """Finds the dorsal edge between shoulder and hip and measures its shape.

    Args:
        probability: (H, W) person-mask probability (the sigmoid of the logits).
        shoulder: (2,) shoulder landmark of the side facing the camera, mask coordinates.
        hip: (2,) hip landmark of the same side.
        facing: +1 when the athlete faces +x in the mask's coordinates, -1 for -x
            (`facing_from_foot` gives it from heel and toe).
        config: Ray and rejection settings (defaults: `BackConfig()`).

    Returns:
        The measure; `valid` is False, with the reason, when the edge is not measurable.
    """
    c = config or BackConfig()
    shoulder = np.asarray(shoulder, np.float64)
    hip = np.asarray(hip, np.float64)
    torso = float(np.linalg.norm(shoulder - hip))
    t = np.linspace(c.t_first, c.t_last, c.rays)
    if not np.isfinite(torso) or torso < c.min_torso_px:
        return _rejected("short_torso", torso, t, np.full(c.rays, np.nan))
    normal = back_normal(shoulder, hip, facing)
    origins = shoulder + t[:, None] * (hip - shoulder)
    closed = close_mask(probability, c.close_radius_px)
    raw = _ray_depths(closed, origins, normal, torso, c) / torso
    missing = np.isnan(raw)
    if missing.sum() > c.max_missing or missing[0] or missing[-1]:
        return _rejected("mask_missing", torso, t, raw)
    filled = _fill_missing(t, raw)
    if np.max(np.abs(np.diff(filled))) > c.max_step:
        return _rejected("jump", torso, t, raw)
    depth = _smooth(filled)
    points = origins + (depth * torso)[:, None] * normal
    return _shape(torso, t, depth, points, normal)


def _shape(
    torso: float, t: np.ndarray, depth: np.ndarray, points: np.ndarray, normal: np.ndarray
) -> BackMeasure:
    """The bulge, arch and curvature of an accepted edge."""
    start, end = points[0], points[-1]
    along = (end - start) / np.linalg.norm(end - start)
    across = np.array([-along[1], along[0]])
    across = across if across @ normal >= 0 else -across  # positive = out of the back
    signed = (points - start) @ across / torso
    x = (points - start) @ along / torso
    upper, lower = t < UPPER_LOWER_SPLIT, t >= UPPER_LOWER_SPLIT
    quadratic = float(np.polyfit(x, signed, 2)[0])
    return BackMeasure(
        valid=True,
        reason="ok",
        torso_px=torso,
        t=t,
        depth=depth,
        points=points,
        signed=signed,
        bulge=float(signed.max()),
        bulge_upper=float(signed[upper].max()),
        bulge_lower=float(signed[lower].max()),
        arch=float(-signed[lower].min()) + 0.0,  # + 0.0: no "-0.0" when nothing dips
        curvature=-2.0 * quadratic,
    )


_SHOULDER, _HIP, _HEEL, _TOE = 11, 23, 29, 31  # BlazePose, left side; right = index + 1


def athlete_back(mask: CropMask, xy: np.ndarray) -> BackMeasure:
    """The back of the athlete in a masked frame: the edge on the side facing the camera.

    The facing comes from the feet (heel -> toe, summed over both: the feet stay put
    through a rep): facing image +x, an unmirrored athlete shows the camera their right
    side. Shoulder and hip are mapped into the mask's crop, where the edge is found.

    Args:
        mask: The crop's person mask (`PoseEstimator.process_with_mask`).
        xy: (33, 2) the athlete's landmarks in the image (BlazePose order).
    """
    foot = (xy[_TOE] - xy[_HEEL]) + (xy[_TOE + 1] - xy[_HEEL + 1])
    side = 1 if foot[0] >= 0 else 0
    crop = mask.to_crop(xy)
    hip = crop[_HIP + side]
    ahead = mask.to_crop((xy[_HIP + side] + foot)[None])[0] - hip  # facing, in the crop
    facing = 1 if ahead[0] >= 0 else -1
    return measure_back(mask.probability(), crop[_SHOULDER + side], hip, facing)


@dataclass(frozen=True)
class BackOutline:
    """A measured back, as the engine takes it and as a picture draws it.

    Attributes:
        shape: What the hinge engine scores (`HingeScorer.update(back=...)`).
        edge_xy: (rays, 2) the dorsal edge in image pixels, shoulder end first; its first
            and last points are the ends of the chord the bulge is measured against.
        signed: (rays,) how far each edge point lies behind that chord, torso fractions
            (positive rounds out).
    """

    shape: BackShape
    edge_xy: npt.NDArray[np.float64]
    signed: npt.NDArray[np.float64]


def back_outline(mask: CropMask, xy: np.ndarray) -> BackOutline | None:
    """The athlete's back in a masked frame, in image pixels; None where not measurable."""
    measure = athlete_back(mask, xy)
    if not measure.valid:
        return None
    shape = BackShape(measure.bulge, measure.bulge_upper, measure.bulge_lower, measure.arch)
    return BackOutline(shape, mask.to_image(measure.points), measure.signed)


def pose_and_back(
    estimator: PoseStage, scorer: HingeScorer | None, image: np.ndarray, t_s: float
) -> tuple[Poses, BackOutline | None]:
    """One frame through the pose stage, with the mask model where the scorer asks for it.

    The back check (docs/back.md) runs only with a mask model loaded and on the frames
    `HingeScorer.wants_back` chooses; the mask model replaces the landmark pass there.
    """
    masker = getattr(estimator, "mask_model", None)
    if scorer is None or masker is None or not scorer.wants_back(t_s):
        return estimator.process(image, t_s), None
    poses, mask = estimator.process_with_mask(image, t_s)  # type: ignore[attr-defined]
    if mask is None or not len(poses):
        return poses, None
    return poses, back_outline(mask, poses.xy[0])
