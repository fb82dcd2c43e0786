"""Solid primitives the renderer draws: tapered capsules, ellipsoids and cylinders.

Each primitive knows its world-space bounding box (for finding the pixels it may cover)
and how rays hit it (`edge.synth.raycast`). Positions are world metres; `material`
indexes the renderer's palette (`edge.synth.appearance.Material`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.synth import raycast
from edge.synth.geometry import Vec


@dataclass(frozen=True, eq=False)
class Capsule:
    """A tapered capsule (a limb segment).

    Spheres of radius ra at a and rb at b, joined by the cone tangent to both.

    Attributes:
        a: (3,) first end centre, metres.
        b: (3,) second end centre, metres.
        ra: Radius at a, metres.
        rb: Radius at b, metres.
        material: Palette index.
    """

    a: Vec
    b: Vec
    ra: float
    rb: float
    material: int

    def bounds(self) -> tuple[Vec, Vec]:
        """World-space axis-aligned bounding box (lo, hi)."""
        lo = np.minimum(self.a - self.ra, self.b - self.rb)
        hi = np.maximum(self.a + self.ra, self.b + self.rb)
        return lo, hi

    def hit(self, o: Vec, d: Vec) -> tuple[Vec, Vec]:
        """Ray hits: (t (N,), normals (N, 3)); see `edge.synth.raycast`."""
        return raycast.round_cone(o, d, self.a, self.b, self.ra, self.rb)


@dataclass(frozen=True, eq=False)
class Ellipsoid:
    """An oriented ellipsoid (head, hands, shoes, kettlebell).

    Attributes:
        centre: (3,) centre, metres.
        axes: (3, 3) unit axes as columns.
        semi: (3,) semi-axis lengths along those columns, metres.
        material: Palette index.
    """

    centre: Vec
    axes: Vec
    semi: Vec
    material: int

    def bounds(self) -> tuple[Vec, Vec]:
        """World-space axis-aligned bounding box (lo, hi)."""
        extent = np.sqrt(((self.axes * self.semi) ** 2).sum(axis=1))
        return self.centre - extent, self.centre + extent

    def hit(self, o: Vec, d: Vec) -> tuple[Vec, Vec]:
        """Ray hits: (t (N,), normals (N, 3)); see `edge.synth.raycast`."""
        return raycast.ellipsoid(o, d, self.centre, self.axes, self.semi)


@dataclass(frozen=True, eq=False)
class Cylinder:
    """A closed cylinder (barbell plates and sleeves).

    Attributes:
        centre: (3,) centre, metres.
        axis: (3,) unit axis.
        radius: Radius, metres.
        half_length: Half the length along the axis, metres.
        material: Palette index.
    """

    centre: Vec
    axis: Vec
    radius: float
    half_length: float
    material: int

    def bounds(self) -> tuple[Vec, Vec]:
        """World-space axis-aligned bounding box (lo, hi)."""
        along = np.abs(self.axis) * self.half_length
        across = self.radius * np.sqrt(np.clip(1.0 - self.axis**2, 0.0, 1.0))
        extent = along + across
        return self.centre - extent, self.centre + extent

    def hit(self, o: Vec, d: Vec) -> tuple[Vec, Vec]:
        """Ray hits: (t (N,), normals (N, 3)); see `edge.synth.raycast`."""
        size = np.array([self.radius, self.half_length])
        return raycast.cylinder(o, d, self.centre, self.axis, size)


Primitive = Capsule | Ellipsoid | Cylinder


def box_corners(lo: Vec, hi: Vec) -> Vec:
    """The 8 corners (8, 3) of an axis-aligned box."""
    idx = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=bool)
    return np.where(idx, hi, lo)
