"""CameraReader on a live HTTP MJPEG stream served by ffmpeg: read, lose, stall, recover."""

from __future__ import annotations

import time

import pytest

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.reader import CameraReader
from edge.capture.snapshot import CaptureState
from tests.servers.streams import missing_ffmpeg, mjpeg_server, wait_until

pytestmark = pytest.mark.skipif(missing_ffmpeg() is not None, reason=str(missing_ffmpeg()))

OPTIONS = CaptureConfig(open_timeout_s=2.0, read_timeout_s=0.5, stall_timeout_s=1.0)
TUNING = ReaderTuning(backoff_min_s=0.1, backoff_max_s=0.4)


@pytest.fixture
def camera(clip):
    with mjpeg_server(clip) as server:
        yield server


def _state_is(reader: CameraReader, state: CaptureState):
    return lambda: reader.snapshot().state is state


def test_reads_live_frames(camera):
    reader = CameraReader("mj-a", camera.url, OPTIONS, tuning=TUNING)
    reader.start()
    try:
        assert wait_until(_state_is(reader, CaptureState.ONLINE), 10.0), camera.log()
        assert wait_until(lambda: reader.snapshot().frames_read >= 20, 10.0)
        first = reader.latest(0)
        time.sleep(0.3)
        second = reader.latest(first.seq)
        snap = reader.snapshot()
    finally:
        assert reader.stop(timeout_s=3.0)
    assert snap.kind == "http" and snap.source == camera.url
    assert first.image.shape == (120, 160, 3)
    assert second.seq > first.seq and second.stream_s > first.stream_s  # seconds since open
    assert second.ts_mono > first.ts_mono and first.stream_epoch == second.stream_epoch == 1
    assert snap.fps_in > 0 and snap.reconnects == 0 and snap.stalls == 0


def test_killed_server_goes_offline_and_comes_back(camera, state_log):
    reader = CameraReader("mj-b", camera.url, OPTIONS, state_log, TUNING)
    reader.start()
    try:
        assert wait_until(_state_is(reader, CaptureState.ONLINE), 10.0), camera.log()
        camera.kill()
        assert wait_until(_state_is(reader, CaptureState.OFFLINE), 5.0)
        assert wait_until(lambda: reader.snapshot().reconnects >= 2, 5.0)  # retrying
        assert "cannot open" in reader.snapshot().last_error
        camera.restart()
        assert wait_until(_state_is(reader, CaptureState.ONLINE), 10.0), camera.log()
        frame = reader.latest(0)
    finally:
        assert reader.stop(timeout_s=3.0)
    assert frame is not None and frame.stream_epoch >= 2  # a new stream
    assert state_log.states()[:3] == [
        CaptureState.ONLINE,
        CaptureState.OFFLINE,
        CaptureState.ONLINE,
    ]


def test_frozen_server_is_stalled_then_recovers(camera, state_log):
    reader = CameraReader("mj-c", camera.url, OPTIONS, state_log, TUNING)
    reader.start()
    try:
        assert wait_until(_state_is(reader, CaptureState.ONLINE), 10.0), camera.log()
        frozen_at = time.monotonic()
        camera.freeze()
        assert wait_until(_state_is(reader, CaptureState.STALLED), 5.0)
        stalled_at = state_log.first(CaptureState.STALLED, after=frozen_at)
        assert stalled_at - frozen_at < OPTIONS.stall_timeout_s + 1.0
        camera.thaw()
        back = lambda: state_log.first(CaptureState.ONLINE, after=stalled_at) is not None  # noqa: E731
        assert wait_until(back, 10.0), camera.log()
        snap = reader.snapshot()
    finally:
        assert reader.stop(timeout_s=3.0)
    assert snap.stalls == 1 and snap.reconnects >= 1 and snap.stream_epoch >= 2
    assert state_log.states()[:2] == [CaptureState.ONLINE, CaptureState.STALLED]
    stall = state_log.events[1][2]
    # a read timeout (0.5 s) comes before the watchdog's 1 s here: the reader reports it
    assert stall.last_error.startswith("no frame for") and stall.stalls == 1
