"""The scripted pose stage: a keypoints file replayed by picture, time or order (no models)."""

from __future__ import annotations

import inspect
import random

import cv2
import numpy as np
import pytest

from edge.capture.video import iter_video
from edge.errors import EdgeError, ModelError
from edge.keypoints import KeypointTrack, load_keypoints
from edge.pose import estimator  # the class only, never made: no `model` tier
from edge.pose.scripted import ScriptedPoseEstimator
from edge.types import NUM_LANDMARKS, Poses
from edge.zone import Zone
from tests.servers.streams import write_test_clip

FPS = 20.0
SIZE = (160, 120)
FRAMES = 20
NOBODY = 5  # the recorded frame where nobody was seen


def person(index: int) -> Poses:
    """One person whose every landmark sits at (index, 60): the row shows in the answer."""
    xy = np.full((1, NUM_LANDMARKS, 2), [index, 60.0], np.float32)
    ones = np.ones((1, NUM_LANDMARKS), np.float32)
    world = np.full((1, NUM_LANDMARKS, 3), np.nan, np.float32)
    roi = np.array([[index, 60.0, 50.0, 0.0]], np.float32)
    return Poses(xy, ones * 0.5, ones * 0.9, ones, world, np.ones(1, np.float32), roi)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """(clip, keypoints) of 1 s of the moving square, its rows numbered by their x."""
    folder = tmp_path_factory.mktemp("scripted")
    clip = write_test_clip(folder / "square.mp4", seconds=FRAMES / FPS, fps=FPS, size=SIZE)
    track = KeypointTrack(frame_size=SIZE, fps=FPS, source=clip.name, model="test")
    for i in range(FRAMES):
        track.append(i / FPS, Poses.empty() if i == NOBODY else person(i))
    track.save(folder / "square.npz")
    return clip, folder / "square.npz"


def row_of(poses: Poses) -> int | None:
    return None if not len(poses) else round(float(poses.xy[0, 0, 0]))


def test_frames_are_found_by_their_picture_in_any_order(recorded):
    clip, keypoints = recorded
    scripted = ScriptedPoseEstimator.from_file(keypoints, clip)
    frames = list(iter_video(clip))
    random.Random(1).shuffle(frames)
    for frame in frames:  # the times given are a daemon's own: they play no part
        answer = scripted.process(frame.image, 1000.0 + frame.t_s)
        assert row_of(answer) == (None if frame.index == NOBODY else frame.index)
    assert scripted.frames == FRAMES and scripted.detector_runs == 0


def test_a_smaller_picture_gets_the_landmarks_scaled(recorded):
    clip, keypoints = recorded
    scripted = ScriptedPoseEstimator.from_file(keypoints, clip)
    frame = list(iter_video(clip))[8]
    small = cv2.resize(frame.image, (SIZE[0] // 2, SIZE[1] // 2), interpolation=cv2.INTER_AREA)
    poses = scripted.process(small)
    assert poses.xy[0, 0].tolist() == [4.0, 30.0]
    assert poses.roi[0].tolist() == [4.0, 30.0, 25.0, 0.0]


def test_without_the_clip_frames_are_found_by_time_then_by_order(recorded):
    _, keypoints = recorded
    blank = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    scripted = ScriptedPoseEstimator(load_keypoints(keypoints))
    assert row_of(scripted.process(blank, 7 / FPS)) == 7
    assert row_of(scripted.process(blank, 7 / FPS + 0.4 / FPS)) == 7  # the nearest frame
    assert row_of(scripted.process(blank, NOBODY / FPS)) is None
    assert row_of(scripted.process(blank, 2.0)) is None  # past the end of the recording
    in_order = [row_of(scripted.process(blank)) for _ in range(FRAMES + 1)]
    assert in_order == [i if i != NOBODY else None for i in range(FRAMES)] + [None]
    scripted.reset()  # a new stream: from the first frame again
    assert row_of(scripted.process(blank)) == 0


def test_the_zone_leaves_out_an_athlete_outside_it(recorded):
    _, keypoints = recorded
    blank = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    left_half = Zone([(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])
    scripted = ScriptedPoseEstimator(load_keypoints(keypoints), zone=left_half)
    assert row_of(scripted.process(blank, 10 / FPS)) == 10  # x = 10 of 160: inside
    with_far_hips = ScriptedPoseEstimator(load_keypoints(keypoints), zone=left_half)
    with_far_hips.track["xy"][12, [23, 24]] = [150.0, 60.0]
    assert row_of(with_far_hips.process(blank, 12 / FPS)) is None


def test_another_clip_is_refused_and_there_is_no_mask(recorded, tmp_path):
    _, keypoints = recorded
    longer = write_test_clip(tmp_path / "longer.mp4", seconds=2 * FRAMES / FPS, fps=FPS)
    with pytest.raises(EdgeError, match="not the clip these keypoints were made from"):
        ScriptedPoseEstimator.from_file(keypoints, longer)
    with pytest.raises(ModelError, match="no mask model"):
        ScriptedPoseEstimator.from_file(keypoints).process_with_mask(np.zeros((4, 4, 3), np.uint8))


def test_it_offers_what_the_real_estimator_offers(recorded):
    """The same public methods with the same parameters, and the same counters."""
    public = {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(estimator.PoseEstimator, inspect.isfunction)
        if not name.startswith("_")
    }
    for name, signature in public.items():
        mine = inspect.signature(getattr(ScriptedPoseEstimator, name))
        assert list(mine.parameters) == list(signature.parameters), name
    assert {"process", "reset"} <= set(public)  # what the pipeline's `PoseStage` needs
    scripted = ScriptedPoseEstimator.from_file(recorded[1])
    for counter in ("config", "zone", "frames", "detector_runs", "seconds"):
        assert hasattr(scripted, counter), counter
