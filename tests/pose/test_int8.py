"""The INT8 landmark model: listed, verified, and close to FP32 where it matters."""

import math

import numpy as np
import pytest

from edge.config import PoseConfig
from edge.pose import PoseEstimator, load_pose_models
from edge.pose.manifest import load_manifest
from edge.synth import Camera, Posture, Scene, render
from edge.synth.body import BodyShape

pytestmark = pytest.mark.model
INT8 = "blazepose_full_int8"


@pytest.fixture(scope="module")
def manifest(models_dir):
    specs = load_manifest(models_dir)
    if INT8 not in specs:
        pytest.skip("no INT8 model in this checkout's manifest")
    return specs


def test_int8_entry_records_recipe_and_figures(manifest):
    spec = manifest[INT8]
    assert spec.precision == "int8" and spec.role == "landmarks"
    assert spec.inputs == manifest["blazepose_full_fp32"].inputs
    assert spec.outputs == manifest["blazepose_full_fp32"].outputs
    assert spec.extra["quantization"]["calibration"]["source"] == "synth"  # no dev footage
    assert spec.extra["figures"]["verdict"] in ("default", "option")


def _trunk_deg(xy):
    shoulder, hip = xy[[11, 12]].mean(axis=0), xy[[23, 24]].mean(axis=0)
    return math.degrees(math.atan2(abs(shoulder[0] - hip[0]), hip[1] - shoulder[1]))


def test_int8_tracks_a_rendered_hinge_like_fp32(manifest):
    fp32 = PoseEstimator(PoseConfig())
    int8 = PoseEstimator(PoseConfig(landmark_model=INT8))
    assert int8.landmark_model.spec.name == INT8
    camera = Camera.looking_at([0.0, 0.9, 0.0], "side_left")
    diffs = []
    for k in np.linspace(0, 1, 6):
        posture = Posture(hip_flex_deg=95 * k, knee_flex_deg=22 * k, ankle_deg=2 * k)
        image = render(BodyShape(), posture, camera, scene=Scene(load="barbell")).image
        a, b = fp32.process(image), int8.process(image)
        assert len(a) == len(b) == 1
        diffs.append(abs(_trunk_deg(a.xy[0]) - _trunk_deg(b.xy[0])))
    assert np.median(diffs) < 3.0


def test_loading_by_name_checks_the_int8_file(manifest, models_dir):
    _, landmark = load_pose_models(PoseConfig(landmark_model=INT8))
    assert landmark.spec.sha256 == manifest[INT8].sha256
