"""The gym around the athlete: back wall, rubber floor, lights, load and camera sensor.

The background is ray-cast per pixel like the body: the floor is the plane y = 0 and the
wall is a vertical plane facing the camera, `wall_gap_m` behind the athlete. Textures
are procedural (integer hashes of texture cells), so a scene renders identically every
time without a random generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from edge.synth.appearance import RGB
from edge.synth.camera import Camera
from edge.synth.geometry import Vec, unit

Load = Literal["none", "barbell", "kettlebell"]
_WALLS = np.array([[205, 203, 196], [225, 225, 222], [180, 185, 190], [200, 190, 170]]) / 255.0
_STRIPES = np.array([[170, 30, 35], [30, 70, 140], [230, 180, 30], [40, 40, 45]]) / 255.0
_FLOORS = np.array([[40, 40, 43], [32, 33, 36], [55, 55, 58], [45, 38, 36]]) / 255.0
_PLATES = np.array([[20, 20, 22], [160, 30, 35], [30, 70, 160], [35, 120, 60]]) / 255.0


@dataclass(frozen=True)
class Sensor:
    """Camera artefacts applied after rendering.

    Attributes:
        noise_sigma: Standard deviation of additive Gaussian sensor noise, 8-bit levels.
        blur_sigma_px: Gaussian blur (lens softness, motion), pixels; 0 for none.
        jpeg_quality: Re-encode as JPEG at this quality (1-100); None for none.
        supersample: Render at this many times the resolution and downsample
            (anti-aliasing; costs its square in time).
        vignette: Brightness lost in the image corners, fraction.
    """

    noise_sigma: float = 0.0
    blur_sigma_px: float = 0.0
    jpeg_quality: int | None = None
    supersample: int = 1
    vignette: float = 0.15


@dataclass(frozen=True)
class Scene:
    """A simple gym corner (colours RGB in [0, 1]).

    Attributes:
        wall: "block" (painted concrete blocks, running bond) or "paint" (plain).
        wall_rgb: Wall paint colour.
        stripe_rgb: Colour of a painted band at 1.0-1.3 m on the wall, or None.
        floor_rgb: Rubber floor colour.
        fleck_rgb: Colour of the rubber floor's flecks.
        wall_gap_m: Horizontal distance from the athlete to the wall, metres.
        light_dir: Direction towards the key light (world frame, need not be unit).
        light: Key light strength.
        ambient: Ambient (sky) light strength.
        load: What the hands hold: "none", "barbell" or "kettlebell".
        plate_rgb: Colour of the barbell's plates.
        sensor: Camera artefacts.
    """

    wall: Literal["block", "paint"] = "block"
    wall_rgb: RGB = (0.80, 0.79, 0.76)
    stripe_rgb: RGB | None = None
    floor_rgb: RGB = (0.16, 0.16, 0.17)
    fleck_rgb: RGB = (0.40, 0.41, 0.43)
    wall_gap_m: float = 2.5
    light_dir: tuple[float, float, float] = (0.3, 1.0, 0.35)
    light: float = 0.6
    ambient: float = 0.45
    load: Load = "none"
    plate_rgb: RGB = (0.08, 0.08, 0.09)
    sensor: Sensor = field(default_factory=Sensor)

    @classmethod
    def sample(cls, rng: np.random.Generator, load: Load | None = None) -> Scene:
        """Draws a plausible gym: wall, floor, light and sensor; `load` None picks one."""
        light = (rng.uniform(-0.6, 0.6), 1.0, rng.uniform(-0.6, 0.6))
        sensor = Sensor(
            noise_sigma=float(rng.uniform(0.0, 4.0)),
            blur_sigma_px=float(rng.choice([0.0, 0.5, 0.8])),
            jpeg_quality=int(rng.integers(60, 95)) if rng.random() < 0.7 else None,
            vignette=float(rng.uniform(0.0, 0.3)),
        )
        loads: tuple[Load, ...] = ("none", "barbell", "kettlebell")
        return cls(
            wall="block" if rng.random() < 0.6 else "paint",
            wall_rgb=_pick(rng, _WALLS),
            stripe_rgb=_pick(rng, _STRIPES) if rng.random() < 0.3 else None,
            floor_rgb=_pick(rng, _FLOORS),
            wall_gap_m=float(rng.uniform(1.5, 4.0)),
            light_dir=light,
            light=float(rng.uniform(0.45, 0.7)),
            ambient=float(rng.uniform(0.35, 0.55)),
            load=load or loads[int(rng.choice(3, p=[0.3, 0.5, 0.2]))],
            plate_rgb=_pick(rng, _PLATES),
            sensor=sensor,
        )

    @property
    def light_unit(self) -> Vec:
        """Unit vector towards the key light."""
        return unit(self.light_dir)


def _pick(rng: np.random.Generator, colours: Vec) -> RGB:
    c = colours[rng.integers(len(colours))]
    return (float(c[0]), float(c[1]), float(c[2]))


def hash01(i: np.ndarray, j: np.ndarray, seed: int = 0) -> np.ndarray:
    """A deterministic pseudo-random value in [0, 1) per integer cell (i, j)."""
    a = i.astype(np.int64).astype(np.uint32)
    b = j.astype(np.int64).astype(np.uint32)
    h = a * np.uint32(73856093) ^ b * np.uint32(19349663) ^ np.uint32(seed * 83492791 + 1)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0x5BD1E995)
    h ^= h >> np.uint32(15)
    return h.astype(np.float32) * np.float32(2.0**-32)


def background(scene: Scene, camera: Camera, wall_distance_m: float) -> tuple[Vec, Vec, Vec]:
    """Ray-casts the floor and the wall for every pixel.

    The ray through pixel (u, v) is linear in u and v, so the hit points are computed
    from broadcast row and column terms without building an (H, W, 3) ray array.

    Args:
        scene: The gym.
        camera: The render camera.
        wall_distance_m: Distance from the camera to the wall along the camera's horizontal
            viewing direction, metres.

    Returns:
        `(rgb, t, floor)`: (H, W, 3) float32 lit colours in [0, 1], (H, W) ray distance to
        the surface seen, metres, and (H, W) bool, true where that surface is the floor.
    """
    rot, origin = camera.rotation, camera.position_m
    xn = _normalised_coords(camera.width_px, camera.focal_px)[None, :]
    yn = _normalised_coords(camera.height_px, camera.focal_px)[:, None]
    # World components of the (unnormalised) ray (xn, yn, 1) in camera coordinates.
    r = [[float(v) for v in row] for row in rot]
    d = [r[0][k] * xn + r[1][k] * yn + r[2][k] for k in range(3)]
    ahead = unit(rot[2] * np.array([1.0, 0.0, 1.0]))
    towards_wall = ahead[0] * d[0] + ahead[2] * d[2]
    gap = wall_distance_m - float(origin @ ahead)
    t_floor = np.where(d[1] < -1e-6, -float(origin[1]) / np.minimum(d[1], -1e-6), np.inf)
    t_wall = np.where(towards_wall > 1e-6, gap / np.maximum(towards_wall, 1e-6), 1e3)
    floor = t_floor < t_wall
    param = np.minimum(t_floor, t_wall)
    hit = [float(origin[k]) + param * d[k] for k in range(3)]
    rgb = np.empty((*floor.shape, 3), np.float32)
    light = scene.light_unit
    rows = np.flatnonzero(floor.any(axis=1))
    if rows.size:
        lo = rows[0]
        lit = scene.ambient + scene.light * light[1]
        rgb[lo:] = _floor_texture(scene, hit[0][lo:], hit[2][lo:]) * lit
    rows = np.flatnonzero((~floor).any(axis=1))
    if rows.size:
        hi = rows[-1] + 1
        across = hit[0][:hi] * ahead[2] - hit[2][:hi] * ahead[0]
        lit = scene.ambient + scene.light * max(0.0, float(-ahead @ light))
        wall = _wall_texture(scene, across, hit[1][:hi]) * lit
        rgb[:hi] = np.where(floor[:hi, :, None], rgb[:hi], wall)
    t = param * np.sqrt(xn * xn + yn * yn + 1.0)
    return np.clip(rgb, 0.0, 1.0), t, floor


def _normalised_coords(size_px: int, focal_px: float) -> Vec:
    """Pixel-centre coordinates relative to the principal point, divided by the focal length."""
    centres = np.arange(size_px, dtype=np.float32) + np.float32(0.5 - size_px / 2)
    return centres / np.float32(focal_px)


def _floor_texture(scene: Scene, x: Vec, z: Vec) -> Vec:
    """Rubber tiles (1 m, dark seams, per-tile shade) with sparse coloured flecks."""
    ix, iz = np.floor(x), np.floor(z)
    shade = 1.0 + 0.08 * (hash01(ix, iz, 1) - 0.5)
    seam = (x - ix < 0.004) | (z - iz < 0.004)
    shade = np.where(seam, 0.6, shade)
    grain = hash01(np.floor(x / 0.005), np.floor(z / 0.005), 2)
    base = np.asarray(scene.floor_rgb, np.float32) * (shade * (0.9 + 0.2 * grain))[..., None]
    fleck = (grain > 0.94)[..., None]
    return np.where(fleck, np.asarray(scene.fleck_rgb, np.float32), base)


def _wall_texture(scene: Scene, s: Vec, y: Vec) -> Vec:
    """Painted blocks (0.4 x 0.2 m, running bond) or plain paint, with a rubber skirting."""
    grain = hash01(np.floor(s / 0.006), np.floor(y / 0.006), 3)
    shade = 0.97 + 0.06 * grain
    if scene.wall == "block":
        row = np.floor(y / 0.2)
        shifted = s + 0.2 * (row % 2)
        col = np.floor(shifted / 0.4)
        mortar = (y - row * 0.2 < 0.01) | (shifted - col * 0.4 < 0.01)
        shade = shade * (1.0 + 0.07 * (hash01(row, col, 4) - 0.5))
        shade = np.where(mortar, 0.8, shade)
    paint = np.asarray(scene.wall_rgb, np.float32)
    colour = np.broadcast_to(paint, (*s.shape, 3))
    if scene.stripe_rgb is not None:
        band = ((y > 1.0) & (y < 1.3))[..., None]
        colour = np.where(band, np.asarray(scene.stripe_rgb, np.float32), colour)
    skirting = (y < 0.12)[..., None]
    colour = np.where(skirting, np.float32(0.18), colour)
    return (colour * shade[..., None]).astype(np.float32)
