"""The back's outline from a person mask: synthetic torsos with a known back shape."""

import math

import numpy as np
import pytest

from edge.pose.back import (
    BackConfig,
    back_normal,
    close_mask,
    facing_from_foot,
    measure_back,
    sigmoid,
)

SIZE = 256
TORSO_PX = 110.0
BACK_PX, FRONT_PX = 28.0, 30.0  # chord to back edge, chord to belly
SUPERSAMPLE = 2  # anti-aliased masks, as the model's soft edge is
HIP = np.array([128.0, 190.0])


def fill_polygon(vertices: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(size, size) coverage of a polygon in [0, 1], even-odd rule, supersampled."""
    n = size * SUPERSAMPLE
    coords = (np.arange(n) + 0.5) / SUPERSAMPLE - 0.5  # sample centres in pixel units
    x, y = np.meshgrid(coords, coords)
    inside = np.zeros((n, n), bool)
    x0, y0 = vertices[:, 0], vertices[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        if ay == by:
            continue
        crosses = (ay > y) != (by > y)
        at_x = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < at_x)
    return inside.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(1, 3))


def torso(lean_deg=0.0, facing=1, profile=lambda t: 0.0 * t, extra=None):
    """A torso polygon around the shoulder-hip chord; `profile(t)` pixels added to the back.

    Returns (mask, shoulder, hip). `lean_deg` tips the shoulder forward (toward `facing`).
    """
    lean = math.radians(lean_deg)
    shoulder = HIP + TORSO_PX * np.array([facing * math.sin(lean), -math.cos(lean)])
    normal = back_normal(shoulder, HIP, facing)
    t = np.linspace(-0.25, 1.25, 61)
    chord = shoulder + t[:, None] * (HIP - shoulder)
    back = chord + (BACK_PX + profile(t))[:, None] * normal
    front = chord - FRONT_PX * normal
    polygon = np.concatenate([back, front[::-1]])
    mask = fill_polygon(polygon)
    if extra is not None:
        mask = np.maximum(mask, fill_polygon(extra(shoulder, normal)))
    return mask, shoulder, HIP


def rounded(amount_px):
    """A back bowed out by `amount_px` at mid-torso (parabola through the joints)."""
    return lambda t: amount_px * 4 * t * (1 - t)


def bump(centre, amount_px, width=0.22):
    """A local rounding (amount > 0) or dip (amount < 0) centred at t = `centre`."""
    return lambda t: amount_px * np.exp(-0.5 * ((t - centre) / width) ** 2)


def test_straight_back_reads_flat():
    mask, shoulder, hip = torso()
    m = measure_back(mask, shoulder, hip, facing=1)
    assert m.valid and m.reason == "ok"
    assert abs(m.bulge) < 0.005 and m.arch < 0.005 and abs(m.curvature) < 0.05
    np.testing.assert_allclose(m.depth, BACK_PX / TORSO_PX, atol=0.005)
    assert np.all(m.points[:, 0] < shoulder[0])  # facing +x: the back is on the -x side


def test_rounded_back_bulges_by_its_sagitta():
    amount = 8.0
    mask, shoulder, hip = torso(profile=rounded(amount))
    m = measure_back(mask, shoulder, hip, facing=1)
    # parabola 4t(1-t) between rays at t = 0.1 and 0.9: peak 1 - 0.36 above its end chord
    expected = amount * (1 - 0.36) / TORSO_PX
    assert m.valid
    assert m.bulge == pytest.approx(expected, abs=0.004)
    assert m.bulge_upper == pytest.approx(expected, abs=0.004)
    assert m.arch < 0.003
    assert m.curvature == pytest.approx(8 * amount / TORSO_PX, rel=0.15)  # 1/radius


def test_more_rounding_reads_more():
    bulges = []
    for amount in (0.0, 3.0, 6.0, 12.0):
        mask, shoulder, hip = torso(profile=rounded(amount))
        bulges.append(measure_back(mask, shoulder, hip, facing=1).bulge)
    assert np.all(np.diff(bulges) > 0.01)


@pytest.mark.parametrize(
    ("centre", "upper_wins"),
    [(0.3, True), (0.7, False)],
    ids=["thoracic", "lumbar"],
)
def test_the_rounding_is_found_in_its_half(centre, upper_wins):
    mask, shoulder, hip = torso(profile=bump(centre, 7.0))
    m = measure_back(mask, shoulder, hip, facing=1)
    assert m.valid
    assert (m.bulge_upper > m.bulge_lower + 0.01) == upper_wins
    assert (m.bulge_lower > m.bulge_upper + 0.01) != upper_wins


def test_arched_lower_back_reads_as_arch_not_bulge():
    mask, shoulder, hip = torso(profile=bump(0.65, -7.0))
    m = measure_back(mask, shoulder, hip, facing=1)
    assert m.valid
    assert m.arch > 0.04
    assert m.bulge_lower < 0.005
    assert m.curvature < -0.2


@pytest.mark.parametrize("facing", [1, -1], ids=["faces+x", "faces-x"])
@pytest.mark.parametrize("lean_deg", [0.0, 45.0, 80.0, 95.0])
def test_same_back_same_figures_at_any_lean_and_facing(lean_deg, facing):
    amount = 8.0
    reference = measure_back(*torso(profile=rounded(amount)), facing=1)
    mask, shoulder, hip = torso(lean_deg, facing, rounded(amount))
    m = measure_back(mask, shoulder, hip, facing=facing)
    assert m.valid
    assert m.bulge == pytest.approx(reference.bulge, abs=0.004)
    assert m.curvature == pytest.approx(reference.curvature, abs=0.08)


def test_hinged_back_is_measured_on_top():
    """Hinged to horizontal facing +x, the back is the upper edge (y smaller)."""
    mask, shoulder, hip = torso(90.0, 1)
    m = measure_back(mask, shoulder, hip, facing=1)
    assert m.valid and np.all(m.points[:, 1] < hip[1] - BACK_PX + 2)


def test_wrong_facing_measures_the_front():
    mask, shoulder, hip = torso(profile=rounded(8.0))
    right = measure_back(mask, shoulder, hip, facing=1)
    wrong = measure_back(mask, shoulder, hip, facing=-1)
    assert wrong.valid and wrong.bulge < right.bulge - 0.03
    np.testing.assert_allclose(wrong.depth, FRONT_PX / TORSO_PX, atol=0.005)


def test_small_hole_at_the_edge_is_closed():
    mask, shoulder, hip = torso(profile=rounded(8.0))
    clean = measure_back(mask, shoulder, hip, facing=1)
    holed = mask.copy()
    edge = measure_back(mask, shoulder, hip, facing=1).points[8]
    x, y = np.round(edge - back_normal(shoulder, hip, 1) * 3).astype(int)
    holed[y - 1 : y + 2, x - 1 : x + 2] = 0.0  # a 3x3 hole just inside the back edge
    m = measure_back(holed, shoulder, hip, facing=1)
    assert m.valid
    assert m.bulge == pytest.approx(clean.bulge, abs=0.002)
    unclosed = measure_back(holed, shoulder, hip, facing=1, config=BackConfig(close_radius_px=0))
    assert unclosed.depth[8] < clean.depth[8] - 0.015  # without closing the ray stops in it


def _arm(t0, t1, reach_px):
    """A block stuck on the back between t0 and t1, `reach_px` beyond it (arm, plate)."""

    def make(shoulder, normal):
        along = HIP - shoulder
        corners = [
            (t0, BACK_PX - 2),
            (t1, BACK_PX - 2),
            (t1, BACK_PX + reach_px),
            (t0, BACK_PX + reach_px),
        ]
        return np.array([shoulder + t * along + q * normal for t, q in corners])

    return make


@pytest.mark.parametrize(
    ("mask_of", "reason"),
    [
        (lambda: np.zeros((SIZE, SIZE)), "mask_missing"),  # no person in the mask
        (lambda: torso(extra=_arm(0.3, 0.5, 25.0))[0], "jump"),  # an arm across the back
        (lambda: torso(extra=_arm(0.75, 1.0, 100.0))[0], "mask_missing"),  # a blob past reach
        (lambda: np.ones((SIZE, SIZE)), "mask_missing"),  # mask everywhere: no edge
    ],
    ids=["empty", "arm-across-back", "blob-behind-hips", "full"],
)
def test_unmeasurable_edges_are_rejected(mask_of, reason):
    _, shoulder, hip = torso()
    m = measure_back(mask_of(), shoulder, hip, facing=1)
    assert not m.valid and m.reason == reason
    assert math.isnan(m.bulge) and math.isnan(m.curvature)
    assert m.points.shape == (BackConfig().rays, 2)


def test_tiny_torso_is_rejected():
    mask, shoulder, hip = torso()
    near_hip = hip + (shoulder - hip) * 0.1
    m = measure_back(mask, near_hip, hip, facing=1)
    assert not m.valid and m.reason == "short_torso"


def test_one_lost_ray_is_filled_in():
    mask, shoulder, hip = torso(profile=rounded(8.0))
    reference = measure_back(mask, shoulder, hip, facing=1)
    cut = mask.copy()
    start = np.round(shoulder + 0.5 * (hip - shoulder)).astype(int)  # the middle ray's origin
    cut[start[1] - 1 : start[1] + 2, start[0] - 1 : start[0] + 2] = 0.0
    m = measure_back(cut, shoulder, hip, facing=1, config=BackConfig(close_radius_px=0))
    assert m.valid
    assert m.bulge == pytest.approx(reference.bulge, abs=0.004)


def test_close_mask_fills_a_hole_and_keeps_the_edge():
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1.0
    mask[19:21, 19:21] = 0.0
    closed = close_mask(mask, 2)
    assert closed[19:21, 19:21].min() == 1.0
    np.testing.assert_array_equal(closed[:, :10], 0.0)
    np.testing.assert_array_equal(closed[10:30, 10:30], 1.0)


def test_sigmoid_and_facing():
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0, 0.5, 1], atol=1e-6)
    assert facing_from_foot(np.array([10.0, 5.0]), np.array([20.0, 6.0])) == 1
    assert facing_from_foot(np.array([10.0, 5.0]), np.array([2.0, 6.0])) == -1
