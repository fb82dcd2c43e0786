"""The INT8 landmark model: listed, verified, and close to FP32 where it matters."""

import math
from collections import Counter

import numpy as np
import onnx
import pytest

from edge.config import PoseConfig
from edge.pose import PoseEstimator, load_pose_models
from edge.pose.manifest import load_manifest, sha256_file
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


# ---------------------------------------------------------------- the QAT model (issue 8)

QAT = "blazepose_full_int8_qat"


@pytest.fixture(scope="module")
def qat_spec(models_dir):
    specs = load_manifest(models_dir)
    if QAT not in specs:
        pytest.skip(f"no {QAT} in this checkout's manifest (`make qat` makes it)")
    return specs[QAT]


def test_qat_entry_records_synthetic_training_and_its_verdict(qat_spec):
    training = qat_spec.extra["quantization"]["training"]
    # trained on rendered athletes only, in every stage: every crop file came from
    # calibration_crops.py's synthetic source
    stages = [training] + ([training["init_recipe"]] if training.get("init_recipe") else [])
    for stage in stages:
        assert stage["crops"] and all(
            "calibration_crops.py" in c["command"] for c in stage["crops"]
        )
        assert all(c["file"].startswith("synth-") for c in stage["crops"])
    figures = qat_spec.extra["figures"]
    bar = figures["bar"]
    met = bar["met_same_crops"] and bar["met_pipeline"] and bar["rep_counts_unchanged"]
    # the default only past the whole bar; an option says what it misses
    assert figures["verdict"] == ("default" if met and not bar["missed"] else "option")
    assert figures["verdict"] == "default" or bar["missed"]
    flags = figures["pose_flag_agreement"]
    assert min(flags.values()) >= 0.99
    assert figures["fp32_noise_floor"]["reference"].startswith("fp32+noise")


def test_qat_file_matches_its_sha256_and_is_really_quantized(qat_spec, models_dir):
    path = models_dir / qat_spec.file
    assert sha256_file(path) == qat_spec.sha256
    ops = Counter(n.op_type for n in onnx.load(path).graph.node)
    assert ops["QuantizeLinear"] > 0 and ops["DequantizeLinear"] > 0
    _, landmark = load_pose_models(PoseConfig(landmark_model=QAT))
    assert landmark.spec.name == QAT and landmark.spec.precision == "int8"


def _hinge_angles(xy):
    """Hip (shoulder-hip-knee) and knee (hip-knee-ankle) angles on the left side, degrees."""

    def angle(a, b, c):
        u, v = xy[a] - xy[b], xy[c] - xy[b]
        return math.degrees(
            math.acos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))
        )

    return angle(11, 23, 25), angle(23, 25, 27)


def test_qat_agrees_with_fp32_on_rendered_hinges(qat_spec):
    fp32 = PoseEstimator(PoseConfig())
    qat = PoseEstimator(PoseConfig(landmark_model=QAT))
    camera = Camera.looking_at([0.0, 0.9, 0.0], "side_left")
    diffs = []
    for k in np.linspace(0, 1, 5):
        posture = Posture(hip_flex_deg=100 * k, knee_flex_deg=30 * k, ankle_deg=3 * k)
        image = render(BodyShape(), posture, camera, scene=Scene(load="none")).image
        a, b = fp32.process(image), qat.process(image)
        assert len(a) == len(b) == 1
        diffs.append(abs(_trunk_deg(a.xy[0]) - _trunk_deg(b.xy[0])))
        diffs += [
            abs(x - y) for x, y in zip(_hinge_angles(a.xy[0]), _hinge_angles(b.xy[0]), strict=True)
        ]
    assert np.median(diffs) < 2.0
    assert max(diffs) < 6.0
