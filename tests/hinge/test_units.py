"""Units of the hinge engine: filter, segmenter, config, purity."""

import ast
import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge.hinge.config import ExerciseConfig, FaultConfig, HingeConfig, RepConfig, ViewConfig
from edge.hinge.exercise import RepFeatures, classify
from edge.hinge.faults import StandingReference, chest_first
from edge.hinge.filters import OneEuro
from edge.hinge.reps import Phase, RepBoundary, RepSegmenter
from edge.hinge.signals import FrameSignals
from edge.hinge.view import ViewEstimator
from edge.hinge.window import Baseline, RepWindow

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


def test_a_touch_and_go_rep_starts_after_the_last_lockout():
    """Once tall at the start, then never that tall again: each descent begins at the
    tallest moment since the last rep's lockout, not back at the set's first stand."""
    tall = np.full(20, 0.02)
    rep = _cycle(depth=0.4, hold_s=0.0)
    shallow_top = rep * (1 - 0.05 / 0.4) + 0.05  # tops at 0.0675, above standing + _STILL
    _, reps = _run(np.concatenate([tall, rep, shallow_top, shallow_top, tall]))
    assert len(reps) == 3
    for before, after in itertools.pairwise(reps):
        assert before.lockout_t_s <= after.start_t_s < after.bottom_t_s
        assert after.lockout_t_s - after.start_t_s < 2.5  # one rep's length, not the set's


def _rise_with_a_misread_top(leans):
    """A rep whose depth reads deep again near the top (a plate hiding the shins) while the
    torso does what `leans` says; returns the lockout time, or None."""
    misread = [0.10, 0.09, 0.18, 0.20, 0.19, 0.17, 0.05, 0.02, 0.02, 0.02, 0.02]
    depths = np.concatenate([_cycle()[:-12], misread])
    lean = np.concatenate([np.full(len(depths) - len(leans), 60.0), leans])
    seg = RepSegmenter(RepConfig())
    for i, (d, a) in enumerate(zip(depths, lean, strict=True)):
        rep = seg.update(i / 30, d, a)
        if rep is not None:
            return rep.lockout_t_s, i
    return None


def test_a_depth_misread_near_the_top_does_not_end_a_rise_the_torso_still_makes():
    # One frame the lean hardly moves (17.9 after 18): the depth, read deep, ended it here.
    still_rising = [30.0, 24.0, 18.0, 17.9, 12.0, 6.0, 0.5, 0.0, 0.0, 0.0, 0.0]
    lockout_t, counted_at = _rise_with_a_misread_top(still_rising)
    top = len(_cycle()) - 12 + 7  # the torso upright, the depth back at standing
    assert lockout_t == pytest.approx(top / 30) and counted_at == top + 2


def test_sinking_again_with_the_torso_leaning_in_ends_the_rise_at_once():
    """A touch-and-go: back into the next rep, the depth and the lean agree."""
    sinking = [30.0, 24.0, 26.0, 30.0, 34.0, 38.0, 42.0, 46.0, 50.0, 54.0, 58.0]
    _, counted_at = _rise_with_a_misread_top(sinking)
    assert counted_at == len(_cycle()) - 12 + 2


@pytest.mark.parametrize(("dip_lean", "reps"), [(20.0, 1), (6.0, 2)])
def test_a_depth_that_dips_to_the_top_with_the_torso_still_down_is_no_lockout(dip_lean, reps):
    """Mid-rep the depth reads standing for a few frames: a lockout only if the torso rose."""
    fps = 30.0
    down = np.linspace(0.02, 0.3, 15)
    dip = [0.2, 0.1, 0.05, 0.03, 0.03, 0.03, 0.1, 0.2, 0.3]
    deeper = np.linspace(0.3, 0.5, 10)
    depths = np.concatenate([np.full(20, 0.02), down, dip, deeper, deeper[::-1], np.full(20, 0.02)])
    lean = np.concatenate(
        [
            np.full(20, 5.0),
            np.linspace(5.0, 20.0, 15),
            [20.0, 20.0] + [dip_lean] * 5 + [20.0, 20.0],
            np.full(20, 22.0),
            np.full(20, 5.0),
        ]
    )
    seg = RepSegmenter(RepConfig())
    counted = [
        r
        for i, (d, a) in enumerate(zip(depths, lean, strict=True))
        if (r := seg.update(i / fps, d, a))
    ]
    assert len(counted) == reps
    assert counted[-1].depth == pytest.approx(
        0.5 - 0.05, abs=0.03
    )  # the deepest point is its bottom


def test_back_at_full_depth_from_most_of_the_way_up_is_no_lockout():
    """A goblet squat at 10 fps: the depth reads most of the way up for two frames (never
    standing) and full depth again at once, the torso still where it was at the bottom:
    that top was misread, and the rep goes on to its real top (two reps before)."""
    depths = [0.02] * 10 + [0.08, 0.15, 0.23, 0.27, 0.31, 0.35, 0.20, 0.13]
    depths += [0.31, 0.40, 0.45, 0.45, 0.44, 0.42, 0.37, 0.30, 0.20, 0.09, 0.04] + [0.02] * 10
    lean = [5.0] * 10 + [7.5, 10.4, 13.2, 15.1, 19.3, 20.3, 20.9, 22.0]
    lean += [21.5, 21.1, 20.0, 18.5, 19.3, 19.7, 19.3, 16.8, 14.9, 9.8, 3.6] + [0.0] * 10
    seg = RepSegmenter(RepConfig())
    counted = [
        r
        for i, (d, a) in enumerate(zip(depths, lean, strict=True))
        if (r := seg.update(i / 10, d, a))
    ]
    assert len(counted) == 1
    assert counted[0].lockout_t_s == pytest.approx(2.9)  # standing again (depth 0.02)
    assert counted[0].depth == pytest.approx(0.45 - 0.05, abs=0.03)  # its real bottom


def _features(**values):
    neutral = dict.fromkeys((f for f in RepFeatures.__dataclass_fields__), math.nan)
    return RepFeatures(**{**neutral, "from_floor": 0.0, **values})


@pytest.mark.parametrize(
    ("wrist_shoulder", "elbow", "hands_above_ankles", "hip", "knee", "exercise"),
    [
        (0.55, 105.0, 0.98, 77.0, 79.0, "squat"),  # a bar on the back, elbows bent
        (0.60, 151.0, 0.94, 88.0, 90.0, "squat"),  # the hidden arm's elbow read straight
        (0.70, 150.0, 0.67, 90.0, 113.0, "deadlift"),  # a misread wrist, the bell hanging
        (1.10, 150.0, 0.30, 120.0, 70.0, "deadlift"),  # a bar hanging from straight arms
    ],
)
def test_the_load_sits_at_the_shoulders_by_the_hands_height_too(
    wrist_shoulder, elbow, hands_above_ankles, hip, knee, exercise
):
    """Set medians of real deliveries (jrplatin's squat re-encoded and trimmed, a kettlebell
    deadlift at half size): wrists near the shoulders with straight elbows are a misread
    wrist only while the hands stay low; hands high above the ankles hold the load up."""
    f = _features(
        wrist_shoulder=wrist_shoulder,
        arm_down=0.97,
        elbow=elbow,
        hands_above_ankles=hands_above_ankles,
        hip_flexion=hip,
        knee_flexion=knee,
    )
    assert classify(f, ExerciseConfig()) == exercise


def test_standing_reference_pools_the_sets_tops():
    """Each rep's own top is one sample; the set's median is the reference."""
    reference = StandingReference()
    base = Baseline()
    tops = [-10.0, -2.0, -9.0, -11.0]  # the second rep's top misread by 8 deg
    seen = []
    for top in tops:
        frames = [
            FrameSignals(t_s=i / 30, depth=d, head_ext_deg=top if d < 0.1 else 20.0)
            for i, d in enumerate([0.02, 0.02, 0.3, 0.4, 0.3, 0.02, 0.02])
        ]
        seen.append(reference.add(RepWindow(frames), base)["head_ext_deg"])
    assert seen == [-10.0, -6.0, -9.0, -9.5]
    # The lockout at frame 6 is confirmed by the next SETTLE_FRAMES (2); frames after those
    # (a cut to another shot, here reading 30 deg) are not its top, and would outvote it.
    frames = [
        FrameSignals(t_s=i / 30, depth=d, head_ext_deg=-10.0 if i < 9 else 30.0)
        for i, d in enumerate([0.02, 0.02, 0.3, 0.4, 0.3] + [0.02] * 11)
    ]
    later = StandingReference()
    assert later.add(RepWindow(frames), base, lockout_t_s=6 / 30)["head_ext_deg"] == -10.0
    assert StandingReference().add(RepWindow(frames), base)["head_ext_deg"] == 30.0
    reference.reset()  # a new set: its own tops again
    assert math.isnan(reference.add(RepWindow([]), base)["spine_dev_norm"])


@pytest.mark.parametrize(
    ("section", "kwargs", "message"),
    [
        (RepConfig, {"lockout_margin_norm": 0.2, "min_amplitude_norm": 0.1}, "lockout_margin"),
        (ViewConfig, {"side_max_width_norm": 0.6, "front_min_width_norm": 0.5}, "side_max"),
        (RepConfig, {"min_rep_s": -1}, "greater than 0"),
        (ViewConfig, {"band_norm": 0.1}, "band_norm"),
    ],
)
def test_inconsistent_thresholds_are_refused(section, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        section(**kwargs)


def _views(widths, band=0.03):
    view = ViewEstimator(ViewConfig(band_norm=band, smoothing_s=0.01))
    labels = []
    for i, width in enumerate(widths):
        view.update(i * 0.1, width)
        labels.append(view.label(side=1))
    return labels


@pytest.mark.parametrize(("front", "reps"), [(False, 0), (True, 2)])
def test_a_front_camera_counts_the_shallower_depth_it_sees(front, reps):
    """Every depth witness foreshortens from the front: the depth level is lower there."""
    depths = np.concatenate([_cycle(depth=0.17)] * 2 + [np.full(30, 0.02)])
    seg = RepSegmenter(RepConfig())
    seg.front_view = front
    counted = [r for i, d in enumerate(depths) if (r := seg.update(i / 30, d))]
    assert len(counted) == reps


def test_the_view_is_front_only_once_its_width_has_been_seen_a_while():
    view = ViewEstimator(ViewConfig(smoothing_s=1.0))
    view.update(0.0, 0.6)  # a first glimpse (a glitch, or the athlete turning)
    assert view.label(side=0) == "front" and not view.front
    for i in range(1, 12):
        view.update(i * 0.1, 0.6)
    assert view.front


def test_a_frame_without_a_lean_does_not_forget_how_far_the_torso_tilted():
    """An RDL tilted to 80 deg comes up to 25 deg (short of upright, far above its
    bottom) early in its rise; one frame there has no lean. It still counts."""
    depths = np.concatenate([_cycle(depth=0.45), np.full(20, 0.02)])
    lean = np.full(len(depths), 25.0)
    lean[:30] = 5.0  # standing, then the descent starts with the hips...
    lean[30:48] = np.linspace(5.0, 80.0, 18)  # ...and the torso tilts
    lean[48:56] = np.linspace(80.0, 25.0, 8)  # the torso leads the rise
    lean[57] = math.nan  # the depth still deep
    seg = RepSegmenter(RepConfig())
    counted = [
        r
        for i, (d, a) in enumerate(zip(depths, lean, strict=True))
        if (r := seg.update(i / 30, d, a))
    ]
    assert len(counted) == 1


def test_view_holds_within_its_dead_band():
    wavering = [0.29, 0.31, 0.29, 0.32, 0.28, 0.31]  # an athlete at the side/oblique boundary
    assert set(_views(wavering)) == {"side_right"}
    assert set(_views([0.31, *wavering])) == {"oblique"}
    assert len(set(_views(wavering, band=0.0))) == 2  # without the band: rep by rep
    # Past the boundary by more than the band, the view follows.
    assert _views([0.29, 0.34, 0.50, 0.42, 0.26]) == [
        "side_right", "oblique", "front", "oblique", "side_right",
    ]  # fmt: skip


def _descent(torso, travel, fps):
    frames = [
        FrameSignals(t_s=i / fps, torso_deg=a, hip_back_norm=b)
        for i, (a, b) in enumerate(zip(torso, travel, strict=True))
    ]
    return RepWindow(frames), RepBoundary(0.0, (len(frames) - 1) / fps, 9.0, False, 0.5)


def test_chest_first_reads_the_hips_where_the_torso_crosses_the_mark():
    """The same descent sampled at 30 and at 15 fps gets about the same severity.

    The torso crosses 40% of its tilt at t = 0.494 s, between frames at both rates; read
    at the next frame instead, the hips have done 9% (30 fps) or 15% (15 fps) of their
    travel, and the severity would be 0.55 or 0.25 for the same movement.
    """
    t = np.linspace(0.0, 1.0, 31)
    torso = 70.0 * t**1.3  # the torso tilts, slightly faster towards the bottom...
    late = 0.2 * np.clip((t - 0.45) / 0.55, 0.0, 1.0)  # ...the hips start back late
    c = FaultConfig()
    fine = chest_first(*_descent(torso, late, 30.0), c)
    coarse = chest_first(*_descent(torso[::2], late[::2], 15.0), c)
    # 0.494 s: the hips have done 8% of their travel; lag 0.4 - 0.08 - 0.2 over 0.2.
    assert fine == pytest.approx(0.6, abs=0.02)
    assert coarse == pytest.approx(fine, abs=0.02)
    early = 0.2 * np.clip((t - 0.2) / 0.8, 0.0, 1.0)  # hips going back early enough
    assert chest_first(*_descent(torso, early, 30.0), c) == 0.0


def test_chest_first_is_not_read_from_hips_that_hardly_travel():
    """A share of a few hundredths of a leg is the landmarks' jitter, not a lead."""
    t = np.linspace(0.0, 1.0, 31)
    stuck = 0.04 * np.clip((t - 0.6) / 0.4, 0.0, 1.0)  # the hips move late, and little
    window, rep = _descent(70.0 * t, stuck, 30.0)
    assert chest_first(window, rep, FaultConfig()) == 0.0
    assert chest_first(window, rep, FaultConfig(chest_first_travel_norm=0.03)) == 1.0


def test_chest_first_is_not_read_from_hips_that_jump():
    """A free foot swinging back, or an ankle read on the other leg for a frame, moves the
    hips' travel a quarter of a leg in 1/30 s: no hips move that fast, so no verdict."""
    t = np.linspace(0.0, 1.0, 31)
    late = 0.2 * np.clip((t - 0.45) / 0.55, 0.0, 1.0)  # chest first, as above: 0.6
    assert chest_first(*_descent(70.0 * t**1.3, late, 30.0), FaultConfig()) > 0.5
    jumped = late.copy()
    jumped[3] -= 0.25  # one frame early in the descent
    assert chest_first(*_descent(70.0 * t**1.3, jumped, 30.0), FaultConfig()) == 0.0


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


def _rdl_from_the_side():
    """One generated RDL seen from the side, and a fresh signal extractor."""
    from edge.hinge.config import SignalConfig
    from edge.hinge.signals import SignalExtractor
    from edge.synth.motion import MotionSpec
    from edge.synth.sequence import CaptureSpec, generate
    from edge.synth.shape import BodyShape

    rng = np.random.default_rng(0)
    seq = generate(MotionSpec("rdl", reps=1), BodyShape.sample(rng), CaptureSpec("side_left"), rng)
    return seq, SignalExtractor(SignalConfig(), "blazepose33")


def _sides(fps, right_vis, seconds=2.0):
    """The near side the extractor reads at each frame of a standing pose seen at `fps`,
    the right side's core joints `right_vis(i)` visible (the left's 0.7)."""
    seq, extractor = _rdl_from_the_side()
    sides = []
    for i in range(int(seconds * fps)):
        vis = np.full(33, 0.7)
        vis[[12, 24, 26, 28]] = right_vis(i)
        sides.append(extractor.update(i / fps, seq.xy[0].tolist(), vis.tolist()).side)
    return sides


@pytest.mark.parametrize("fps", [30.0, 10.0])
def test_the_better_seen_side_is_read_at_any_frame_rate(fps):
    """A steady lead (0.08, below any one frame's switch) wins within a second at 30 and
    at 10 fps; a one-frame blip of the other side does not switch."""
    sides = _sides(fps, lambda i: 0.78)
    assert sides[int(fps) :] == [1] * (len(sides) - int(fps))
    assert set(_sides(fps, lambda i: 1.0 if i == 3 else 0.7)) == {0}


def test_from_the_side_the_fold_is_what_the_torso_lean_allows():
    from edge.hinge.signals import SignalExtractor

    fold = SignalExtractor._side_fold
    assert fold(0.4, 3.0, frontal=0.0) == pytest.approx(1 - math.cos(math.radians(3)) + 0.1)
    assert fold(0.85, 80.0, frontal=0.0) == 0.85  # a hinged torso: its fold as measured
    assert fold(0.4, 3.0, frontal=1.0) == 0.4  # square on, shortening *is* the fold
    assert fold(0.4, 3.0, frontal=0.5) == pytest.approx(0.5 * 0.4 + 0.5 * fold(0.4, 3.0, 0.0))
    assert math.isnan(fold(math.nan, 3.0, frontal=0.0))
    assert fold(0.4, math.nan, frontal=0.0) == 0.4


def test_a_torso_that_only_looks_shorter_standing_reads_as_standing_from_the_side():
    """A high side camera: after a hinge has shown the torso at full length, the upright
    torso looks 40% shorter (the hips read higher). It is not folded: the depth stays at
    standing, so the lockout is seen."""
    seq, extractor = _rdl_from_the_side()
    vis = np.ones(33).tolist()
    fps = 30.0
    for i, xy in enumerate(seq.xy):
        extractor.update(i / fps, xy.tolist(), vis)
    last = seq.xy[-1]
    torso = last[[23, 24]].mean(axis=0) - last[[11, 12]].mean(axis=0)
    depths = []
    for k in range(30):  # the hips creep up to 40% of a torso higher over half a second
        standing = last.copy()
        standing[[23, 24]] -= min(k / 15, 1.0) * 0.4 * torso
        depths.append(extractor.update((len(seq.xy) + k) / fps, standing.tolist(), vis).depth)
    assert max(depths[15:]) < 0.1
