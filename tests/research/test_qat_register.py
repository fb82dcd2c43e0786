"""What `research/int8/qat/register.py ship` lets into models/: the bar, and the option short."""

from __future__ import annotations

import pytest

register = pytest.importorskip(
    "research.int8.qat.register", reason="research/int8/qat needs onnx (the test extra)"
)


def _mode(angles: dict[str, tuple[float, float]], flag: float = 0.999) -> dict:
    return {
        "angles_deg": {k: {"median": m, "p95": p} for k, (m, p) in angles.items()},
        "flag_agreement": flag,
    }


def _report(same: dict, pipe: dict, differing: tuple[str, ...] = (), faults=(10, 10)) -> dict:
    return {
        "same_crops": same,
        "pipeline": pipe,
        "reps": {
            "unchanged": not differing,
            "clips_differing": list(differing),
            "paired_reps_same_faults": faults[0],
            "paired_reps": faults[1],
        },
    }


GOOD = {"hip": (1.0, 4.0), "knee": (1.5, 4.9), "trunk": (0.5, 2.0), "shin": (3.0, 9.0)}
PTQ_FIGURES = {
    "angle_abs_diff_deg_median_p95": {
        "same_crops": {"hip": [1.3, 8.1], "knee": [1.5, 16.7], "trunk": [0.6, 2.0]}
    }
}


def test_a_model_within_the_bar_on_hip_knee_and_trunk_passes_whatever_the_shin():
    assert register.bar_failures(_report(_mode(GOOD), _mode(GOOD))) == []


def test_every_miss_of_the_bar_is_named():
    worse = {**GOOD, "knee": (1.5, 13.9)}
    failures = register.bar_failures(
        _report(_mode(GOOD), _mode(worse, flag=0.98), ("bad006.mp4",), (29, 36))
    )
    text = "\n".join(failures)
    assert "pipeline: angles" in text and "knee" in text and "hip" not in text
    assert "pose-flag agreement 0.98" in text
    assert "bad006.mp4" in text and "29/36" in text
    assert len(failures) == 4


def test_an_option_must_beat_post_training_on_every_angle_and_keep_the_flag():
    closer = _report(_mode({**GOOD, "knee": (1.3, 13.9)}), _mode(GOOD))
    assert register.option_failures(closer, PTQ_FIGURES) == []
    further = _report(_mode({**GOOD, "trunk": (0.5, 2.5)}), _mode(GOOD, flag=0.97))
    failures = register.option_failures(further, PTQ_FIGURES)
    assert any("trunk p95 2.5 > post-training 2.0" in f for f in failures)
    tie = _report(_mode({**GOOD, "knee": (1.3, 13.9), "trunk": (0.5, 2.04)}), _mode(GOOD))
    assert register.option_failures(tie, PTQ_FIGURES) == []  # within 0.1 deg: a tie
    assert any("pipeline: pose-flag agreement 0.97" in f for f in failures)
