"""The mask on demand: the segmentation-capable landmark model in the pose stage."""

import numpy as np
import pytest

from edge.capture.video import iter_video
from edge.errors import ModelError
from edge.pose import PoseEstimator, load_mask_model
from edge.pose.back import facing_from_foot, measure_back
from edge.pose.config import PoseConfig
from edge.pose.estimator import MASK_MODEL, MASK_ROLE
from edge.pose.landmarks import INPUT_SIZE
from edge.pose.manifest import find_model, load_manifest
from edge.synth import Camera, Posture, Scene, render
from edge.synth.body import BodyShape

pytestmark = pytest.mark.model

LEFT_SHOULDER, LEFT_HIP, LEFT_HEEL, LEFT_TOE = 11, 23, 29, 31
RIGHT = 1  # right-side index = left-side index + 1
BICHRAIX = "BichraiX__AI-Deadlift-Analysis/dataset"


@pytest.fixture(scope="module")
def mask_model():
    return load_mask_model(PoseConfig())


def _estimators(pose_models, mask_model):
    return (
        PoseEstimator(PoseConfig(), models=pose_models),
        PoseEstimator(PoseConfig(), models=pose_models, mask_model=mask_model),
    )


def _hinge_frames(steps=4):
    """A rendered side-view hinge to 90 deg (left side to the camera), barbell in hand."""
    camera = Camera.looking_at([0.0, 0.9, 0.0], "side_left")
    for k in np.linspace(0.0, 1.0, steps):
        posture = Posture(hip_flex_deg=90 * k, knee_flex_deg=20 * k)
        yield render(BodyShape(), posture, camera, scene=Scene(load="barbell")).image


def test_manifest_lists_the_mask_model(models_dir, mask_model):
    manifest = load_manifest(models_dir)
    spec = find_model(manifest, MASK_MODEL, MASK_ROLE)
    assert spec.outputs["segmentation"] == [1, INPUT_SIZE, INPUT_SIZE, 1]
    assert spec.extra["source"] == manifest["blazepose_full_fp32"].extra["source"]
    assert mask_model.spec.sha256 == spec.sha256
    with pytest.raises(ModelError, match="not a landmarks model"):
        find_model(manifest, MASK_MODEL, "landmarks")  # never picked as the default pass


def test_same_crop_gives_bit_identical_landmarks(pose_models, mask_model):
    crop = np.random.default_rng(0).uniform(0, 1, (1, INPUT_SIZE, INPUT_SIZE, 3))
    crop = crop.astype(np.float32)
    pruned, full = pose_models[1].run(crop), mask_model.run(crop)
    for name, value in pruned.items():
        np.testing.assert_array_equal(full[name], value, err_msg=name)


def test_mask_on_chosen_frames_changes_no_landmark(pose_models, mask_model):
    plain, masked = _estimators(pose_models, mask_model)
    for index, frame in enumerate(_hinge_frames()):
        expected = plain.process(frame)
        if index % 2:
            got, mask = masked.process_with_mask(frame)
            assert mask is not None
            assert mask.logits.shape == (INPUT_SIZE, INPUT_SIZE)
        else:
            got = masked.process(frame)
        np.testing.assert_array_equal(got.xy, expected.xy)
        np.testing.assert_array_equal(got.world, expected.world)
    assert masked.seconds["mask_inference"] > 0 and masked.seconds["landmark_inference"] > 0


def test_mask_covers_the_athlete_in_crop_coordinates(pose_models, mask_model):
    _, masked = _estimators(pose_models, mask_model)
    frame = next(_hinge_frames(steps=1))
    poses, mask = masked.process_with_mask(frame)
    probability = mask.probability()
    crop_xy = mask.to_crop(poses.xy[0])
    np.testing.assert_allclose(mask.to_image(crop_xy), poses.xy[0], atol=1e-3)
    for joint in (LEFT_SHOULDER, LEFT_HIP):  # landmarks lie inside the person
        x, y = np.round(crop_xy[joint]).astype(int)
        assert probability[y, x] > 0.9
    assert probability[0, 0] < 0.1 and probability[-1, -1] < 0.1  # wall and floor are not


def _bulges_at_depth(estimator, frames):
    """Bulge of the frames in the top fifth of trunk lean (side facing the camera)."""
    found = []
    for frame in frames:
        poses, mask = estimator.process_with_mask(frame)
        if mask is not None:
            found.append((poses.xy[0], mask))
    xy = np.stack([p for p, _ in found])
    facing = np.nanmedian(xy[:, LEFT_TOE] - xy[:, LEFT_HEEL], axis=0)
    side = RIGHT if facing[0] >= 0 else 0  # facing +x shows the camera the right side
    up = xy[:, LEFT_SHOULDER + side] - xy[:, LEFT_HIP + side]
    lean = np.degrees(np.arctan2(np.abs(up[:, 0]), -up[:, 1]))
    deepest = np.argsort(lean)[::-1][: max(1, len(lean) // 5)]
    measures = []
    for index in deepest:
        pose, mask = found[index]
        crop = mask.to_crop(pose)
        sign = facing_from_foot(crop[LEFT_HEEL + side], crop[LEFT_TOE + side])
        shoulder, hip = crop[LEFT_SHOULDER + side], crop[LEFT_HIP + side]
        measures.append(measure_back(mask.probability(), shoulder, hip, sign))
    return measures


@pytest.mark.data
def test_real_rounded_back_bulges_more_than_the_same_lifters_good_one(
    pose_models, mask_model, shared_data
):
    """The same athlete, a neutral and a rounded (lower back) deadlift (docs/back.md)."""
    medians = {}
    for clip in ("good/good014.mp4", "bad/bad007.mp4"):
        _, masked = _estimators(pose_models, mask_model)
        frames = (f.image for f in iter_video(shared_data / BICHRAIX / clip))
        measures = _bulges_at_depth(masked, frames)
        assert np.mean([m.valid for m in measures]) >= 0.8
        medians[clip] = np.median([m.bulge for m in measures if m.valid])
    assert medians["good/good014.mp4"] < 0.03
    assert medians["bad/bad007.mp4"] > medians["good/good014.mp4"] + 0.03


def test_process_with_mask_needs_the_mask_model(pose_models):
    estimator = PoseEstimator(PoseConfig(), models=pose_models)
    with pytest.raises(ModelError, match="load_mask_model"):
        estimator.process_with_mask(np.zeros((64, 64, 3), np.uint8))


def test_nobody_gives_no_mask(pose_models, mask_model):
    _, masked = _estimators(pose_models, mask_model)
    poses, mask = masked.process_with_mask(np.zeros((360, 640, 3), np.uint8))
    assert len(poses) == 0 and mask is None
