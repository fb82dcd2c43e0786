"""CameraReader on real video files: paced playback, loop, end, missing and corrupt files."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.reader import CameraReader
from edge.capture.snapshot import CaptureState, Quality
from edge.capture.video import iter_video, open_video
from edge.errors import SourceError
from tests.capture.conftest import CLIP_FPS, CLIP_SECONDS
from tests.servers.streams import wait_until, write_test_clip

FAST_RETRY = ReaderTuning(backoff_min_s=0.05, backoff_max_s=0.2)


def _drain(reader: CameraReader, seconds: float, until_ended: bool = False) -> list:
    """Takes every frame it can for `seconds` (polling every 5 ms)."""
    frames, seq = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = reader.latest(seq)
        if frame is not None:
            frames.append(frame)
            seq = frame.seq
        elif until_ended and reader.snapshot().state is CaptureState.ENDED:
            break
        time.sleep(0.005)
    return frames


@pytest.mark.slow
def test_file_plays_at_its_own_rate_then_ends(clip, state_log):
    reader = CameraReader("file-a", str(clip), CaptureConfig(loop=False), state_log)
    reader.start()
    try:
        assert "capture:file-a" in {t.name for t in threading.enumerate()}
        frames = _drain(reader, 15.0, until_ended=True)
        snap = reader.snapshot()
    finally:
        assert reader.stop(timeout_s=2.0)
    expected = round(CLIP_SECONDS * CLIP_FPS)
    assert snap.state is CaptureState.ENDED and snap.quality is Quality.OFFLINE
    assert snap.frames_read == expected and snap.nominal_fps == pytest.approx(CLIP_FPS)
    assert len(frames) + snap.frames_skipped >= expected - 1  # at most the last one untaken
    # paced like a camera: the clip spans about its own length on the wall clock (never much
    # less; a busy CI box can only make it longer)
    wall_s = frames[-1].ts_mono - frames[0].ts_mono
    media_s = frames[-1].stream_s - frames[0].stream_s
    assert media_s == pytest.approx((frames[-1].seq - frames[0].seq) / CLIP_FPS, abs=1e-3)
    assert wall_s >= media_s - 0.1
    assert wall_s < media_s + 2.0
    assert {f.stream_epoch for f in frames} == {1}
    assert frames[0].image.shape == (120, 160, 3) and frames[0].image.dtype == np.uint8
    assert state_log.states() == [CaptureState.ONLINE, CaptureState.ENDED, CaptureState.STOPPED]
    assert {name for *_, name in state_log.events[:2]} == {"capture:file-a"}
    assert snap.reconnects == 0 and snap.stalls == 0 and snap.corrupt_frames == 0


@pytest.mark.slow
def test_loop_restarts_the_file_with_a_new_epoch(short_clip, state_log):
    reader = CameraReader("file-b", str(short_clip), CaptureConfig(loop=True), state_log)
    reader.start()
    try:
        frames = _drain(reader, 2.6)
        snap = reader.snapshot()
    finally:
        reader.stop(timeout_s=2.0)
    epochs = [f.stream_epoch for f in frames]
    assert epochs == sorted(epochs) and epochs[-1] >= 3  # 1 s clip, 2.6 s of playback
    restart = next(f for f in frames if f.stream_epoch == 2)
    assert restart.stream_s < 0.2  # stream time starts again with the epoch
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})  # seq never repeats
    assert snap.state is CaptureState.ONLINE and snap.reconnects == 0
    assert state_log.states() == [CaptureState.ONLINE, CaptureState.STOPPED]


@pytest.mark.slow
def test_slow_consumer_counts_skipped_frames(clip):
    reader = CameraReader("file-c", str(clip), CaptureConfig(loop=True))
    reader.start()
    taken, seq = 0, 0
    try:
        for _ in range(8):
            time.sleep(0.15)  # 3 frames at 20 fps each time
            frame = reader.latest(seq)
            if frame is not None:
                taken, seq = taken + 1, frame.seq
        assert reader.stop(timeout_s=2.0)
        snap = reader.snapshot()
    finally:
        reader.stop(timeout_s=2.0)
    assert taken >= 6
    assert snap.frames_skipped >= 2 * taken - 2
    assert snap.frames_read - taken - snap.frames_skipped in (0, 1)  # newest may be untaken
    assert snap.state is CaptureState.STOPPED


def test_missing_file_is_offline_retries_and_is_picked_up_later(tmp_path, clip, caplog):
    caplog.set_level(logging.DEBUG, logger="edge.capture")
    path = tmp_path / "later.mp4"
    tuning = FAST_RETRY.model_copy(update={"restart_budget": 2, "restart_window_s": 60})
    reader = CameraReader("file-d", str(path), tuning=tuning)
    reader.start()
    try:
        assert wait_until(lambda: reader.snapshot().reconnects >= 4, 10.0)
        snap = reader.snapshot()
        assert snap.state is CaptureState.OFFLINE and snap.quality is Quality.OFFLINE
        assert snap.last_error == (
            f"video file {path} does not exist: check the camera's source path"
        )
        assert snap.over_budget  # 4 reopenings > budget 2 within the window: retries go on
        over = [r for r in caplog.records if "reopenings within" in r.getMessage()]
        assert len(over) == 1 and over[0].levelno == logging.ERROR  # logged once
        shutil.copy(clip, path)  # the "camera" comes back
        assert wait_until(lambda: reader.snapshot().state is CaptureState.ONLINE, 10.0)
        assert reader.latest(0) is not None
    finally:
        assert reader.stop(timeout_s=2.0)


def test_garbage_named_mp4_is_offline_with_a_clear_error(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, np.uint8).tobytes())
    reader = CameraReader("file-e", str(path), tuning=FAST_RETRY)
    reader.start()
    try:
        assert wait_until(lambda: reader.snapshot().reconnects >= 2, 10.0)
        snap = reader.snapshot()
    finally:
        assert reader.stop(timeout_s=2.0)
    assert snap.state is CaptureState.OFFLINE
    assert snap.last_error == f"cannot open {path} as a video (not a video, or an unknown codec)"
    assert snap.frames_read == 0 and snap.last_frame_age_s is None


@pytest.mark.slow
def test_file_corrupt_in_the_middle_plays_what_decodes_then_ends(tmp_path, clip):
    data = bytearray(clip.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 600] = np.random.default_rng(1).integers(0, 256, 600, np.uint8).tobytes()
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    reader = CameraReader("file-f", str(path), tuning=FAST_RETRY)
    reader.start()
    try:
        assert wait_until(lambda: reader.snapshot().state is CaptureState.ENDED, 10.0)
        snap = reader.snapshot()
    finally:
        assert reader.stop(timeout_s=2.0)
    # FFmpeg stops decoding at the damage (23 of 60 frames here); what came before stands
    assert 0 < snap.frames_read < 60
    assert snap.corrupt_frames == 0  # nothing malformed was handed over


def test_video_module_api_still_reads_files(clip, tmp_path):
    capture, info = open_video(clip)
    capture.release()
    assert (info.fps, info.frame_count, info.width, info.height) == (CLIP_FPS, 60, 160, 120)
    frames = list(iter_video(clip))
    assert [f.index for f in frames] == list(range(60))
    assert frames[1].t_s == pytest.approx(1 / CLIP_FPS)
    with pytest.raises(SourceError, match="does not exist"):
        open_video(tmp_path / "none.mp4")


def test_a_failing_callback_does_not_stop_the_reader(short_clip, caplog):
    def broken(camera_id, snapshot):
        raise ValueError("subscriber bug")

    reader = CameraReader("file-g", str(short_clip), CaptureConfig(), broken)
    reader.start()
    try:
        assert wait_until(lambda: reader.snapshot().state is CaptureState.ENDED, 10.0)
    finally:
        assert reader.stop(timeout_s=2.0)
    assert reader.snapshot().frames_read == 20
    failures = [r for r in caplog.records if "on_state_change callback failed" in r.getMessage()]
    assert len(failures) == 3  # online, ended, stopped: each logged with its traceback
    assert all(r.exc_info is not None for r in failures)


def test_usb_camera_without_a_device_is_offline(state_log):
    # No camera on this machine (hardware boundary): only the real "cannot open" path runs.
    if Path("/dev/video37").exists():
        pytest.skip("/dev/video37 exists here")
    reader = CameraReader("usb-a", "usb:37", on_state_change=state_log, tuning=FAST_RETRY)
    reader.start()
    try:
        assert wait_until(lambda: reader.snapshot().reconnects >= 1, 10.0)
        snap = reader.snapshot()
    finally:
        assert reader.stop(timeout_s=2.0)
    assert snap.kind == "usb" and snap.state is CaptureState.OFFLINE
    assert snap.last_error.startswith("cannot open USB camera usb:37 (V4L2)")


@pytest.mark.slow
def test_a_file_that_loops_too_fast_backs_off_and_says_offline(tmp_path, state_log, caplog):
    # One frame: it plays in no time, like a file whose container says 0 fps (nothing to
    # pace it). Before: reopened as fast as it opened, "online/good" all along.
    one_frame = write_test_clip(tmp_path / "one.mp4", seconds=0.05, fps=20.0)
    tuning = ReaderTuning(backoff_min_s=0.1, backoff_max_s=0.4)
    reader = CameraReader("file-x", str(one_frame), CaptureConfig(loop=True), state_log, tuning)
    cpu_before = time.process_time()
    reader.start()
    try:
        _drain(reader, 2.0)
        snap = reader.snapshot()
    finally:
        reader.stop(timeout_s=2.0)
    cpu_s = time.process_time() - cpu_before
    # Waits 0.1, 0.2, 0.4, 0.4, ...: a handful of reopenings in 2 s, not hundreds.
    assert 3 <= snap.reconnects <= 7, snap.reconnects
    assert snap.quality is not Quality.GOOD  # poor: reopenings are incidents
    assert CaptureState.OFFLINE in state_log.states()
    assert "played in 0.0" in snap.last_error and "looping it with backoff" in snap.last_error
    assert cpu_s < 1.0  # the whole test process, 2 s of wall time
