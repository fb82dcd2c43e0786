"""`tools/model_agreement.py`: a landmark model judged by its verdicts (no data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools import devclips, model_agreement, stability
from tools.devclips import Clip, track_path


def _rep(rep_id: str, t_lockout_s: float, *codes: str) -> dict:
    faults = [{"code": c, "severity": 0.5, "cue": ""} for c in codes]
    return {"event": "rep", "id": rep_id, "score": 90.0, "faults": faults}


def _events(*reps: dict) -> list[dict]:
    return [*reps, {"event": "set", "exercise": "rdl", "reps": len(reps)}]


def _fill(lockouts: list[float]) -> list[dict]:
    return [_rep(f"r{i}", t) | {"t_lockout_s": t} for i, t in enumerate(lockouts)]


def _results(candidate_faults: str, half_faults: str) -> dict:
    """One rate: FP32's reps against a candidate and a half-size delivery."""
    base = _events(*_fill([2.0, 5.0]))

    def other(faulty: str) -> list[dict]:
        reps = _fill([2.0, 5.0])
        if faulty:
            reps[1]["faults"] = [{"code": faulty, "severity": 0.5, "cue": ""}]
        return _events(*reps)

    rows = {
        model_agreement.Run("int8").label: [stability.compare("c", base, other(candidate_faults))],
        model_agreement.Run("fp32", "half").label: [
            stability.compare("c", base, other(half_faults))
        ],
    }
    return {0.0: rows}


def test_a_candidate_as_good_as_a_re_encode_can_be_the_default() -> None:
    results = _results(candidate_faults="", half_faults="spine_flexion")
    ok, short = model_agreement.decide(
        results, model_agreement.Run("int8"), [model_agreement.Run("fp32", "half")]
    )
    assert ok and short == []


def test_a_candidate_flipping_more_faults_than_a_re_encode_stays_an_option() -> None:
    results = _results(candidate_faults="head_extension", half_faults="")
    ok, short = model_agreement.decide(
        results, model_agreement.Run("int8"), [model_agreement.Run("fp32", "half")]
    )
    assert not ok
    assert short == ["faults_equal at every frame: 50% against FP32 half's 100%"]


def test_equal_agreement_is_enough() -> None:
    results = _results(candidate_faults="knee_dominant", half_faults="chest_first")
    ok, _ = model_agreement.decide(
        results, model_agreement.Run("int8"), [model_agreement.Run("fp32", "half")]
    )
    assert ok


def _track(xy: np.ndarray, t: np.ndarray | None = None) -> dict[str, np.ndarray]:
    frames = len(xy)
    return {
        "t": np.arange(frames) / 30.0 if t is None else t,
        "xy": xy,
        "visibility": np.ones((frames, 33)),
    }


def _standing(frames: int) -> np.ndarray:
    xy = np.zeros((frames, 33, 2))
    for side, x in ((0, 100.0), (1, 101.0)):  # left and right, shoulder/hip/knee/ankle
        for joint, y in zip((11, 23, 25, 27), (100.0, 200.0, 300.0, 400.0), strict=True):
            xy[:, joint + side] = (x, y)
    return xy


def test_angle_gaps_line_frames_up_and_skip_frames_without_a_person() -> None:
    a = _standing(4)
    b = a.copy()
    b[:, 25:27, 0] += 100.0  # knees forward: hip and knee angles change, trunk does not
    b[2] = np.nan  # nobody found in one frame
    gaps = model_agreement.angle_gaps(_track(a), _track(b))
    assert gaps is not None and gaps.shape == (3, 3)
    assert gaps[:, 0] == pytest.approx(45.0) and gaps[:, 2] == pytest.approx(0.0)
    assert gaps[:, 1] == pytest.approx(90.0)


def test_angle_gaps_refuse_frames_that_do_not_line_up() -> None:
    a = _standing(4)
    assert model_agreement.angle_gaps(_track(a), _track(a[:3])) is None
    assert model_agreement.angle_gaps(_track(a), _track(a, np.arange(4) / 15.0)) is None


def test_labels_name_the_model_or_the_delivery() -> None:
    assert model_agreement.Run("blazepose_full_int8_qat").label == (
        "blazepose_full_int8_qat vs FP32 (same video)"
    )
    assert model_agreement.Run("x", "crf35").label == (
        "FP32 vs FP32 crf35 (harsh re-encode (CRF 35))"
    )


def test_the_default_models_name_shares_the_default_cache() -> None:
    clip = Clip("repo/clip.mp4", "rdl", "side", 1, "good", "high")
    default = model_agreement.REFERENCE
    assert track_path(clip, "", default) == track_path(clip, "", "")
    assert track_path(clip, "", "blazepose_full_int8_qat") != track_path(clip, "", "")


def test_missing_data_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(model_agreement, "DATA", tmp_path)
    assert model_agreement.main(["--out", str(tmp_path / "out.md")]) == 2
    assert "no labelled data" in capsys.readouterr().err
    assert not (tmp_path / "out.md").exists()


def _shortest_clip(data: Path) -> Clip:
    clips = devclips.load_clips(data)
    return min(clips, key=lambda c: (data / c.path).stat().st_size)


def test_rekey_links_old_caches_only_when_the_landmarks_are_the_same(
    shared_data, pose_models, tmp_path, monkeypatch
) -> None:
    # A real extraction of the smallest clip under today's key stands in for an old key's.
    monkeypatch.setattr(devclips, "CACHE", tmp_path)
    clip = _shortest_clip(shared_data)
    devclips.extract_one((clip, "", "", False, 0.0))
    old = tmp_path / "oldkey"
    (tmp_path / devclips.pose_key()).rename(old)
    (old / "extra-perturbed.npz").write_bytes(b"another delivery's track")
    message = devclips.rekey("oldkey", [clip], check=1)
    assert message == f"1 clips identical; 1 files of oldkey linked into {devclips.pose_key()}"
    assert (tmp_path / devclips.pose_key() / "extra-perturbed.npz").exists()


def test_rekey_refuses_when_a_landmark_moved(shared_data, pose_models, tmp_path, monkeypatch):
    monkeypatch.setattr(devclips, "CACHE", tmp_path)
    clip = _shortest_clip(shared_data)
    devclips.extract_one((clip, "", "", False, 0.0))
    old = tmp_path / "oldkey"
    (tmp_path / devclips.pose_key()).rename(old)
    path = old / devclips.track_path(clip).name
    with np.load(path) as data:
        track = dict(data)
    track["xy"] = track["xy"] + 0.5  # what a change to the crop would do
    np.savez_compressed(path, **track)
    message = devclips.rekey("oldkey", [clip], check=1)
    assert message == f"{clip.name}: xy differs from oldkey; extract afresh"
    new = tmp_path / devclips.pose_key()
    assert [p.name for p in new.iterdir()] == [path.name]  # the fresh track, nothing linked
