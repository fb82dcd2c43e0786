"""`hinge-edge replay` checks its input before any model loads, and says what is wrong in
its own words only: no OpenCV or FFmpeg line before (or instead of) the error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import edge.pose
from edge.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nope.mp4"


def _directory(tmp_path: Path) -> Path:
    (tmp_path / "clips").mkdir()
    return tmp_path / "clips"


def _not_a_video(tmp_path: Path) -> Path:
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"this is not a video\n" * 100)
    return path


BAD_INPUTS: list[tuple[Callable[[Path], Path], str]] = [
    (_missing, "video file {} does not exist"),
    (_directory, "{} is a directory, not a video file"),
    (_not_a_video, "cannot open {} as a video (not a video, or an unknown codec)"),
]
IDS = ["missing", "directory", "not-a-video"]


@pytest.fixture
def no_models(monkeypatch):
    """Fails the test where the replay gets as far as the pose models."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the pose models were loaded before the input was checked")

    monkeypatch.setattr(edge.pose, "PoseEstimator", refuse)
    monkeypatch.setattr(edge.pose, "load_pose_models", refuse)


@pytest.mark.parametrize(("make", "message"), BAD_INPUTS, ids=IDS)
def test_replay_refuses_bad_input_before_any_model(tmp_path, capsys, no_models, make, message):
    video = make(tmp_path)
    assert main(["replay", str(video), "--events", str(tmp_path / "e.jsonl")]) == 2
    assert message.format(video) in capsys.readouterr().err
    assert not (tmp_path / "e.jsonl").exists()


@pytest.mark.parametrize("fps", ["-5", "nan"])
def test_replay_refuses_a_negative_rate_before_any_model(tmp_path, capsys, no_models, fps):
    video = _not_a_video(tmp_path)
    argv = ["replay", str(video), "--events", str(tmp_path / "e.jsonl"), "--fps", fps]
    assert main(argv) == 2
    assert f"--fps must be 0 (every frame) or more, not {fps}" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_replay_refuses_an_unreadable_file(tmp_path, capsys, no_models):
    video = _not_a_video(tmp_path)
    video.chmod(0)
    assert main(["replay", str(video), "--events", str(tmp_path / "e.jsonl")]) == 2
    assert f"video file {video} is not readable" in capsys.readouterr().err


@pytest.mark.parametrize(("make", "message"), BAD_INPUTS, ids=IDS)
def test_replay_error_is_the_only_output(tmp_path, make, message):
    """The real command in a fresh process: OpenCV reads its log levels only once."""
    video = make(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    done = subprocess.run(
        [sys.executable, "-m", "edge", "replay", str(video), "--events", str(tmp_path / "e")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert message.format(video) in done.stderr
    assert "[ WARN" not in done.stderr and "[ERROR" not in done.stderr  # OpenCV's own
    assert "moov atom" not in done.stderr and " @ 0x" not in done.stderr  # FFmpeg's own
    assert "loaded from" not in done.stderr  # no model was loaded (edge.pose.runtime)
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
