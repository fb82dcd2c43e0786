"""tools/back_separation.py's bookkeeping: labels, rep windows, chosen frames, AUC."""

from __future__ import annotations

import numpy as np
import pytest

from tools import back_separation as bs


@pytest.mark.parametrize(
    ("labels", "group"),
    [
        ("good;caption:neutral", "good"),
        ("spine_flexion;caption:rounded", "rounded"),
        ("spine_flexion (lower back highlighted)", "rounded"),
        ("hyperextension;caption:Hyper extending on top", "arched"),
        ("caption:extended (over-extended spine)", "arched"),
        ("knee_dominant;caption:Squatting deadlift", "other"),
    ],
)
def test_back_group_reads_the_label(labels, group):
    assert bs.back_group(labels) == group


def test_load_clips_keeps_side_views_of_back_sources_and_splits_the_screen(tmp_path):
    rows = [
        "path,exercise,view,people,reps,labels,label_trust,notes",
        "BichraiX__AI-Deadlift-Analysis/dataset/bad/bad005.mp4,deadlift,side,1,1,"
        "spine_flexion,high,",
        "BichraiX__AI-Deadlift-Analysis/dataset/good/good001.mp4,deadlift,front,1,1,good,x,",
        "TBY66__x/0016c_1.mp4,kb_deadlift,side,1,10,correct,medium,",
        f"{bs.SPLIT_SCREEN},rdl,side,1,2,split,high,",
    ]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    clips = bs.load_clips(tmp_path)
    assert [(c.name, c.group) for c in clips] == [
        ("bad005", "rounded"),
        ("rdl:left", "good"),
        ("rdl:right", "rounded"),
    ]


def _two_reps(frames=200):
    t = np.linspace(0, 2 * np.pi * 2, frames)
    return 40 - 40 * np.cos(t)  # 0 deg standing, 80 deg at each bottom


def test_rep_windows_cut_at_the_standing_valley():
    lean = _two_reps()
    windows = bs.rep_windows(lean, 2)
    assert len(windows) == 2 and windows[0][0] == 0 and windows[-1][1] == len(lean)
    assert abs(windows[0][1] - len(lean) // 2) <= 3  # the valley between the two bottoms


def test_rep_windows_fall_back_to_the_whole_clip():
    lean = _two_reps()
    assert bs.rep_windows(lean, 1) == [(0, len(lean))]
    assert bs.rep_windows(lean, 3) == [(0, len(lean))]  # 2 stretches for 3 reps


def test_chosen_frames_take_the_deepest_fifth_and_the_tallest_frames():
    lean = np.concatenate([np.linspace(10, 80, 50), np.linspace(80, -2, 50)])
    lean[5] = np.nan  # lost frames are never chosen
    chosen = bs.chosen_frames(lean, (0, len(lean)))
    depth = [i for i, phase in chosen.items() if phase == "depth"]
    lockout = [i for i, phase in chosen.items() if phase == "lockout"]
    assert len(depth) == 20 and min(lean[depth]) >= 64
    assert 99 in lockout and all(lean[i] <= -2 + bs.LOCKOUT_MARGIN_DEG for i in lockout)
    assert 5 not in chosen


def test_a_rep_without_depth_gives_its_lockout_only():
    lean = np.linspace(0, 30, 40)
    assert set(bs.chosen_frames(lean, (0, len(lean))).values()) == {"lockout"}


def test_auc_counts_ties_half():
    assert bs.auc([3, 4], [1, 2]) == 1.0
    assert bs.auc([1, 2], [3, 4]) == 0.0
    assert bs.auc([1], [1]) == 0.5
    assert np.isnan(bs.auc([], [1]))
