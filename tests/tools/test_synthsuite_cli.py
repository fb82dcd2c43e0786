"""`python -m tools.synthsuite --grid-only`: the grid at another frame size, in its own files."""

import argparse
import sys

from tools.synthsuite.__main__ import ROOT, _other_sizes, _parse_args, cache_folder, grid_report


def test_each_frame_size_has_its_own_cache():
    assert cache_folder("640x360") == ROOT / ".cache" / "synth-suite"  # where it always was
    assert cache_folder("1280x720") == ROOT / ".cache" / "synth-suite-1280x720"


def test_a_grid_only_run_writes_its_own_report_and_no_contact_sheet(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["synthsuite", "--grid-only", "--size", "1280x720"])
    args = _parse_args()
    assert args.out == ROOT / "docs" / "synth-grid-1280x720.md"
    assert args.sheet is None
    monkeypatch.setattr(sys, "argv", ["synthsuite"])
    args = _parse_args()
    assert args.out == ROOT / "docs" / "synth-suite.md"
    assert args.sheet == ROOT / "docs" / "synth" / "suite_contact_sheet.jpg"


def test_the_grid_report_says_how_to_regenerate_it_and_holds_the_grid():
    args = argparse.Namespace(seed=0, size="1280x720", fps=15.0, jobs=2)
    timing = {
        "clips": 54,
        "frames": 9000,
        "runs": {"render": {"wall_s": 1500.0, "rendered": 46, "render_s": 900.0, "inferred": 46}},
        "pose_fps": 20.0,
        "hinge_fps": 3000.0,
    }
    sections = {"grid": ["| grid row |"], "grid_summary": ["- summary"], "grid_pose": ["| p |"]}
    text = grid_report(args, timing, sections)
    assert text.startswith("# The synthetic athlete's grid at 1280x720")
    assert "`.venv/bin/python -m tools.synthsuite --grid-only --seed 0 --size 1280x720" in text
    assert "`.cache/synth-suite-1280x720/`" in text
    assert "[synth-suite.md](synth-suite.md)" in text
    for line in ("| grid row |", "- summary", "| p |"):
        assert line in text.splitlines()


def test_the_suite_report_links_the_grid_at_other_sizes(tmp_path):
    out = tmp_path / "synth-suite.md"
    assert _other_sizes(out) == []
    (tmp_path / "synth-grid-1280x720.md").write_text("# grid\n")
    assert _other_sizes(out) == [
        "The same grid filmed at another frame size: [1280x720](synth-grid-1280x720.md).",
        "",
    ]
