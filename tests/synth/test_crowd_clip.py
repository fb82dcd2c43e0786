"""Clips with other people: the truth stays the athlete's and records where the others are."""

import json

import cv2
import numpy as np
import pytest

from edge.synth.appearance import Appearance
from edge.synth.clip import ClipCamera, render_clip, truth_path
from edge.synth.crowd import Extras, PasserBy, SecondAthlete
from edge.synth.motion import MotionSpec

pytestmark = pytest.mark.slow  # every test renders clips (seconds each)
SMALL = ClipCamera(width_px=192, height_px=108, focal_px=135.0, fps=5.0)
TINY = ClipCamera(width_px=96, height_px=54, focal_px=67.5, fps=5.0)
RDL = MotionSpec(exercise="rdl", reps=1, lead_in_s=0.3, tail_s=0.3)
# In a side view the athlete's bar reaches 1.2 m towards the camera: walk in front of it.
CROSSING = Extras(passers_by=(PasserBy(depth_m=-1.9, enter_s=0.5),))
MAGENTA = Appearance(shirt_rgb=(0.85, 0.1, 0.85), bottom_rgb=(0.85, 0.1, 0.85))


@pytest.fixture(scope="module")
def crossing(tmp_path_factory):
    """The same set rendered alone and with a passer-by crossing in front of the athlete."""
    folder = tmp_path_factory.mktemp("crossing")
    alone = render_clip(RDL, SMALL, folder / "alone.mp4", seed=3)
    crowded = render_clip(RDL, SMALL, folder / "crowded.mp4", seed=3, extras=CROSSING)
    return alone, crowded


def test_the_truth_stays_the_athletes(crossing):
    alone, crowded = crossing
    assert "others" not in alone and "others" not in alone["frames"][0]
    for key in ("reps", "body", "camera", "motion"):
        assert crowded[key] == alone[key]
    for a, b in zip(alone["frames"], crowded["frames"], strict=True):
        assert a["xy_px"] == b["xy_px"] and a["xyz_m"] == b["xyz_m"]


def test_a_passer_by_in_front_hides_landmarks_inside_their_box(crossing):
    alone, crowded = crossing
    hidden_frames = 0
    for a, b in zip(alone["frames"], crowded["frames"], strict=True):
        box = b["others"][0]["box_px"]
        hidden = np.flatnonzero(np.array(a["visible"]) > np.array(b["visible"]))
        if box is None:
            assert a["visible"] == b["visible"]  # nobody in front: nothing more hidden
            continue
        if hidden.size:
            hidden_frames += 1
            x0, y0, x1, y1 = box
            xy = np.array(b["xy_px"])[hidden]
            assert ((xy[:, 0] >= x0 - 1) & (xy[:, 0] <= x1 + 1)).all()
            assert ((xy[:, 1] >= y0 - 1) & (xy[:, 1] <= y1 + 1)).all()
        assert (np.array(b["visible"]) <= np.array(a["visible"])).all()
    assert hidden_frames >= 2


def test_the_truth_describes_the_passer_by(crossing):
    _, crowded = crossing
    (walker,) = crowded["others"]
    assert walker["kind"] == "passer_by" and walker["depth_m"] == -1.9
    assert walker["enter_s"] == 0.5 and walker["exit_s"] > walker["enter_s"] + 1.0
    assert walker["direction"] == "rightward"
    boxes = [f["others"][0]["box_px"] for f in crowded["frames"]]
    seen = [i for i, box in enumerate(boxes) if box is not None]
    assert seen and boxes[0] is None and boxes[-1] is None  # enters and leaves the frame
    centres = [(boxes[i][0] + boxes[i][2]) / 2 for i in seen]
    assert centres[-1] > centres[0]  # walking rightward across the picture
    frame = crowded["frames"][seen[len(seen) // 2]]["others"][0]
    assert np.asarray(frame["xy_px"]).shape == (33, 2) and len(frame["visible"]) == 33


def test_a_second_athlete_appears_where_placed(tmp_path):
    neighbour = SecondAthlete(across_m=1.8, depth_m=0.8, exercise="squat", appearance=MAGENTA)
    out = tmp_path / "two.mp4"
    truth = render_clip(RDL, SMALL, out, seed=3, extras=Extras(second_athlete=neighbour))
    (described,) = truth["others"]
    assert described["kind"] == "second_athlete" and described["exercise"] == "squat"
    assert described["load"] == "none" and described["reps"]
    capture = cv2.VideoCapture(str(out))
    images = [capture.read()[1] for _ in truth["frames"]]
    capture.release()
    for frame, image in list(zip(truth["frames"], images, strict=True))[::4]:
        x0, y0, x1, y1 = frame["others"][0]["box_px"]
        athlete_x = np.array(frame["xy_px"])[:, 0]
        assert x0 > athlete_x.max()  # to the right of the athlete, as placed
        hips = np.array(frame["others"][0]["xy_px"])[[23, 24]].mean(axis=0)
        assert x0 <= hips[0] <= x1 and y0 <= hips[1] <= y1
        b, g, r = (image[..., k].astype(int) for k in range(3))
        magenta = (r > g + 50) & (b > g + 50)
        inside = np.zeros_like(magenta)
        inside[y0:y1, x0:x1] = True
        assert magenta[inside].sum() >= 40 and magenta[~inside].sum() <= 3


def test_same_seed_same_truth_bytes_with_extras(tmp_path):
    spec = MotionSpec(exercise="swing", reps=1, lead_in_s=0.3, tail_s=0.3)
    extras = Extras(passers_by=1, second_athlete=True)
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        render_clip(spec, TINY, tmp_path / f"{name}.mp4", seed=seed, extras=extras)
    a, b, c = (truth_path(tmp_path / f"{n}.mp4").read_bytes() for n in "abc")
    assert a == b and a != c
    kinds = [o["kind"] for o in json.loads(a)["others"]]
    assert kinds == ["second_athlete", "passer_by"]


def test_asking_for_nobody_keeps_the_truth_bytes(tmp_path):
    spec = MotionSpec(exercise="swing", reps=1, lead_in_s=0.3, tail_s=0.3)
    render_clip(spec, TINY, tmp_path / "a.mp4", seed=7)
    render_clip(spec, TINY, tmp_path / "b.mp4", seed=7, extras=Extras())
    a, b = (truth_path(tmp_path / f"{n}.mp4").read_bytes() for n in "ab")
    assert a == b and b"others" not in a
