"""Units of the hinge engine: filter, segmenter, config, purity."""

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge.hinge.config import HingeConfig, RepConfig, ViewConfig
from edge.hinge.filters import OneEuro
from edge.hinge.reps import Phase, RepSegmenter

HINGE_DIR = Path(__file__).resolve().parents[2] / "edge" / "hinge"


def test_one_euro_smooths_jitter_and_follows_motion():
    rng = np.random.default_rng(0)
    still = OneEuro(1.5, 0.3)
    out = [still(i / 30, 1.0 + rng.normal(0, 0.02)) for i in range(90)]
    assert np.std(out[30:]) < 0.01  # jitter at rest is damped
    moving = OneEuro(1.5, 0.3)
    ramp = [moving(i / 30, i / 30) for i in range(60)]
    assert ramp[-1] > 1.8  # a 1/s ramp is followed with little lag


def test_one_euro_ignores_missing_samples_and_resets():
    f = OneEuro(1.0, 0.0)
    assert f(0.0, 2.0) == 2.0
    assert f(0.1, math.nan) == 2.0
    f.reset()
    assert f(0.2, 5.0) == 5.0


def _run(depths, fps=30.0, config=None):
    seg = RepSegmenter(config or RepConfig())
    reps = []
    for i, d in enumerate(depths):
        rep = seg.update(i / fps, d)
        if rep is not None:
            reps.append(rep)
    return seg, reps


def _cycle(depth=0.4, down_s=1.0, up_s=1.0, hold_s=0.6, fps=30.0):
    down = 0.02 + (depth - 0.02) * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, int(down_s * fps))))
    return np.concatenate([np.full(int(hold_s * fps), 0.02), down, down[::-1]])


@pytest.mark.parametrize(
    ("depths", "expected"),
    [
        (np.concatenate([_cycle()] * 3 + [np.full(30, 0.02)]), 3),  # three clean reps
        (np.concatenate([_cycle(depth=0.12)] * 3 + [np.full(30, 0.02)]), 0),  # too shallow
        (np.full(200, 0.02) + np.random.default_rng(1).normal(0, 0.02, 200), 0),  # jitter
        (
            np.concatenate(
                [
                    np.full(40, 0.45),
                    np.linspace(0.45, 0.02, 30),
                    np.full(30, 0.02),
                ]
            ),
            1,
        ),  # from the floor: floor -> lockout
    ],
    ids=["three-reps", "shallow", "jitter", "floor-start"],
)
def test_segmenter_counts(depths, expected):
    _, reps = _run(depths)
    assert len(reps) == expected


def test_floor_start_is_flagged_and_timed_from_lift_off():
    depths = np.concatenate([np.full(40, 0.45), np.linspace(0.45, 0.02, 30), np.full(30, 0.02)])
    _, (rep,) = _run(depths)
    assert rep.from_floor and rep.bottom_t_s == pytest.approx(39 / 30, abs=0.05)


def test_a_long_gap_drops_the_rep_in_progress():
    depths = np.concatenate([_cycle()[:40], np.full(40, np.nan), np.full(30, 0.02)])
    seg, reps = _run(depths)
    assert reps == [] and seg.phase is Phase.TOP


def test_rep_counts_when_the_athlete_settles_at_the_top():
    depths = np.concatenate([_cycle(), np.full(10, 0.02)])
    seg = RepSegmenter(RepConfig())
    counted_at = [i for i, d in enumerate(depths) if seg.update(i / 30, d) is not None]
    top_reached = len(_cycle()) - 1
    assert len(counted_at) == 1 and counted_at[0] - top_reached <= 3


@pytest.mark.parametrize(
    ("section", "kwargs", "message"),
    [
        (RepConfig, {"lockout_margin_norm": 0.2, "min_amplitude_norm": 0.1}, "lockout_margin"),
        (ViewConfig, {"side_max_width_norm": 0.6, "front_min_width_norm": 0.5}, "side_max"),
        (RepConfig, {"min_rep_s": -1}, "greater than 0"),
    ],
)
def test_inconsistent_thresholds_are_refused(section, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        section(**kwargs)


def test_unknown_keys_and_exercises_are_refused():
    with pytest.raises(ValidationError, match="extra"):
        HingeConfig(reps={"min_amplitude": 0.2})
    with pytest.raises(ValidationError, match="exercise"):
        HingeConfig(exercise="bench_press")


FORBIDDEN = {"cv2", "onnxruntime", "paho", "time", "datetime", "logging", "socket", "os"}


@pytest.mark.parametrize("path", sorted(HINGE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_hinge_modules_import_no_io_and_read_no_clock(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    assert not names & FORBIDDEN
    assert names <= {
        "__future__",
        "dataclasses",
        "enum",
        "math",
        "typing",
        "collections",
        "warnings",
        "numpy",
        "pydantic",
        "edge",
    }


def test_importing_the_engine_loads_no_compiled_io_stack():
    code = (
        "import sys, edge.hinge, edge.synth.sequence; "
        "print(sorted(m for m in ('cv2', 'onnxruntime', 'paho') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
