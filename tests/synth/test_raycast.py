import numpy as np

from edge.synth import raycast


def _rays(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    d = rng.normal(size=(n, 3)) * [0.15, 0.15, 0.0] + [0.0, 0.0, 1.0]
    return np.array([0.0, 0.0, -5.0]), d / np.linalg.norm(d, axis=1, keepdims=True)


def _capsule_sdf(p, a, b, ra, rb):
    """Signed distance to a tapered capsule (Inigo Quilez's sdRoundCone, vectorised)."""
    ba = b - a
    l2 = ba @ ba
    rr = ra - rb
    a2 = l2 - rr * rr
    pa = p - a
    y = pa @ ba
    z = y - l2
    x = pa * l2 - np.outer(y, ba)
    x2 = np.einsum("ij,ij->i", x, x)
    y2, z2 = y * y * l2, z * z * l2
    k = np.sign(rr) * rr * rr * x2
    top = np.sqrt(x2 + z2) / l2 - rb
    bottom = np.sqrt(x2 + y2) / l2 - ra
    middle = (np.sqrt(x2 * a2 / l2) + y * rr) / l2 - ra
    return np.where(
        np.sign(z) * a2 * z2 > k, top, np.where(np.sign(y) * a2 * y2 < k, bottom, middle)
    )


def test_capsule_hits_lie_on_the_surface_and_misses_never_enter_it():
    o, d = _rays()
    a, b, ra, rb = np.array([-0.3, 0.1, 0.2]), np.array([0.4, -0.2, -0.1]), 0.25, 0.1
    t, normal = raycast.round_cone(o, d, a, b, ra, rb)
    hit = np.isfinite(t)
    assert 200 < hit.sum() < len(t)
    points = o + t[hit, None] * d[hit]
    np.testing.assert_allclose(_capsule_sdf(points, a, b, ra, rb), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(normal[hit], axis=1), 1.0)
    march = o + np.linspace(3, 7, 400)[None, :, None] * d[~hit][:, None, :]  # spans the shape
    assert (_capsule_sdf(march.reshape(-1, 3), a, b, ra, rb) > -1e-3).all()


def test_ellipsoid_hits_lie_on_the_surface():
    o, d = _rays()
    axes = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))[0]
    centre, semi = np.array([0.1, 0.0, 0.3]), np.array([0.5, 0.2, 0.3])
    t, normal = raycast.ellipsoid(o, d, centre, axes, semi)
    hit = np.isfinite(t)
    local = ((o + t[hit, None] * d[hit] - centre) @ axes) / semi
    np.testing.assert_allclose(np.linalg.norm(local, axis=1), 1.0, atol=1e-9)
    assert (np.einsum("ij,ij->i", normal[hit], d[hit]) < 0).all()  # normals face the camera


def test_cylinder_hits_lie_on_the_surface():
    o, d = _rays()
    axis = np.array([1.0, 0.3, 0.2]) / np.linalg.norm([1.0, 0.3, 0.2])
    centre = np.array([0.1, 0.0, 0.3])
    t, _ = raycast.cylinder(o, d, centre, axis, np.array([0.3, 0.1]))
    hit = np.isfinite(t)
    q = o + t[hit, None] * d[hit] - centre
    along = q @ axis
    radial = np.linalg.norm(q - np.outer(along, axis), axis=1)
    on_side = np.isclose(radial, 0.3) & (np.abs(along) <= 0.1 + 1e-9)
    on_cap = np.isclose(np.abs(along), 0.1) & (radial <= 0.3 + 1e-9)
    assert hit.sum() > 100 and (on_side | on_cap).all()
