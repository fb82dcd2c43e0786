"""The INT8 landmark model: listed, verified, and close to FP32 where it matters."""

import math
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest

from edge.pose import PoseEstimator, load_pose_models
from edge.pose.config import PoseConfig
from edge.pose.manifest import load_manifest, sha256_file
from edge.synth import Camera, Posture, Scene, render
from edge.synth.body import BodyShape
from tools.synthsuite.suite import angles

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


def _rendered_hinge(model, steps, hip_deg, knee_deg, ankle_deg, load):
    """FP32's and `model`'s pose of each frame of a rendered side-view hinge, in pairs."""
    fp32 = PoseEstimator(PoseConfig())
    other = PoseEstimator(PoseConfig(landmark_model=model))
    assert other.landmark_model.spec.name == model
    camera = Camera.looking_at([0.0, 0.9, 0.0], "side_left")
    for k in np.linspace(0, 1, steps):
        posture = Posture(
            hip_flex_deg=hip_deg * k, knee_flex_deg=knee_deg * k, ankle_deg=ankle_deg * k
        )
        image = render(BodyShape(), posture, camera, scene=Scene(load=load)).image
        a, b = fp32.process(image), other.process(image)
        assert len(a) == len(b) == 1
        yield a.xy[0], b.xy[0]


def test_int8_tracks_a_rendered_hinge_like_fp32(manifest):
    diffs = [
        abs(_trunk_deg(a) - _trunk_deg(b))
        for a, b in _rendered_hinge(INT8, 6, 95, 22, 2, "barbell")
    ]
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


def _has_vnni() -> bool:
    """The CPU has VNNI (the 8-bit dot-product instructions onnxruntime's x86 INT8 kernels use)."""
    try:
        words = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return True  # no cpuinfo: nothing known, the test runs as written
    x86 = "flags" in words
    return not x86 or "avx512_vnni" in words or "avx_vnni" in words


# Measured on a Xeon with VNNI (docs/int8.md). On an AVX2-only CPU (seen: AMD EPYC without
# VNNI) onnxruntime's u8s8 kernels take another path and this model's angles move further
# from FP32 (median 3.0 deg, with onnxruntime 1.31.1 and 1.32.0 alike): INT8 figures hold
# per CPU family, which is one more reason FP32 stays the default.
@pytest.mark.xfail(
    not _has_vnni(),
    strict=True,
    reason="INT8 kernels without VNNI: median 3.0 deg from FP32 on this CPU (bar 2.0)",
)
def test_qat_agrees_with_fp32_on_rendered_hinges(qat_spec):
    diffs = []
    for a, b in _rendered_hinge(QAT, 5, 100, 30, 3, "none"):
        diffs.append(abs(_trunk_deg(a) - _trunk_deg(b)))
        # hip (shoulder-hip-knee) and knee (hip-knee-ankle) on the left side
        left_a, left_b = angles(a[None], 0), angles(b[None], 0)
        diffs += [abs(float(left_a[k][0] - left_b[k][0])) for k in ("hip", "knee")]
    assert np.median(diffs) < 2.0
    assert max(diffs) < 6.0
