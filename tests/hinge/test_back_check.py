"""The back check: which frames the engine asks the mask model for, and its verdict."""

from __future__ import annotations

import numpy as np

from edge.contract import RepEvent
from edge.hinge import HingeConfig, HingeScorer
from edge.hinge.signals import BackShape
from edge.synth.motion import MotionSpec
from edge.synth.sequence import CaptureSpec, generate
from edge.synth.shape import BodyShape


def _rdl_set():
    spec = MotionSpec(exercise="rdl", reps=3)
    return generate(spec, BodyShape(), CaptureSpec(), np.random.default_rng(0))


def _run(seq, bulge: float | None, config: HingeConfig | None = None):
    """Scores a set, giving the back's outline (this bulge) on the frames asked for."""
    scorer = HingeScorer(config or HingeConfig(exercise="rdl"))
    events, asked, phases = [], [], []
    for i, t in enumerate(seq.t):
        t = float(t)
        wants = scorer.wants_back(t)
        back = BackShape(bulge, bulge / 2, bulge, 0.02) if wants and bulge is not None else None
        asked.append(wants)
        events += scorer.update(t, seq.xy[i], seq.visibility[i], seq.world[i], back=back)
        phases.append(scorer.state["phase"])
    events += scorer.close(float(seq.t[-1]))
    return [e for e in events if isinstance(e, RepEvent)], np.array(asked), phases


def test_the_mask_is_asked_for_a_few_deep_and_top_frames_only():
    seq = _rdl_set()
    reps, asked, phases = _run(seq, 0.01)
    assert len(reps) == 3
    duration = float(seq.t[-1] - seq.t[0])
    # at most max_rate_hz (5) a second, and far fewer than every frame
    assert 0 < asked.sum() <= 5 * duration + 1
    assert asked.mean() < 0.25
    # never while standing between reps
    standing = np.array([p == "top" for p in phases])
    assert not np.any(asked[1:] & standing[:-1] & standing[1:])


def test_a_rounded_outline_is_a_spine_flexion_and_a_metric():
    rounded, _, _ = _run(_rdl_set(), 0.10)
    for rep in rounded:
        assert rep.metrics.back_rounding == 0.1
        assert "spine_flexion" in [f.code for f in rep.faults]
    arches = [rep.metrics.lumbar_arch for rep in rounded]
    assert set(arches) <= {0.02, None} and 0.02 in arches  # where the top was masked
    straight, _, _ = _run(_rdl_set(), 0.01)
    for rep in straight:
        assert rep.metrics.back_rounding == 0.01
        assert "spine_flexion" not in [f.code for f in rep.faults]


def test_without_the_mask_the_metrics_are_null_and_the_dowel_witness_stands():
    reps, asked, _ = _run(_rdl_set(), None)
    assert asked.any()  # asked, but no mask model answered
    for rep in reps:
        assert rep.metrics.back_rounding is None and rep.metrics.lumbar_arch is None
        assert "spine_flexion" not in [f.code for f in rep.faults]


def test_the_back_check_can_be_turned_off():
    config = HingeConfig(exercise="rdl", back={"enabled": False})
    _, asked, _ = _run(_rdl_set(), 0.10, config)
    assert not asked.any()
