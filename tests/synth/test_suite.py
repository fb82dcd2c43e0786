"""A few clips of the synthetic-athlete suite, end to end in CI: render -> pose -> events.

The full suite (110 clips: the plan of 56 and the grid of 54, `python -m tools.synthsuite`,
docs/synth-suite.md) takes most of an hour to render; these five cover the exercises'
families, a fault, and side, oblique and front cameras, at a small size so that rendering
stays cheap. The grid's make-up and framing, and the landmark cache, are checked here too.
"""

import shutil

import numpy as np
import pytest

from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.synth.camera import Camera, Lens
from edge.synth.kinematics import forward_kinematics
from edge.synth.motion import plan, sample
from edge.synth.shape import BodyShape
from tools.synthsuite.suite import (
    EXERCISES,
    HEIGHTS,
    VIEW_LABEL,
    LandmarksMissing,
    has_landmarks,
    landmarks_path,
    pose_errors,
    run_clip,
    suite_clips,
)

pytestmark = pytest.mark.model

PICKS = (
    "22-good_morning-knee_dominant-side_left",
    "40-swing-clean-side_right",
    "41-swing-clean-oblique_left",
    "42-swing-clean-front",
    "54-squat-clean-side_right",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("suite")


@pytest.fixture(scope="module")
def results(folder, pose_models):
    estimator = PoseEstimator(PoseConfig(), models=pose_models)
    clips = {c.name: c for c in suite_clips(size=(480, 270))}
    return {name: run_clip(clips[name], folder, estimator) for name in PICKS}


def test_the_suite_names_are_stable():
    names = [c.name for c in suite_clips()]
    assert len(names) >= 40 and set(PICKS) <= set(names)
    assert len(set(names)) == len(names)


def test_the_grid_is_every_exercise_view_and_camera_height():
    clips = suite_clips()
    grid = [c for c in clips if c.grid]
    assert clips[: len(clips) - len(grid)] == [c for c in clips if not c.grid]  # plan first
    cells = {(c.spec.exercise, c.view_group, c.height) for c in grid}
    views = ("side", "oblique", "front")
    assert cells == {(e, v, h) for e in EXERCISES for v in views for h in HEIGHTS}
    assert len(grid) == len(cells) == 54
    for clip in grid:
        assert not clip.spec.faults and clip.spec.reps == 3, clip.name
        low, high = HEIGHTS[clip.height]
        assert low <= clip.camera.height_m <= high, clip.name
        assert clip.name.endswith(f"-clean-{clip.camera.view}-{clip.height}")
        assert clip.held_out == (clip.height != "mid" or clip.view_group == "front")
    assert sorted(c.spec.exercise for c in grid if not c.held_out) == sorted(EXERCISES * 2)
    assert all(c.split == "tuning" for c in clips if not c.grid and "front" not in c.name)


def _margin_m(clip, body: BodyShape) -> float:
    """Smallest room (metres at the body's depth) between the athlete and the picture's
    edge in the set's key postures (standing, bottoms, lockouts: the ends of its phases),
    the camera aimed as `render_clip` aims it (`python -m tools.synthsuite` checks every frame
    of the rendered truth)."""
    cam = clip.camera
    phases = plan(clip.spec)[0]
    _, first = sample(phases[:1], cam.fps)
    lens = Lens(cam.width_px, cam.height_px, cam.focal_px)
    target = forward_kinematics(body, first[0]).pelvis_m
    camera = Camera.looking_at(
        target, cam.view, clip.spec.yaw_deg, cam.distance_m, cam.height_m, lens
    )
    worst = np.inf
    for posture in {id(p): p for phase in phases for p in (phase.a, phase.b)}.values():
        landmarks = forward_kinematics(body, posture).landmarks_m
        head_top = landmarks[[7, 8]].mean(axis=0) + np.array([0.0, 0.13, 0.0])  # above the ears
        xy, depth = camera.project(np.vstack([landmarks, head_top]))
        assert np.all(depth > 0)
        room = np.minimum.reduce(
            [xy[:, 0], cam.width_px - xy[:, 0], xy[:, 1], cam.height_px - xy[:, 1]]
        )
        worst = min(worst, float(np.min(room * depth / cam.focal_px)))
    return worst


def test_every_grid_camera_keeps_a_tall_athlete_in_the_picture():
    tall = BodyShape(height_m=2.0)
    for clip in (c for c in suite_clips() if c.grid):
        assert _margin_m(clip, tall) > 0.05, clip.name


@pytest.mark.parametrize("name", PICKS)
def test_every_rep_is_counted_once(results, name):
    result = results[name]
    assert len(result.reps) == len(result.truth["reps"]) == 3


@pytest.mark.parametrize("name", PICKS)
def test_the_view_is_recognised(results, name):
    expected = VIEW_LABEL[results[name].clip.camera.view]
    assert [rep["view"] for rep in results[name].reps] == [expected] * 3


def test_the_injected_fault_is_found(results):
    reps = results["22-good_morning-knee_dominant-side_left"].reps
    assert sum("knee_dominant" in rep["codes"] for rep in reps) >= 2


def test_clean_side_views_raise_no_alarm(results):
    for name in ("40-swing-clean-side_right", "54-squat-clean-side_right"):
        assert all(not rep["codes"] for rep in results[name].reps), name


def test_the_pose_stage_lands_near_the_true_joints(results):
    for name in PICKS:
        errors = pose_errors(results[name])
        assert errors["found"] >= 0.95 * errors["frames"], name
        if "side" not in name:
            continue  # from the front BlazePose often swaps or merges the hips (the report)
        for joint in ("shoulder", "hip", "knee", "ankle"):
            assert np.median(errors["joints"][joint]) < 0.12, (name, joint)  # torso lengths
        assert np.median(errors["angles"]["trunk"]) < 4.0, name  # degrees


def test_rescoring_reads_the_cached_landmarks(results, folder):
    for name in PICKS[:2]:
        assert landmarks_path(folder / f"{name}.mp4").is_file()
        again = run_clip(results[name].clip, folder)  # no estimator: the cache only
        assert not (again.rendered or again.inferred)
        assert again.reps == results[name].reps and again.sets == results[name].sets


def test_landmarks_of_another_video_are_not_used(results, folder, tmp_path):
    clip = results[PICKS[0]].clip
    video = folder / f"{clip.name}.mp4"
    for path in (video, video.with_name(f"{clip.name}.truth.json"), landmarks_path(video)):
        shutil.copy(path, tmp_path / path.name)
    assert has_landmarks(clip, tmp_path)
    with (tmp_path / video.name).open("ab") as handle:
        handle.write(b"\0")  # a re-rendered video: its bytes differ
    assert not has_landmarks(clip, tmp_path)
    with pytest.raises(LandmarksMissing):
        run_clip(clip, tmp_path)
