"""`tools/stability.py`: pairing reps of two runs and comparing their verdicts (no data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import stability


def _rep(rep_id: str, t_lockout_s: float, score: float | None, *codes: str) -> dict:
    return {
        "event": "rep",
        "id": rep_id,
        "exercise": "rdl",
        "score": score,
        "faults": [{"code": c, "severity": 0.5, "cue": ""} for c in codes],
        "t_start_s": t_lockout_s - 2.0,
        "t_bottom_s": t_lockout_s - 1.0,
        "t_lockout_s": t_lockout_s,
    }


def _update(rep_id: str, score: float | None, *codes: str) -> dict:
    return {
        "event": "rep_update",
        "id": f"{rep_id}-lowering",
        "rep_id": rep_id,
        "score": score,
        "faults": [{"code": c, "severity": 0.5, "cue": ""} for c in codes],
    }


def _set(exercise: str | None, reps: int) -> dict:
    return {"event": "set", "exercise": exercise, "reps": reps}


def _reps(*lockouts: float) -> list[stability.Rep]:
    return [stability.Rep(t, frozenset(), 90.0) for t in lockouts]


def test_trim_offset_comes_from_the_ffmpeg_options() -> None:
    assert stability.time_offset("trim") == pytest.approx(0.2)
    assert stability.time_offset("half") == 0.0
    assert stability.time_offset("fps15") == 0.0


def test_trimmed_reps_pair_once_their_shift_is_undone() -> None:
    original = _reps(2.0, 4.1, 6.3)
    trimmed = _reps(1.8, 3.9, 6.1)  # the same reps, 0.2 s earlier on the cut clip's clock
    pairing = stability.pair_reps(original, trimmed, stability.time_offset("trim"))
    assert pairing.pairs == [(0, 0), (1, 1), (2, 2)]
    assert pairing.only_original == pairing.only_perturbed == []


def test_without_the_offset_a_near_window_edge_rep_is_lost() -> None:
    # 0.5 s early plus the trim shift: within the window only once the 0.2 s is undone
    original, trimmed = _reps(5.0), _reps(4.45)
    assert stability.pair_reps(original, trimmed, 0.2).pairs == [(0, 0)]
    assert stability.pair_reps(original, trimmed, 0.0, window_s=0.5).pairs == []


def test_pairing_is_one_to_one_nearest_first() -> None:
    # both original reps are near the single perturbed one: the nearer takes it
    pairing = stability.pair_reps(_reps(3.0, 3.5), _reps(3.4))
    assert pairing.pairs == [(1, 0)]
    assert pairing.only_original == [0]


def test_an_unpaired_rep_is_a_disagreement() -> None:
    original = [_rep("a-1-1", 2.0, 90.0), _rep("a-1-2", 5.0, 90.0), _set("rdl", 2)]
    perturbed = [_rep("b-1-1", 2.1, 90.0), _rep("b-1-2", 8.0, 90.0), _set("rdl", 2)]
    c = stability.compare("clip", original, perturbed)
    assert c.reps == (2, 2)
    assert (c.paired, c.unpaired, c.faults_equal, c.rep_verdicts) == (1, 2, 1, 3)
    assert not c.agrees
    assert "rep at 5.0 s: only as it is" in c.differences
    assert "rep at 8.0 s: only perturbed" in c.differences
    s = stability.summarise([c])
    assert s["rep_counts_equal"] == 1
    assert s["shares"]["faults_equal"] == pytest.approx(1 / 3)
    assert s["shares"]["scores_within"] == 1.0  # scores are compared on paired reps only
    assert s["meets"] == {"rep_counts_equal": True, "faults_equal": False, "scores_within": True}
    assert s["faults_equal_paired_share"] == 1.0  # the verdicts alone: the paired rep agrees
    assert "| 33% (1 / 3) ✗ | 100% (1 / 1) |" in stability.summary_table({"half": [c]})


def test_fault_set_merges_the_rep_update_faults_and_takes_its_score() -> None:
    events = [
        _rep("r-1-1", 3.0, 92.0, "hips_rise_first"),
        _update("r-1-1", 80.0, "rushed_eccentric"),
        _rep("r-1-2", 6.0, 88.0),
    ]
    reps = stability.reps_of(events)
    assert reps[0].faults == {"hips_rise_first", "rushed_eccentric"}
    assert reps[0].score == 80.0
    assert reps[1].faults == frozenset() and reps[1].score == 88.0


def test_a_fault_only_in_the_update_still_differs() -> None:
    original = [_rep("a-1-1", 3.0, 92.0), _update("a-1-1", 85.0, "rushed_eccentric")]
    perturbed = [_rep("b-1-1", 3.0, 88.0)]
    c = stability.compare("clip", original, perturbed)
    assert (c.paired, c.faults_equal, c.scores_within) == (1, 0, 1)
    assert c.differences == ["rep at 3.0 s: -rushed_eccentric"]
    worse = [_rep("b-1-1", 3.0, 70.0, "spine_flexion")]
    assert stability.compare("clip", original, worse).differences == [
        "rep at 3.0 s: +spine_flexion -rushed_eccentric, score 85 -> 70"
    ]
    flipped = stability.compare("clip", original, worse)
    assert flipped.flips == {"spine_flexion": 1, "rushed_eccentric": 1}
    assert "| spine_flexion | 1 |" in stability.flips_table({"half": [flipped]})


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        (80.0, 85.0, True),  # exactly 5 points: within
        (80.0, 85.1, False),  # just over
        (90.0, 84.5, False),  # either direction
        (None, None, True),  # squats carry no score on either side
        (None, 80.0, False),  # a squat on one side, a scored hinge on the other
    ],
)
def test_score_within_five(a: float | None, b: float | None, close: bool) -> None:
    assert stability.scores_close(a, b) is close


def test_scores_compare_the_final_score_of_each_rep() -> None:
    # the rep's first score differs by 8, but its update brings it within 5
    original = [_rep("a-1-1", 3.0, 90.0), _set("deadlift", 1)]
    perturbed = [_rep("b-1-1", 3.1, 98.0), _update("b-1-1", 94.0), _set("deadlift", 1)]
    c = stability.compare("clip", original, perturbed)
    assert c.scores_within == 1 and c.agrees


def test_exercise_is_the_main_sets() -> None:
    original = [_set("rdl", 1), _set("deadlift", 5)]
    perturbed = [_set("deadlift", 5)]
    assert stability.compare("clip", original, perturbed).exercise == ("deadlift", "deadlift")
    c = stability.compare("clip", original, [_set("good_morning", 5)])
    assert not c.exercise_equal and not c.agrees
    assert stability.exercise_of([]) is None


def test_summary_shares_and_targets() -> None:
    same = [_rep("a-1-1", 3.0, 90.0), _set("rdl", 1)]
    agreeing = stability.compare("one", same, same)
    off = stability.compare("two", same, [_rep("b-1-1", 3.0, 70.0), _set("rdl", 1)])
    extra = stability.compare("three", same, [*same[:1], _rep("b-1-2", 9.0, 90.0)])
    s = stability.summarise([agreeing, off, extra])
    assert (s["clips"], s["rep_counts_equal"], s["paired"], s["scores_within"]) == (3, 2, 3, 2)
    assert s["meets"]["rep_counts_equal"] is False
    assert s["shares"]["scores_within"] == pytest.approx(2 / 3)
    assert "✗" in stability.summary_table({"half": [agreeing, off, extra]})
    assert "rep at 3.0 s: score 90 -> 70" in stability.detail_table({"half": [off]})


def test_no_reps_at_all_meets_the_targets_vacuously() -> None:
    s = stability.summarise([stability.compare("empty", [], [])])
    assert s["shares"]["faults_equal"] is None
    assert all(s["meets"].values())


def test_missing_data_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(stability, "DATA", tmp_path)
    assert stability.main(["--out", str(tmp_path / "out.md")]) == 2
    assert "no labelled data" in capsys.readouterr().err
    assert not (tmp_path / "out.md").exists()


def test_compare_undoes_the_trim_shift_and_reports_on_the_original_clock() -> None:
    original = [_rep("a-1-1", 2.0, 90.0), _set("rdl", 1)]
    trimmed = [_rep("b-1-1", 1.8, 90.0), _rep("b-1-2", 7.8, 90.0), _set("rdl", 2)]
    c = stability.compare("clip", original, trimmed, stability.time_offset("trim"))
    assert (c.paired, c.faults_equal, c.unpaired) == (1, 1, 1)
    assert c.differences == ["rep at 8.0 s: only perturbed"]


def test_a_slow_lockout_pairs_by_its_span() -> None:
    # the same slow rep: lockouts 1.1 s apart, spans 0-5.35 s and 0.5-4.25 s
    original = [stability.Rep(5.35, frozenset(), 90.0, 0.0)]
    perturbed = [stability.Rep(4.25, frozenset(), 90.0, 0.5)]
    assert stability.span_overlap(original[0], perturbed[0]) == pytest.approx(3.75 / 5.35)
    assert stability.pair_reps(original, perturbed).pairs == [(0, 0)]
    # two reps in a row overlap little: not the same rep
    after = [stability.Rep(9.0, frozenset(), 90.0, 4.0)]
    assert stability.pair_reps(original, after).pairs == []


def _judged(rep_id: str, t: float, view: str, **severities: float) -> dict:
    event = _rep(rep_id, t, 90.0)
    event["view"] = view
    event["faults"] = [{"code": c, "severity": s, "cue": ""} for c, s in severities.items()]
    return event


def test_each_disagreement_has_one_cause() -> None:
    original = [
        _judged("a-1-1", 2.0, "side_left", head_extension=0.2),  # at its line
        _judged("a-1-2", 5.0, "side_left", chest_first=1.0),  # a long way past it
        _judged("a-1-3", 8.0, "side_left", spine_flexion=0.6),  # judged from another view
        _judged("a-1-4", 11.0, "side_left", knee_dominant=0.9),  # the same: agrees
        _judged("a-1-5", 14.0, "side_left"),  # counted as it is only
    ]
    perturbed = [
        _judged("b-1-1", 2.0, "side_left"),
        _judged("b-1-2", 5.0, "side_left", head_extension=0.16),
        _judged("b-1-3", 8.0, "oblique"),
        _judged("b-1-4", 11.0, "side_left", knee_dominant=0.7),
    ]
    c = stability.compare("clip", original, perturbed)
    assert c.causes == {"near the line": 1, "a jump": 1, "view or exercise": 1, "no partner": 1}
    assert sum(c.causes.values()) == c.rep_verdicts - c.faults_equal
    table = stability.causes_table({"half": [c]})
    assert "| near the line (" in table and table.count(" | 1 |") == 4


def test_a_fault_reported_on_both_sides_does_not_decide_the_cause() -> None:
    a = stability.reps_of(
        [_judged("a-1-1", 2.0, "side_left", knee_dominant=1.0, head_extension=0.2)]
    )
    b = stability.reps_of([_judged("b-1-1", 2.0, "side_left", knee_dominant=0.9)])
    assert stability.why_verdicts_differ(a[0], b[0], floor=0.15) == "near the line"
    assert stability.why_verdicts_differ(a[0], b[0], floor=0.0) == "a jump"
