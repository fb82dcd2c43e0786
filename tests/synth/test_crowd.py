"""Other people in the scene: placement rules, shared depth buffer, palettes and shadows."""

import itertools

import numpy as np
import pytest

from edge.synth import poses
from edge.synth.appearance import Appearance
from edge.synth.camera import Camera, Lens
from edge.synth.crowd import Extras, PasserBy, SecondAthlete, cast_crowd
from edge.synth.kinematics import forward_kinematics
from edge.synth.person import Person
from edge.synth.placement import Stage, lifter_footprint
from edge.synth.renderer import render_people
from edge.synth.scene import Scene, Sensor
from edge.synth.shape import BodyShape
from edge.synth.walk import step_length_m, walking_skeleton
from tests.tiers import fast_first

SHAPE = BodyShape()
SMALL = Lens(320, 180, 225.0)
MAGENTA = Appearance(shirt_rgb=(0.85, 0.1, 0.85), bottom_rgb=(0.85, 0.1, 0.85))
SCENE = Scene(wall_gap_m=5.0)


def _stage(view="side_left", load="barbell", exercise="rdl", lens=SMALL, distance=3.5):
    target = forward_kinematics(SHAPE, poses.STANDING).pelvis_m
    camera = Camera.looking_at(target, view, 0.0, distance, 1.2, lens)
    return Stage(camera, target[[0, 2]], 0.0, load, exercise, [i / 10 for i in range(60)])


def _walker_at(stage, across, depth, look=MAGENTA):
    """A walker crossing the picture, caught with their pelvis at (across, depth)."""
    yaw = float(np.degrees(np.arctan2(stage.right_xz[0], stage.right_xz[1])))
    skeleton = walking_skeleton(SHAPE, 0.5, step_length_m(1.35), stage.at(across, depth), yaw)
    return Person(skeleton, SHAPE, look)


@pytest.fixture(scope="module")
def side():
    stage = _stage(load="none")
    athlete = Person.posed(SHAPE, poses.STANDING)
    alone = render_people(athlete, stage.camera, (), SCENE)
    return stage, athlete, alone


def test_a_person_in_front_hides_the_athlete_and_one_behind_does_not(side):
    stage, athlete, alone = side
    front = render_people(athlete, stage.camera, [_walker_at(stage, 0.0, -1.2)], SCENE)
    behind = render_people(athlete, stage.camera, [_walker_at(stage, 0.0, 1.2)], SCENE)
    assert front.visible.sum() < alone.visible.sum() - 5
    np.testing.assert_array_equal(behind.visible, alone.visible)
    # The walker behind is partly hidden by the athlete: fewer of their pixels and
    # landmarks show than of the same walker a little aside.
    aside = render_people(athlete, stage.camera, [_walker_at(stage, 1.2, 1.2)], SCENE)
    assert 0 < behind.others[0].area_px < 0.9 * aside.others[0].area_px
    assert behind.others[0].visible.sum() < aside.others[0].visible.sum()


def test_each_person_has_their_own_clothes(side):
    stage, athlete, alone = side
    frame = render_people(athlete, stage.camera, [_walker_at(stage, 1.2, 1.0)], SCENE)
    x0, y0, x1, y1 = frame.others[0].box_px
    b, g, r = (frame.image[..., k].astype(int) for k in range(3))
    magenta = (r > g + 60) & (b > g + 60)
    inside = np.zeros_like(magenta)
    inside[y0:y1, x0:x1] = True
    assert magenta[inside].sum() > 0.3 * frame.others[0].area_px
    assert magenta[~inside].sum() == 0
    assert not (magenta & frame.mask).any()  # the athlete keeps their own (dark) clothes
    np.testing.assert_array_equal(frame.mask, alone.mask)


def test_everyone_casts_a_floor_shadow(side):
    stage, athlete, alone = side
    frame = render_people(athlete, stage.camera, [_walker_at(stage, 1.0, 1.5)], SCENE)
    x0, y0, x1, y1 = frame.others[0].box_px
    darker = frame.image.astype(int).sum(axis=2) < alone.image.astype(int).sum(axis=2) - 15
    darker[y0:y1, x0:x1] = False  # not the walker themselves
    rows, cols = np.nonzero(darker)
    assert rows.size > 20
    # A shadow on the floor around the walker's feet (it leans away from the light).
    assert (abs(rows - y1) < 12).all() and (cols > x0 - 30).all() and (cols < x1 + 30).all()


def test_a_person_out_of_the_picture_has_no_box(side):
    stage, athlete, _ = side
    frame = render_people(athlete, stage.camera, [_walker_at(stage, 8.0, 1.0)], SCENE)
    view = frame.others[0]
    assert view.box_px is None and view.area_px == 0 and not view.visible.any()


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        (Extras(passers_by=(PasserBy(depth_m=-0.8),)), "on the athlete's floor"),
        (Extras(passers_by=(PasserBy(depth_m=-3.0),)), "within 1.0 m of the camera"),
        (Extras(second_athlete=SecondAthlete(across_m=0.5, depth_m=0.5)), "athlete's floor"),
        (
            Extras(passers_by=(PasserBy(depth_m=2.0), PasserBy(depth_m=2.2, leftward=True))),
            "on passer-by 1's floor",
        ),
    ],
    ids=["through-the-bar", "into-the-camera", "same-platform", "same-lane"],
)
def test_explicit_placements_that_collide_are_refused(extras, message):
    with pytest.raises(ValueError, match=message):
        cast_crowd(extras, _stage(), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Extras(passers_by=7), "0-6"),
        (lambda: Extras(passers_by=-1), "0-6"),
        (lambda: PasserBy(speed_m_s=4.0), "0.5-2.5 m/s"),
        (lambda: SecondAthlete(exercise="bench"), "unknown exercise 'bench'"),
    ],
)
def test_bad_extras_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("view", fast_first(["side_left", "front", "oblique_right"]))
def test_placements_drawn_from_the_seed_never_collide(view):
    for seed, load in itertools.product(range(8), ("barbell", "kettlebell")):
        stage = _stage(view=view, load=load, exercise="swing" if load == "kettlebell" else "rdl")
        crowd = cast_crowd(
            Extras(passers_by=6, second_athlete=True), stage, np.random.default_rng(seed)
        )
        athlete = _athlete_footprint(stage)
        floors = [athlete, *(m.footprint for m in crowd.members)]
        for a, b in itertools.combinations(floors, 2):
            assert a.clear_of(b, gap_m=0.05), (seed, a.name, b.name)
        neighbour = crowd.members[0].plan
        assert abs(neighbour.across_m) <= stage.half_width_m(neighbour.depth_m)
        assert crowd.wall_gap_m > max(p.depth_m for p in (m.plan for m in crowd.members))


def _athlete_footprint(stage):
    return lifter_footprint("athlete", stage.athlete_xz_m, 0.0, stage.load, stage.exercise)


def test_boxes_are_in_output_pixels_when_supersampling(side):
    stage, athlete, _ = side
    walker = [_walker_at(stage, 1.2, 1.0)]
    plain = render_people(athlete, stage.camera, walker, SCENE).others[0]
    fine = render_people(
        athlete, stage.camera, walker, Scene(wall_gap_m=5.0, sensor=Sensor(supersample=2))
    ).others[0]
    np.testing.assert_allclose(fine.box_px, plain.box_px, atol=1)
    assert fine.area_px == pytest.approx(plain.area_px, rel=0.1)
    assert (fine.visible != plain.visible).sum() <= 3  # borderline landmarks may flip
