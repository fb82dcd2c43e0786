"""Replay reads files through the daemon's capture code: its opener and its frame check."""

from __future__ import annotations

import pytest

from edge.capture import opener, video
from edge.errors import SourceError


def test_replay_opens_files_with_the_cameras_opener(clip, monkeypatch):
    opened = []

    def spy(source, options):
        opened.append((source.kind, options.open_timeout_s))
        return opener.open_capture(source, options)

    monkeypatch.setattr(video, "open_capture", spy)
    frames = list(video.iter_video(clip))
    assert opened == [("file", 5.0)]  # a file source, with the capture options' timeouts
    assert len(frames) == 60
    assert [f.index for f in frames[:3]] == [0, 1, 2]
    assert frames[1].t_s == pytest.approx(1 / 20)


def test_a_frame_the_readers_check_refuses_is_skipped_with_its_time(clip, monkeypatch, caplog):

    real = opener.check_image
    calls = []

    def refuse_fifth(image):
        calls.append(1)
        return "image has shape (0, 0, 3)" if len(calls) == 5 else real(image)

    monkeypatch.setattr(video, "check_image", refuse_fifth)
    frames = list(video.iter_video(clip))
    assert len(frames) == 59
    assert 4 not in [f.index for f in frames]  # the slot stays empty, later times hold
    assert frames[4].index == 5 and frames[4].t_s == pytest.approx(5 / 20)
    assert any("frame 4 skipped" in r.getMessage() for r in caplog.records)


def test_replay_and_cameras_share_one_file_check(tmp_path):
    for check in (video.check_video_path, opener.check_file):
        with pytest.raises(SourceError, match="is a directory, not a video file"):
            check(tmp_path)
    with pytest.raises(SourceError, match=r"does not exist$"):
        video.check_video_path(tmp_path / "none.mp4")
