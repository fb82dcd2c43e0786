"""Renders the synthetic athlete in a gym: a NumPy ray-caster plus OpenCV post-processing.

Each primitive is ray-cast only inside its projected bounding box, against one shared
depth buffer (ray distance), so the cost grows with the athlete's pixel area, not with
the number of primitives times the frame size. Shading is Lambert (key light) plus a
hemispherical ambient, a weak fill from the camera and a little Blinn-Phong specular.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.synth.appearance import Appearance, Material
from edge.synth.camera import Camera, Lens
from edge.synth.geometry import Vec, unit
from edge.synth.kinematics import Skeleton, forward_kinematics
from edge.synth.parts import body_parts
from edge.synth.posture import Posture
from edge.synth.primitives import Primitive, box_corners
from edge.synth.props import load_parts
from edge.synth.scene import Scene, Sensor, background
from edge.synth.shadow import floor_shadow
from edge.synth.shape import BodyShape

# How deep inside the body each landmark lies, as a fraction of height (about the local
# limb radius): a landmark is visible when the first surface on its ray is no nearer than
# this (plus a centimetre). Face points lie on the surface.
_LANDMARK_DEPTH = np.array(
    [0.008] * 11 + [0.045] * 2 + [0.030] * 2 + [0.022] * 2 + [0.020] * 6
    + [0.065] * 2 + [0.045] * 2 + [0.030] * 2 + [0.025] * 4
)  # fmt: skip
_SPECULAR_POWER = 24.0


@dataclass(frozen=True, eq=False)
class Rendered:
    """One rendered frame with its ground truth.

    Attributes:
        image: (H, W, 3) uint8 BGR.
        landmarks_px: (33, 2) BlazePose landmarks in continuous pixel coordinates.
        depth_m: (33,) landmark depth along the optical axis, metres.
        visible: (33,) bool: in the frame and not hidden behind the body or the load.
        mask: (H, W) bool: pixels showing the athlete's body (not the load).
        skeleton: The posed skeleton (world frame).
    """

    image: np.ndarray
    landmarks_px: Vec
    depth_m: Vec
    visible: np.ndarray
    mask: np.ndarray
    skeleton: Skeleton


@dataclass(frozen=True, eq=False)
class _Buffers:
    depth: Vec  # (H, W) float32 ray distance to the nearest surface, metres
    normal: Vec  # (H, W, 3) float32 unit normal of the body / load surface
    material: np.ndarray  # (H, W) int16 palette index, -1 for the background


def render(
    shape: BodyShape,
    posture: Posture,
    camera: Camera,
    appearance: Appearance | None = None,
    scene: Scene | None = None,
    rng: np.random.Generator | None = None,
) -> Rendered:
    """Renders the athlete in a posture, seen by a camera.

    Args:
        shape: Body dimensions.
        posture: Joint angles and placement.
        camera: The viewing camera (its lens sets the image size).
        appearance: Skin, clothes and hair; default `Appearance()`.
        scene: Gym, load and sensor; default `Scene()`.
        rng: Random generator for sensor noise; None uses a fixed seed (reproducible).

    Returns:
        The image and the landmarks' ground truth.
    """
    look, scene = appearance or Appearance(), scene or Scene()
    skeleton = forward_kinematics(shape, posture)
    body = body_parts(skeleton, shape, look)
    prims = body + load_parts(skeleton, scene.load)
    inner = _supersampled(camera, scene.sensor.supersample)
    rgb, buffers, floor = _background(inner, scene, skeleton)
    shadow = floor_shadow(body, inner, scene.light_unit)
    rgb *= 1.0 - np.where(floor, shadow, 0.0)[..., None]
    _rasterize(prims, inner, buffers)
    _shade(rgb, buffers, inner, look, scene)
    xy, depth = camera.project(skeleton.landmarks_m)
    visible = _visibility(skeleton, inner, buffers, xy * scene.sensor.supersample)
    mask = (buffers.material >= 0) & (buffers.material <= Material.EYE)
    image, mask = _finish(rgb, mask, camera, scene.sensor, rng)
    return Rendered(image, xy, depth, visible, mask, skeleton)


def _supersampled(camera: Camera, factor: int) -> Camera:
    if factor == 1:
        return camera
    lens = camera.lens
    big = Lens(lens.width_px * factor, lens.height_px * factor, lens.focal_px * factor)
    return Camera(big, camera.position_m, camera.rotation)


def _background(
    camera: Camera, scene: Scene, skeleton: Skeleton
) -> tuple[Vec, _Buffers, np.ndarray]:
    ahead = unit(camera.rotation[2] * np.array([1.0, 0.0, 1.0]))
    athlete = float((skeleton.pelvis_m - camera.position_m) @ ahead)
    rgb, t, floor = background(scene, camera, athlete + scene.wall_gap_m)
    shape = t.shape
    buffers = _Buffers(t, np.zeros((*shape, 3), np.float32), np.full(shape, -1, np.int16))
    return rgb, buffers, floor


def _pixel_box(prim: Primitive, camera: Camera) -> tuple[int, int, int, int] | None:
    """(row0, row1, col0, col1) of the pixels a primitive may cover, or None if none."""
    xy, depth = camera.project(box_corners(*prim.bounds()))
    if (depth <= 0.05).any():
        return 0, camera.height_px, 0, camera.width_px
    lo, hi = np.floor(xy.min(axis=0)), np.ceil(xy.max(axis=0))
    c0, r0 = max(0, int(lo[0])), max(0, int(lo[1]))
    c1, r1 = min(camera.width_px, int(hi[0])), min(camera.height_px, int(hi[1]))
    return (r0, r1, c0, c1) if r1 > r0 and c1 > c0 else None


def _rasterize(prims: list[Primitive], camera: Camera, buf: _Buffers) -> None:
    """Ray-casts each primitive in its pixel box and keeps the nearest surface."""
    for prim in prims:
        box = _pixel_box(prim, camera)
        if box is None:
            continue
        r0, r1, c0, c1 = box
        x, y = np.meshgrid(np.arange(c0, c1) + 0.5, np.arange(r0, r1) + 0.5)
        t, normal = prim.hit(camera.position_m, camera.rays(x.ravel(), y.ravel()))
        nearer = np.flatnonzero(t < buf.depth[r0:r1, c0:c1].ravel())
        if nearer.size == 0:
            continue
        rows, cols = np.divmod(nearer, c1 - c0)
        rows += r0
        cols += c0
        buf.depth[rows, cols] = t[nearer]
        buf.normal[rows, cols] = normal[nearer]
        buf.material[rows, cols] = prim.material


def _shade(rgb: Vec, buf: _Buffers, camera: Camera, look: Appearance, scene: Scene) -> None:
    """Lights the body and load pixels in place."""
    where = buf.material >= 0
    albedo, specular = look.palette()
    albedo[Material.PLATE] = scene.plate_rgb
    material = buf.material[where]
    rows, cols = np.nonzero(where)
    n, view = buf.normal[where], -camera.rays(cols + 0.5, rows + 0.5)
    light = scene.light_unit
    diffuse = np.clip(n @ light, 0.0, None)
    ambient = scene.ambient * (0.78 + 0.22 * n[:, 1])
    fill = 0.18 * np.clip(np.einsum("ij,ij->i", n, view), 0.0, None)
    half = unit(view + light)
    glint = np.clip(np.einsum("ij,ij->i", n, half), 0.0, None) ** _SPECULAR_POWER
    lit = albedo[material] * (ambient + scene.light * diffuse + fill)[:, None]
    rgb[where] = lit + (specular[material] * glint * scene.light)[:, None]


def _visibility(skeleton: Skeleton, camera: Camera, buf: _Buffers, xy: Vec) -> np.ndarray:
    """True for landmarks inside the image whose ray meets no surface well in front of them."""
    lm = skeleton.landmarks_m
    _, depth = camera.project(lm)
    col, row = np.floor(xy[:, 0]).astype(int), np.floor(xy[:, 1]).astype(int)
    inside = (depth > 0) & (col >= 0) & (col < camera.width_px)
    inside &= (row >= 0) & (row < camera.height_px)
    seen = buf.depth[np.clip(row, 0, camera.height_px - 1), np.clip(col, 0, camera.width_px - 1)]
    distance = np.linalg.norm(lm - camera.position_m, axis=1)
    slack = _LANDMARK_DEPTH * skeleton.height_m + 0.01
    return inside & (seen >= distance - slack)


def _finish(
    rgb: Vec, mask: np.ndarray, camera: Camera, sensor: Sensor, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Downsamples, vignettes and applies the sensor's artefacts; returns (BGR uint8, mask)."""
    size = (camera.width_px, camera.height_px)
    if rgb.shape[1] != camera.width_px:
        rgb = cv2.resize(rgb.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
    if sensor.vignette > 0:
        x = (np.arange(camera.width_px, dtype=np.float32) + 0.5) / camera.width_px - 0.5
        y = (np.arange(camera.height_px, dtype=np.float32) + 0.5) / camera.height_px - 0.5
        falloff = 1.0 - np.float32(2.0 * sensor.vignette) * (x[None, :] ** 2 + y[:, None] ** 2)
        rgb = rgb * falloff[..., None]
    bgr = np.ascontiguousarray(rgb[..., ::-1], dtype=np.float32) * np.float32(255.0)
    if sensor.blur_sigma_px > 0:
        bgr = cv2.GaussianBlur(bgr, (0, 0), sensor.blur_sigma_px)
    if sensor.noise_sigma > 0:
        gen = rng if rng is not None else np.random.default_rng(0)
        noise = gen.standard_normal(bgr.shape, dtype=np.float32)
        bgr += np.float32(sensor.noise_sigma) * noise
    image = np.clip(bgr + 0.5, 0, 255).astype(np.uint8)
    if sensor.jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, sensor.jpeg_quality])
        if ok:
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image, mask
