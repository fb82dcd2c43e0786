"""Renders the synthetic athlete in a gym: a NumPy ray-caster plus OpenCV post-processing.

Each primitive is ray-cast only inside its projected bounding box, against one shared
depth buffer (ray distance), so the cost grows with the people's pixel area, not with
the number of primitives times the frame size. Shading is Lambert (key light) plus a
hemispherical ambient, a weak fill from the camera and a little Blinn-Phong specular.

Several people share the depth buffer (so they hide each other correctly) and the floor
shadow; each has their own palette: person k's surfaces use the palette indices
`k * len(Material) + Material.X`, person 0 being the athlete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.synth.appearance import Appearance, Material
from edge.synth.camera import Camera, Lens
from edge.synth.geometry import Vec, unit
from edge.synth.kinematics import Skeleton
from edge.synth.parts import body_parts
from edge.synth.person import Person
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
_MATERIALS = len(Material)  # palette entries per person
PixelBox = tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class PersonView:
    """Where another person (not the athlete) appears in a rendered frame.

    Attributes:
        landmarks_px: (33, 2) their BlazePose landmarks in continuous pixel coordinates.
        depth_m: (33,) landmark depth along the optical axis, metres.
        visible: (33,) bool: in the frame and not hidden (by themselves or anyone else).
        box_px: `(x0, y0, x1, y1)` integer pixel box of their visible body pixels (x1, y1
            exclusive; their load excluded), or None when none of them shows.
        area_px: How many pixels show their body.
    """

    landmarks_px: Vec
    depth_m: Vec
    visible: np.ndarray
    box_px: PixelBox | None
    area_px: int


@dataclass(frozen=True, eq=False)
class Rendered:
    """One rendered frame with its ground truth.

    Attributes:
        image: (H, W, 3) uint8 BGR.
        landmarks_px: (33, 2) BlazePose landmarks in continuous pixel coordinates.
        depth_m: (33,) landmark depth along the optical axis, metres.
        visible: (33,) bool: in the frame and not hidden behind the body, the load or
            another person.
        mask: (H, W) bool: pixels showing the athlete's body (not the load).
        skeleton: The posed skeleton (world frame).
        others: Where each other person appears, in the order they were given.
    """

    image: np.ndarray
    landmarks_px: Vec
    depth_m: Vec
    visible: np.ndarray
    mask: np.ndarray
    skeleton: Skeleton
    others: tuple[PersonView, ...] = ()


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
    scene = scene or Scene()
    athlete = Person.posed(shape, posture, appearance, scene.load)
    return render_people(athlete, camera, (), scene, rng)


def render_people(
    athlete: Person,
    camera: Camera,
    others: Sequence[Person] = (),
    scene: Scene | None = None,
    rng: np.random.Generator | None = None,
) -> Rendered:
    """Renders the athlete and other people in one frame, hiding each other correctly.

    The athlete holds `athlete.load` (`scene.load` is not used here); the wall stands
    `scene.wall_gap_m` behind the athlete, so keep the others in front of it.

    Args:
        athlete: The person the ground truth is about.
        camera: The viewing camera (its lens sets the image size).
        others: Passers-by, a second athlete...: drawn, shadowed and reported in `others`.
        scene: Gym and sensor; default `Scene()`.
        rng: Random generator for sensor noise; None uses a fixed seed (reproducible).

    Returns:
        The image, the athlete's ground truth and where the others appear.
    """
    scene = scene or Scene()
    people = [athlete, *others]
    bodies = [body_parts(p.skeleton, p.shape, p.appearance) for p in people]
    inner = _supersampled(camera, scene.sensor.supersample)
    rgb, buffers, floor = _background(inner, scene, athlete.skeleton)
    shadow = floor_shadow([prim for body in bodies for prim in body], inner, scene.light_unit)
    rgb *= 1.0 - np.where(floor, shadow, 0.0)[..., None]
    boxes = [
        _rasterize(body + load_parts(p.skeleton, p.load), inner, buffers, k * _MATERIALS)
        for k, (p, body) in enumerate(zip(people, bodies, strict=True))
    ]
    _shade(rgb, buffers, inner, _palette(people, scene), scene)
    factor = scene.sensor.supersample
    xy, depth = camera.project(athlete.skeleton.landmarks_m)
    visible = _visibility(athlete.skeleton, inner, buffers, xy * factor)
    views = tuple(
        _view(k, p.skeleton, camera, buffers, boxes[k], factor)
        for k, p in enumerate(people)
        if k > 0
    )
    mask = (buffers.material >= 0) & (buffers.material <= Material.EYE)
    image, mask = _finish(rgb, mask, camera, scene.sensor, rng)
    return Rendered(image, xy, depth, visible, mask, athlete.skeleton, views)


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


def _rasterize(
    prims: list[Primitive], camera: Camera, buf: _Buffers, offset: int = 0
) -> PixelBox | None:
    """Ray-casts each primitive in its pixel box and keeps the nearest surface.

    Returns:
        The union `(row0, row1, col0, col1)` of the primitives' pixel boxes, or None.
    """
    union: PixelBox | None = None
    for prim in prims:
        box = _pixel_box(prim, camera)
        if box is None:
            continue
        union = box if union is None else _union(union, box)
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
        buf.material[rows, cols] = prim.material + offset
    return union


def _union(a: PixelBox, b: PixelBox) -> PixelBox:
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def _palette(people: list[Person], scene: Scene) -> tuple[Vec, Vec]:
    """Every person's palette stacked: `(albedo (P * M, 3), specular (P * M,))`."""
    albedo, specular = [], []
    for person in people:
        colours, shine = person.appearance.palette()
        colours[Material.PLATE] = scene.plate_rgb
        albedo.append(colours)
        specular.append(shine)
    return np.concatenate(albedo), np.concatenate(specular)


def _shade(rgb: Vec, buf: _Buffers, camera: Camera, palette: tuple[Vec, Vec], scene: Scene) -> None:
    """Lights the body and load pixels in place (`palette` from `_palette`)."""
    where = buf.material >= 0
    albedo, specular = palette
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


def _view(
    k: int, skeleton: Skeleton, camera: Camera, buf: _Buffers, box: PixelBox | None, factor: int
) -> PersonView:
    """Where person k (palette block k) shows: landmarks, visibility and pixel box."""
    xy, depth = camera.project(skeleton.landmarks_m)
    visible = _visibility(skeleton, _supersampled(camera, factor), buf, xy * factor)
    if box is None:
        return PersonView(xy, depth, visible, None, 0)
    r0, r1, c0, c1 = box
    patch = buf.material[r0:r1, c0:c1]
    body = (patch >= k * _MATERIALS) & (patch <= k * _MATERIALS + Material.EYE)
    rows, cols = np.flatnonzero(body.any(axis=1)), np.flatnonzero(body.any(axis=0))
    if rows.size == 0:
        return PersonView(xy, depth, visible, None, 0)
    x0, x1 = (c0 + cols[0]) // factor, -(-(c0 + cols[-1] + 1) // factor)
    y0, y1 = (r0 + rows[0]) // factor, -(-(r0 + rows[-1] + 1) // factor)
    area = round(np.count_nonzero(body) / factor**2)
    return PersonView(xy, depth, visible, (int(x0), int(y0), int(x1), int(y1)), area)


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
