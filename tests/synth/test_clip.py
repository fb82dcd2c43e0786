"""Rendered clips: the synth command writes a readable video and a reproducible truth."""

import json

import numpy as np
import pytest

from edge.capture.video import open_video
from edge.cli import main
from edge.synth.clip import ClipCamera, render_clip, truth_path
from edge.synth.motion import MotionSpec

SMALL = ClipCamera(width_px=192, height_px=108, focal_px=135.0, fps=10.0)


@pytest.mark.slow
def test_clip_and_truth_are_written_and_agree(tmp_path):
    out = tmp_path / "set.mp4"
    spec = MotionSpec(
        exercise="rdl", reps=2, faults={"knee_dominant": 0.5}, lead_in_s=0.5, tail_s=0.5
    )
    truth = render_clip(spec, SMALL, out, seed=3)
    capture, info = open_video(out)
    capture.release()
    assert (info.width, info.height) == (192, 108)
    assert info.frame_count == len(truth["frames"])
    assert len(truth["reps"]) == 2 and truth["faults"] == {"knee_dominant": 0.5}
    frame = truth["frames"][0]
    assert np.asarray(frame["xy_px"]).shape == (33, 2)
    assert np.asarray(frame["xyz_m"]).shape == (33, 3)
    assert json.loads(truth_path(out).read_text()) == truth


@pytest.mark.slow
def test_same_seed_same_truth_bytes(tmp_path):
    spec = MotionSpec(exercise="swing", reps=1, lead_in_s=0.3, tail_s=0.3)
    render_clip(spec, SMALL, tmp_path / "a.mp4", seed=7)
    render_clip(spec, SMALL, tmp_path / "b.mp4", seed=7)
    render_clip(spec, SMALL, tmp_path / "c.mp4", seed=8)
    a, b, c = (truth_path(tmp_path / f"{n}.mp4").read_bytes() for n in "abc")
    assert a == b and a != c


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "wobbly_knees"], "unknown fault"),
        (["--fault", "knee_dominant=1.5"], "must lie in [0, 1]"),
        (["--exercise", "bench"], "invalid choice"),
    ],
)
def test_synth_refuses_bad_arguments(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        main(["synth", str(tmp_path / "x.mp4"), *args])
    assert message in capsys.readouterr().err


def test_synth_names_an_unwritable_output(tmp_path, capsys):
    code = main(["synth", str(tmp_path / "missing" / "x.mp4"), "--reps", "1", "--size", "96x54"])
    assert code == 2
    assert "cannot write a video" in capsys.readouterr().err
