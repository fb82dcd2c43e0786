import json
import shutil

import pytest

from edge.errors import ModelError
from edge.pose import load_pose_models
from edge.pose.config import PoseConfig
from edge.pose.manifest import find_model, load_manifest, sha256_file


@pytest.fixture
def models_copy(models_dir, tmp_path):
    """A private copy of the shipped models that a test may damage."""
    target = tmp_path / "models"
    shutil.copytree(models_dir, target)
    return target


def test_shipped_models_match_their_manifest(models_dir):
    for spec in load_manifest(models_dir).values():
        assert sha256_file(models_dir / spec.file) == spec.sha256, spec.name
        assert (models_dir / spec.file).stat().st_size == spec.size_bytes


def test_manifest_records_source_and_licence(models_dir):
    for spec in load_manifest(models_dir).values():
        assert spec.extra["license"] == "Apache-2.0"
        assert spec.extra["source"]["wheel"].startswith("mediapipe-0.10.14")
        assert len(spec.extra["source"]["wheel_sha256"]) == 64
    assert (models_dir / "LICENSE").is_file() and (models_dir / "NOTICE").is_file()


def _damage(models_copy, how):
    path = models_copy / "pose_landmark_full.onnx"
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif how == "altered":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("how", "message"),
    [("missing", "is missing"), ("truncated", "is truncated"), ("altered", "was altered")],
)
def test_damaged_model_is_refused_naming_file_and_fix(models_copy, how, message):
    _damage(models_copy, how)
    with pytest.raises(ModelError, match=message) as err:
        load_pose_models(PoseConfig(models_dir=models_copy))
    assert "pose_landmark_full.onnx" in str(err.value)
    assert "make models" in str(err.value)


def test_missing_manifest_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no model manifest"):
        load_pose_models(PoseConfig(models_dir=tmp_path))


def test_manifest_entry_without_checksum_is_refused(models_copy):
    path = models_copy / "manifest.json"
    doc = json.loads(path.read_text())
    del doc["models"][0]["sha256"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="lacks"):
        load_manifest(models_copy)


def test_unknown_model_name_lists_the_known_ones(models_dir):
    manifest = load_manifest(models_dir)
    with pytest.raises(ModelError, match="blazepose_full_fp32"):
        find_model(manifest, "no_such_model", "landmarks")
    with pytest.raises(ModelError, match="not a landmarks model"):
        find_model(manifest, "blazepose_detector", "landmarks")
