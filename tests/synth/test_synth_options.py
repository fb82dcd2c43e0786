"""`hinge-edge synth` options for the lens and other people."""

import json
import math

import pytest

from edge.cli import main
from edge.synth.clip import (
    DEFAULT_FOV_DEG,
    LENS_FOV_DEG,
    ClipCamera,
    focal_for_fov,
    truth_path,
)

FAST = ["--reps", "1", "--size", "96x54", "--fps", "4", "--exercise", "good_morning"]


def test_the_default_lens_is_todays_focal_length():
    assert ClipCamera().fov_deg == pytest.approx(70.8, abs=0.05)
    assert focal_for_fov(1280, DEFAULT_FOV_DEG) == 900.0
    assert focal_for_fov(192, 90.0) == 96.0
    assert ClipCamera(width_px=192, focal_px=96.0).fov_deg == pytest.approx(90.0)


@pytest.mark.parametrize("fov", [10.0, 150.0])
def test_a_field_of_view_out_of_range_is_refused(fov):
    with pytest.raises(ValueError, match="field of view must be 20-120 degrees"):
        focal_for_fov(1280, fov)


@pytest.mark.parametrize("name", sorted(LENS_FOV_DEG))
def test_every_library_lens_is_offered_by_the_cli(name):
    from edge.cli import _build_parser

    assert _build_parser().parse_args(["synth", "x.mp4", "--lens", name]).lens == name


def _run(tmp_path, *args):
    out = tmp_path / "clip.mp4"
    assert main(["synth", str(out), *FAST, *args]) == 0
    return json.loads(truth_path(out).read_text())


@pytest.mark.slow
def test_fov_sets_the_focal_length_and_a_wider_lens_shows_a_smaller_athlete(tmp_path):
    standard = _run(tmp_path)
    assert standard["camera"]["focal_px"] == 67.5  # 900 px at 1280 wide, scaled
    wide = _run(tmp_path, "--fov", "100")
    assert wide["camera"]["focal_px"] == pytest.approx(48 / math.tan(math.radians(50)), abs=1e-3)
    tele = _run(tmp_path, "--lens", "tele")
    assert tele["camera"]["focal_px"] == focal_for_fov(96, 40.0)

    def height_px(truth):
        xy = truth["frames"][0]["xy_px"]
        return max(p[1] for p in xy) - min(p[1] for p in xy)

    assert height_px(wide) < height_px(standard) < height_px(tele)


@pytest.mark.slow
def test_passers_by_and_a_second_athlete_are_in_the_truth(tmp_path, capsys):
    truth = _run(tmp_path, "--passers-by", "2", "--second-athlete", "--seed", "5")
    kinds = [o["kind"] for o in truth["others"]]
    assert kinds == ["second_athlete", "passer_by", "passer_by"]
    assert all(len(f["others"]) == 3 for f in truth["frames"])
    assert "with second-athlete, passer-by, passer-by" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--passers-by", "7"], "argument --passers-by: must be a whole number 0-6, got 7"),
        (["--passers-by", "-1"], "must be a whole number 0-6"),
        (["--passers-by", "two"], "must be a whole number 0-6, got 'two'"),
        (["--fov", "150"], "argument --fov: must be 20-120 degrees"),
        (["--fov", "wide"], "must be a number of degrees"),
        (["--fov", "60", "--lens", "wide"], "not allowed with argument --fov"),
        (["--lens", "fisheye"], "invalid choice: 'fisheye'"),
        (["--second-athlete", "yes"], "unrecognized arguments: yes"),
    ],
)
def test_bad_options_are_refused_with_a_message(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        main(["synth", str(tmp_path / "x.mp4"), *args])
    assert message in capsys.readouterr().err
