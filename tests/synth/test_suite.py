"""A few clips of the synthetic-athlete suite, end to end in CI: render -> pose -> events.

The full suite (56 clips, `tools/synth_suite.py`, docs/synth-suite.md) takes about 14
minutes; these five cover the exercises' families, a fault, and side, oblique and front
cameras, at a small size so that rendering stays cheap.
"""

import numpy as np
import pytest

from edge.config import PoseConfig
from edge.pose import PoseEstimator
from edge.synth.suite import VIEW_LABEL, pose_errors, run_clip, suite_clips

pytestmark = pytest.mark.model

PICKS = (
    "22-good_morning-knee_dominant-side_left",
    "40-swing-clean-side_right",
    "41-swing-clean-oblique_left",
    "42-swing-clean-front",
    "54-squat-clean-side_right",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory, pose_models):
    folder = tmp_path_factory.mktemp("suite")
    estimator = PoseEstimator(PoseConfig(), models=pose_models)
    clips = {c.name: c for c in suite_clips(size=(480, 270))}
    return {name: run_clip(clips[name], folder, estimator) for name in PICKS}


def test_the_suite_names_are_stable():
    names = [c.name for c in suite_clips()]
    assert len(names) >= 40 and set(PICKS) <= set(names)


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
