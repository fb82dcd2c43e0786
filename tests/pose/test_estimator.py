"""The pose stage end to end on real models: empty frames, real footage, pillarboxing."""

import numpy as np
import pytest

from edge.capture.video import iter_video
from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.zone import Zone

pytestmark = pytest.mark.model

SIDE_CLIP = "TBY66__Intelligent-Deadlift-Diagnosis-System/sample/0016c_1.mp4"
PILLARBOXED_CLIP = "BichraiX__AI-Deadlift-Analysis/dataset/good/good014.mp4"


@pytest.fixture
def estimator(pose_models):
    return PoseEstimator(PoseConfig(), models=pose_models)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((720, 1280, 3), np.uint8),  # black: no signal
        np.full((480, 640, 3), 128, np.uint8),  # flat grey wall
        np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8),  # noise
    ],
    ids=["black", "grey", "noise"],
)
def test_frame_with_nobody_gives_no_pose(estimator, frame):
    for _ in range(3):
        assert len(estimator.process(frame)) == 0
    assert estimator.detector_runs >= 3  # nobody tracked: it keeps looking


def _frames(shared_data, clip, count, step=1):
    frames = iter_video(shared_data / clip, max_frames=count * step)
    return [f.image for f in frames][::step]


@pytest.mark.data
def test_real_clip_is_tracked_with_few_detector_runs(estimator, shared_data):
    frames = _frames(shared_data, SIDE_CLIP, 120)
    found = [estimator.process(f) for f in frames]
    assert sum(len(p) for p in found) >= 0.95 * len(frames)
    assert estimator.detector_runs <= 3  # tracking: the detector only acquires
    xy = np.stack([p.xy[0] for p in found if len(p)])
    height, width = frames[0].shape[:2]
    assert np.all((xy[:, 23] >= 0) & (xy[:, 23] <= (width, height)))  # hips inside the frame


@pytest.mark.data
def test_pillarboxed_portrait_gives_the_same_landmarks(pose_models, shared_data):
    """A portrait clip put inside a 16:9 frame with black bars is read as well as the original."""
    frames = _frames(shared_data, SIDE_CLIP, 20, step=3)
    plain = PoseEstimator(PoseConfig(), models=pose_models)
    boxed = PoseEstimator(PoseConfig(), models=pose_models)
    height, width = frames[0].shape[:2]
    canvas_w = height * 16 // 9
    offset = (canvas_w - width) // 2
    errors = []
    for frame in frames:
        canvas = np.zeros((height, canvas_w, 3), np.uint8)
        canvas[:, offset : offset + width] = frame
        a, b = plain.process(frame), boxed.process(canvas)
        assert len(a) == len(b) == 1
        errors.append(np.linalg.norm(b.xy[0] - (a.xy[0] + (offset, 0)), axis=1))
    torso = np.linalg.norm(a.xy[0, 11] - a.xy[0, 23])
    assert np.median(errors) < 0.05 * torso


@pytest.mark.data
def test_already_pillarboxed_clip_is_tracked(estimator, shared_data):
    frames = _frames(shared_data, PILLARBOXED_CLIP, 60)
    found = sum(len(estimator.process(f)) for f in frames)
    assert found >= 0.95 * len(frames)


@pytest.mark.data
def test_athlete_outside_the_zone_is_ignored(pose_models, shared_data):
    frames = _frames(shared_data, SIDE_CLIP, 5)
    left_strip = Zone([(0.0, 0.0), (0.05, 0.0), (0.05, 1.0), (0.0, 1.0)])
    estimator = PoseEstimator(PoseConfig(), left_strip, models=pose_models)
    assert all(len(estimator.process(f)) == 0 for f in frames)


@pytest.mark.data
def test_replay_cli_writes_the_keypoints_file(tmp_path, shared_data):
    from edge.cli import main
    from edge.keypoints import load_keypoints

    out = tmp_path / "kp.npz"
    assert (
        main(
            ["replay", str(shared_data / SIDE_CLIP), "--keypoints", str(out), "--max-frames", "30"]
        )
        == 0
    )
    data = load_keypoints(out)
    assert data["xy"].shape == (30, 33, 2) and data["xy"].dtype == np.float32
    assert data["visibility"].shape == (30, 33) and data["t"].shape == (30,)
    np.testing.assert_allclose(np.diff(data["t"]), 1 / 60, rtol=1e-3)
    assert str(data["model"]) == "blazepose_full_fp32"


@pytest.mark.data
def test_replay_cli_analyses_at_the_rate_asked(tmp_path, shared_data):
    """`--fps 10` on a 60 fps clip: the first frame of each tenth of a second, as a daemon
    analysing 10 frames a second takes them; the tracker sees those frames only."""
    from edge.cli import main
    from edge.keypoints import load_keypoints

    out = tmp_path / "kp.npz"
    argv = ["replay", str(shared_data / SIDE_CLIP), "--keypoints", str(out), "--max-frames", "30"]
    assert main([*argv, "--fps", "10"]) == 0
    data = load_keypoints(out)
    np.testing.assert_allclose(data["t"], [0.0, 0.1, 0.2, 0.3, 0.4], atol=1e-6)
    assert np.isfinite(data["xy"]).all()  # the athlete tracked on every analysed frame


def test_replay_cli_names_a_missing_video(tmp_path, capsys):
    from edge.cli import main

    assert main(["replay", str(tmp_path / "nope.mp4"), "--keypoints", str(tmp_path / "k.npz")]) == 2
    assert "nope.mp4 does not exist" in capsys.readouterr().err


def test_replay_cli_names_a_file_that_is_not_video(tmp_path, capsys):
    from edge.cli import main

    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    assert main(["replay", str(bogus), "--keypoints", str(tmp_path / "k.npz")]) == 2
    assert "notes.mp4" in capsys.readouterr().err


@pytest.mark.data
@pytest.mark.parametrize(("zone_x", "side"), [((0.5, 1.0), "right"), ((0.0, 0.5), "left")])
def test_the_athlete_is_the_person_in_the_zone(pose_models, shared_data, zone_x, side):
    """Two people in view (the same athlete twice): the zone decides who is followed."""
    frames = _frames(shared_data, SIDE_CLIP, 10, step=6)
    height, width = frames[0].shape[:2]
    x0, x1 = zone_x
    zone = Zone([(x0, 0.0), (x1, 0.0), (x1, 1.0), (x0, 1.0)])
    estimator = PoseEstimator(PoseConfig(), zone, models=pose_models)
    canvas_w = 4 * width
    found = []
    for frame in frames:
        canvas = np.full((height, canvas_w, 3), 90, np.uint8)
        canvas[:, width // 2 : width // 2 + width] = frame
        canvas[:, canvas_w - width - width // 2 : canvas_w - width // 2] = frame
        poses = estimator.process(canvas)
        found.append(len(poses))
        if len(poses):
            assert (poses.xy[0, [23, 24], 0].mean() > canvas_w / 2) == (side == "right")
    # the athlete (small in this wide frame) is found within a few frames, then followed
    assert all(found[4:]), found


def _head_down_detections(monkeypatch):
    """Makes the detector point every person's head at the floor (its scale point turned
    about the hips), as it did for a side-on athlete whose legs a plate hid."""
    from edge.pose import detector

    real = detector.postprocess

    def turned(*args, **kwargs):
        found = real(*args, **kwargs)
        hips, scale = found.keypoints[:, 0], found.keypoints[:, 1]
        found.keypoints[:, 1] = 2 * hips - scale
        return found

    monkeypatch.setattr(detector, "postprocess", turned)


@pytest.mark.data
def test_a_head_down_detection_is_taken_upright(pose_models, shared_data, monkeypatch):
    frame = _frames(shared_data, SIDE_CLIP, 1)[0]
    truth = PoseEstimator(PoseConfig(), models=pose_models).process(frame)
    _head_down_detections(monkeypatch)
    estimator = PoseEstimator(PoseConfig(), models=pose_models)
    poses = estimator.process(frame)
    assert len(truth) == len(poses) == 1
    assert estimator.detector_runs == 1
    torso = np.linalg.norm(truth.xy[0, 11] - truth.xy[0, 23])
    assert np.median(np.linalg.norm(poses.xy[0] - truth.xy[0], axis=1)) < 0.05 * torso
    assert poses.xy[0, 0, 1] < poses.xy[0, 23, 1]  # the nose above the hips


@pytest.mark.data
def test_a_picture_hanging_upside_down_needs_the_tilt_check_off(pose_models, shared_data):
    """The check turns a head-down person upright: right for a gym camera that hangs
    upright, wrong for one whose picture hangs upside down, which turns it off."""
    upside_down = np.ascontiguousarray(_frames(shared_data, SIDE_CLIP, 1)[0][::-1, ::-1])
    turned = PoseEstimator(PoseConfig(), models=pose_models).process(upside_down)
    assert len(turned) == 0 or abs(turned.roi[0, 3]) < np.radians(45)
    poses = PoseEstimator(PoseConfig(max_tilt_deg=180), models=pose_models).process(upside_down)
    assert len(poses) == 1 and poses.xy[0, 0, 1] > poses.xy[0, 23, 1]  # head down, as shown


@pytest.mark.data
def test_a_lost_athlete_is_not_replaced_by_a_bystander(pose_models, shared_data):
    """A track lost for a moment (a fast pull the crop cannot follow) is picked up again
    where it was, not on a clearer person elsewhere in the picture; after a while without
    the athlete (`_REACQUIRE_S`), the best person anywhere is taken, as on a fresh start."""
    frame = _frames(shared_data, SIDE_CLIP, 1)[0]
    width = frame.shape[1]
    empty = np.full_like(frame, 90)
    bystander = np.ascontiguousarray(frame[:, ::-1])  # the same body, mirrored, further right

    def picture(lifter, other):  # an empty stretch of gym between the two
        return np.hstack([frame if lifter else empty, empty, bystander if other else empty])

    def side(poses):
        return None if not len(poses) else "left" if poses.xy[0, 23, 0] < width else "right"

    estimator = PoseEstimator(PoseConfig(), models=pose_models)
    t = iter(np.arange(0.0, 10.0, 0.1))
    alone = [side(estimator.process(picture(True, False), next(t))) for _ in range(3)]
    assert alone == ["left"] * 3
    assert side(estimator.process(picture(True, True), next(t))) == "left"  # followed
    gone = [side(estimator.process(picture(False, True), next(t))) for _ in range(10)]
    assert gone == [None] * 10  # one second without the athlete: nobody, not the bystander
    assert side(estimator.process(picture(True, True), next(t))) == "left"  # back: found
    later = [side(estimator.process(picture(False, True), next(t))) for _ in range(30)]
    assert later[:15] == [None] * 15 and later[-1] == "right"  # after 2 s: the best anyone
