"""Where other people may stand or walk: the camera's floor axes and floor footprints.

Positions are given in the camera's terms, relative to the athlete: `depth_m` along the
camera's horizontal viewing direction (negative: between the camera and the athlete,
positive: behind them) and `across_m` along the image's horizontal axis (positive to the
right of the picture). Everyone occupies a rectangle of floor (a `Footprint`); people
are placed so that no two rectangles overlap, so nobody walks through a barbell.
Pure NumPy.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.synth.camera import Camera
from edge.synth.geometry import Vec
from edge.synth.scene import Load

WALKER_HALF_WIDTH_M = 0.35  # half the floor width a walker sweeps (shoulders, swinging arms)
_BAR_HALF_M = 1.2  # a loaded barbell reaches this far to either side of the lifter
_BODY_HALF_M = 0.45
_REACH_M = {"swing": 0.8}  # forward / back reach of the lifter and their load
_DEFAULT_REACH_M = 0.6
MIN_CAMERA_GAP_M = 1.0  # nobody comes nearer the camera than this (horizontally)
OFF_PICTURE_M = 0.6  # a walker's pelvis this far beyond the picture's edge is out of it


@dataclass(frozen=True, eq=False)
class Stage:
    """What the others are placed around: the camera, the athlete and the clip's frames.

    Attributes:
        camera: The clip's camera.
        athlete_xz_m: (2,) floor point (x, z) under the athlete's pelvis at the start.
        yaw_deg: The athlete's facing (`Posture.yaw_deg`).
        load: What the athlete holds.
        exercise: What the athlete does.
        times_s: Frame times of the clip, seconds.
    """

    camera: Camera
    athlete_xz_m: Vec
    yaw_deg: float
    load: Load
    exercise: str
    times_s: Sequence[float]

    @property
    def duration_s(self) -> float:
        """Time of the last frame, seconds."""
        return float(self.times_s[-1]) if len(self.times_s) else 0.0

    @property
    def fps(self) -> float:
        """Frames per second."""
        if len(self.times_s) < 2:
            return 30.0
        return round(1.0 / float(self.times_s[1] - self.times_s[0]), 6)

    @property
    def right_xz(self) -> Vec:
        """(2,) unit floor direction of the image's right."""
        right = self.camera.rotation[0]
        return _unit2(np.array([right[0], right[2]]))

    @property
    def ahead_xz(self) -> Vec:
        """(2,) unit floor direction the camera looks along."""
        forward = self.camera.rotation[2]
        return _unit2(np.array([forward[0], forward[2]]))

    @property
    def athlete_distance_m(self) -> float:
        """Horizontal distance from the camera to the athlete along the view, metres."""
        camera_xz = self.camera.position_m[[0, 2]]
        return float((self.athlete_xz_m - camera_xz) @ self.ahead_xz)

    def at(self, across_m: float, depth_m: float) -> Vec:
        """(2,) floor point (x, z) at a place given in the camera's terms."""
        return self.athlete_xz_m + across_m * self.right_xz + depth_m * self.ahead_xz

    def half_width_m(self, depth_m: float) -> float:
        """Half the width the picture spans at a depth (relative to the athlete), metres."""
        distance = self.athlete_distance_m + depth_m
        return distance * 0.5 * self.camera.width_px / self.camera.focal_px


@dataclass(frozen=True, eq=False)
class Footprint:
    """A rectangle of floor someone occupies.

    Attributes:
        name: Who (for error messages).
        centre_xz_m: (2,) centre, metres.
        along_xz: (2,) unit direction of its first side.
        half_along_m: Half its length along `along_xz`.
        half_across_m: Half its length across.
    """

    name: str
    centre_xz_m: Vec
    along_xz: Vec
    half_along_m: float
    half_across_m: float

    def radius_along(self, axis: Vec) -> float:
        """Half the rectangle's extent along a unit floor direction."""
        across = np.array([-self.along_xz[1], self.along_xz[0]])
        return self.half_along_m * abs(float(self.along_xz @ axis)) + self.half_across_m * abs(
            float(across @ axis)
        )

    def clear_of(self, other: Footprint, gap_m: float = 0.1) -> bool:
        """True when the rectangles are at least `gap_m` apart along some axis."""
        offset = other.centre_xz_m - self.centre_xz_m
        for fp in (self, other):
            for axis in (fp.along_xz, np.array([-fp.along_xz[1], fp.along_xz[0]])):
                reach = self.radius_along(axis) + other.radius_along(axis) + gap_m
                if abs(float(offset @ axis)) > reach:
                    return True
        return False


def lifter_footprint(
    name: str, centre_xz_m: Vec, yaw_deg: float, load: Load, exercise: str
) -> Footprint:
    """The floor a lifter and their load take (a barbell reaches 1.2 m to each side)."""
    angle = math.radians(yaw_deg)
    left = np.array([math.cos(angle), -math.sin(angle)])  # the lifter's left on the floor
    half_side = _BAR_HALF_M if load == "barbell" else _BODY_HALF_M
    reach = _REACH_M.get(exercise, _DEFAULT_REACH_M)
    return Footprint(name, np.asarray(centre_xz_m, float), left, half_side, reach)


def first_clash(footprint: Footprint, taken: Sequence[Footprint]) -> Footprint | None:
    """The first of `taken` that `footprint` overlaps, or None."""
    return next((fp for fp in taken if not footprint.clear_of(fp)), None)


def wall_gap_needed_m(stage: Stage, footprints: Sequence[Footprint]) -> float:
    """The least wall distance behind the athlete that leaves everyone in front of it."""
    ahead = stage.ahead_xz
    far = [
        float((fp.centre_xz_m - stage.athlete_xz_m) @ ahead) + fp.radius_along(ahead)
        for fp in footprints
    ]
    return max(far, default=0.0) + 0.6


def check_place(fp: Footprint, taken: Sequence[Footprint], stage: Stage) -> None:
    """Refuses an explicit placement that clashes or comes too near the camera."""
    clash = first_clash(fp, taken)
    if clash is not None:
        ahead = stage.ahead_xz
        depth = float((clash.centre_xz_m - stage.athlete_xz_m) @ ahead)
        need = clash.radius_along(ahead) + fp.radius_along(ahead) + 0.1
        raise ValueError(
            f"{fp.name} would stand or walk on {clash.name}'s floor (a barbell reaches 1.2 m "
            f"to each side): in this view keep depth_m at least {need:.2f} m from {depth:.2f}, "
            "or move them further to the side"
        )
    nearest = float((fp.centre_xz_m - stage.camera.position_m[[0, 2]]) @ stage.ahead_xz)
    nearest -= fp.radius_along(stage.ahead_xz)
    if nearest < MIN_CAMERA_GAP_M:
        raise ValueError(
            f"{fp.name} would come within {MIN_CAMERA_GAP_M} m of the camera (the athlete is "
            f"{stage.athlete_distance_m:.1f} m from it): use a less negative depth_m"
        )


def walker_lane(stage: Stage, depth_m: float, leftward: bool, name: str) -> tuple[Footprint, float]:
    """A walker's lane across the whole picture and beyond, and its half length."""
    half = stage.half_width_m(depth_m) + OFF_PICTURE_M
    direction = -stage.right_xz if leftward else stage.right_xz
    return Footprint(name, stage.at(0.0, depth_m), direction, half, WALKER_HALF_WIDTH_M), half


def draw_lane(
    rng: np.random.Generator, stage: Stage, taken: list[Footprint]
) -> tuple[float, float, float, bool]:
    """A free lane for a passer-by, in the picture at some time during the clip.

    Returns:
        `(depth_m, enter_s, speed_m_s, leftward)`.
    """
    nearest = MIN_CAMERA_GAP_M + WALKER_HALF_WIDTH_M - stage.athlete_distance_m
    speed, leftward = float(rng.uniform(1.2, 1.5)), bool(rng.random() < 0.5)
    depth = None
    for _ in range(100):
        front = nearest < -0.5 and rng.random() < 0.5
        trial = float(rng.uniform(nearest, -0.5) if front else rng.uniform(0.5, 3.0))
        if first_clash(walker_lane(stage, trial, leftward, "")[0], taken) is None:
            depth = trial
            break
    if depth is None:  # every lane tried is taken: walk behind everyone
        depth = behind_everyone_m(stage, taken) + WALKER_HALF_WIDTH_M + 0.2
    crossing = 2.0 * (stage.half_width_m(depth) + OFF_PICTURE_M) / speed
    latest = max(-0.5 * crossing, stage.duration_s - 0.5 * crossing)
    return depth, float(rng.uniform(-0.5 * crossing, latest)), speed, leftward


def draw_platform(
    rng: np.random.Generator, stage: Stage, taken: list[Footprint], lifter: Footprint
) -> tuple[float, float]:
    """A free platform 1.5-3 m to the side or behind, mostly inside the picture.

    Args:
        rng: Draws the place.
        stage: The camera and the athlete.
        taken: Floor already taken.
        lifter: The lifter's footprint (its centre is ignored: only its size counts).

    Returns:
        `(across_m, depth_m)`.
    """
    sign = 1.0 if rng.random() < 0.5 else -1.0
    for _ in range(100):
        beside = rng.random() < 0.6
        across = sign * float(rng.uniform(1.5, 3.0) if beside else rng.uniform(0.6, 1.8))
        depth = float(rng.uniform(-0.3, 1.0) if beside else rng.uniform(1.5, 3.0))
        moved = dataclasses.replace(lifter, centre_xz_m=stage.at(across, depth))
        inside = abs(across) + 0.4 <= stage.half_width_m(depth)
        if inside and first_clash(moved, taken) is None:
            return across, depth
    # No free place beside: stand behind everyone.
    depth = behind_everyone_m(stage, taken) + lifter.radius_along(stage.ahead_xz) + 0.1
    return sign * min(1.5, 0.6 * stage.half_width_m(depth)), depth


def behind_everyone_m(stage: Stage, taken: Sequence[Footprint]) -> float:
    """Depth (relative to the athlete) just behind the furthest floor taken."""
    ahead = stage.ahead_xz
    return max(
        float((fp.centre_xz_m - stage.athlete_xz_m) @ ahead) + fp.radius_along(ahead)
        for fp in taken
    )


def _unit2(v: Vec) -> Vec:
    return v / max(float(np.linalg.norm(v)), 1e-9)
