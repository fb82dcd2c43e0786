"""Vectorised ray intersections with the renderer's primitives (pure NumPy).

Every function takes one ray origin `o` (3,) and N unit directions `d` (N, 3) and returns
`(t, normal)`: (N,) distance along each ray to the nearest hit in front of the origin
(`inf` where the ray misses) and (N, 3) unit outward normals there (undefined on a miss).
"""

from __future__ import annotations

import numpy as np

from edge.synth.geometry import Vec

_EPS = 1e-9


def _unit_rows(v: Vec) -> Vec:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), _EPS)


def round_cone(o: Vec, d: Vec, pa: Vec, pb: Vec, ra: float, rb: float) -> tuple[Vec, Vec]:
    """Hits a tapered capsule: spheres of radius ra at pa and rb at pb joined by a cone.

    The closed form is Inigo Quilez's ray / rounded-cone intersection: the ray is first
    tested against the cone tangent to both spheres, and only where that hit lies outside
    the cone's span is it tested against the two end spheres.
    """
    ba, oa, ob = pb - pa, o - pa, o - pb
    rr = ra - rb
    m0, m1, m5, m7 = ba @ ba, ba @ oa, oa @ oa, ob @ ob
    m2, m3, m6 = d @ ba, d @ oa, d @ ob
    d2 = m0 - rr * rr
    k2 = d2 - m2 * m2
    k1 = d2 * m3 - m1 * m2 + m2 * rr * ra
    k0 = d2 * m5 - m1 * m1 + m1 * rr * ra * 2.0 - m0 * ra * ra
    h = k1 * k1 - k0 * k2
    hit_any = h >= 0.0
    safe_k2 = np.where(np.abs(k2) < _EPS, _EPS, k2)
    t_body = (-np.sqrt(np.maximum(h, 0.0)) - k1) / safe_k2
    y = m1 - ra * rr + t_body * m2
    on_body = hit_any & (y > 0.0) & (y < d2)
    h1, h2 = m3 * m3 - m5 + ra * ra, m6 * m6 - m7 + rb * rb
    t1 = np.where(h1 > 0.0, -m3 - np.sqrt(np.maximum(h1, 0.0)), np.inf)
    t2 = np.where(h2 > 0.0, -m6 - np.sqrt(np.maximum(h2, 0.0)), np.inf)
    t = np.where(on_body, t_body, np.minimum(t1, t2))
    t = np.where(hit_any & (t > 0.0), t, np.inf)
    hit = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    body_normal = d2 * (hit - pa) - np.outer(y, ba)
    cap_normal = np.where((t1 <= t2)[:, None], hit - pa, hit - pb)
    normal = np.where(on_body[:, None], body_normal, cap_normal)
    return t, _unit_rows(normal)


def ellipsoid(o: Vec, d: Vec, centre: Vec, axes: Vec, semi: Vec) -> tuple[Vec, Vec]:
    """Hits an ellipsoid with unit axes as the columns of `axes` and semi-axis lengths `semi`."""
    lo = ((o - centre) @ axes) / semi
    ld = (d @ axes) / semi
    a = np.einsum("ij,ij->i", ld, ld)
    b = ld @ lo
    c = lo @ lo - 1.0
    h = b * b - a * c
    t = (-b - np.sqrt(np.maximum(h, 0.0))) / a
    t = np.where((h >= 0.0) & (t > 0.0), t, np.inf)
    local = lo + np.where(np.isfinite(t), t, 0.0)[:, None] * ld
    normal = (local / semi) @ axes.T
    return t, _unit_rows(normal)


def cylinder(o: Vec, d: Vec, centre: Vec, axis: Vec, size: Vec) -> tuple[Vec, Vec]:
    """Hits a closed cylinder; `axis` is a unit vector, `size` is (radius, half length)."""
    radius, half = float(size[0]), float(size[1])
    oc = o - centre
    oa, da = oc @ axis, d @ axis
    o_perp = oc - oa * axis
    d_perp = d - np.outer(da, axis)
    a = np.einsum("ij,ij->i", d_perp, d_perp)
    b = d_perp @ o_perp
    c = o_perp @ o_perp - radius * radius
    h = b * b - a * c
    t_side = (-b - np.sqrt(np.maximum(h, 0.0))) / np.maximum(a, _EPS)
    side_ok = (h >= 0.0) & (a > _EPS) & (np.abs(oa + t_side * da) <= half) & (t_side > 0.0)
    cap_sign = np.where(oa > 0.0, 1.0, -1.0)  # the cap facing the origin
    safe_da = np.where(np.abs(da) < _EPS, _EPS, da)
    t_cap = (cap_sign * half - oa) / safe_da
    radial = o_perp + t_cap[:, None] * d_perp
    cap_ok = (np.einsum("ij,ij->i", radial, radial) <= radius * radius) & (t_cap > 0.0)
    t = np.minimum(np.where(side_ok, t_side, np.inf), np.where(cap_ok, t_cap, np.inf))
    use_side = side_ok & (~cap_ok | (t_side <= t_cap))
    side_normal = o_perp + np.where(side_ok, t_side, 0.0)[:, None] * d_perp
    normal = np.where(use_side[:, None], side_normal, np.outer(np.full_like(da, cap_sign), axis))
    return t, _unit_rows(normal)
