"""CameraReader on a local RTSP server (gst-rtsp-server): read, freeze, stop, recover.

The server runs under the system Python (it needs PyGObject); see tests/servers/.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.reader import CameraReader
from edge.capture.snapshot import CaptureState
from tests.servers.streams import missing_rtsp, rtsp_server, wait_until

pytestmark = pytest.mark.skipif(missing_rtsp() is not None, reason=str(missing_rtsp()))

# A 1 s open timeout also cuts FFmpeg's stream probe short (about 2 s otherwise): the open
# still succeeds.
OPTIONS = CaptureConfig(open_timeout_s=1.0, read_timeout_s=0.5, stall_timeout_s=1.0)
TUNING = ReaderTuning(backoff_min_s=0.1, backoff_max_s=0.4)
SECRET = "s3cr3t-pw"


def _alive(name: str) -> bool:
    return any(t.name == name for t in threading.enumerate())


def test_reads_a_looped_clip_and_recovers_from_a_freeze(clip, state_log):
    with rtsp_server(clip) as camera:
        reader = CameraReader("rt-a", camera.url, OPTIONS, state_log, TUNING)
        reader.start()
        try:
            assert wait_until(lambda: reader.snapshot().frames_read >= 10, 15.0), camera.log()
            frame = reader.latest(0)
            assert frame.image.shape == (120, 160, 3) and frame.stream_epoch == 1
            assert reader.snapshot().kind == "rtsp"
            frozen_at = time.monotonic()
            camera.freeze()
            assert wait_until(lambda: state_log.first(CaptureState.STALLED) is not None, 6.0)
            stalled_at = state_log.first(CaptureState.STALLED)
            camera.thaw()
            back = lambda: state_log.first(CaptureState.ONLINE, after=stalled_at) is not None  # noqa: E731
            assert wait_until(back, 15.0), camera.log()
            later = reader.latest(frame.seq)
            snap = reader.snapshot()
        finally:
            assert reader.stop(timeout_s=3.0)
    # reported within the stall timeout plus the watchdog's period and some slack
    assert stalled_at - frozen_at < OPTIONS.stall_timeout_s + 1.5
    stall = next(event for event in state_log.events if event[0] is CaptureState.STALLED)
    # whichever comes first: a timed-out read (reader thread) or the watchdog
    assert stall[2].last_error.startswith("no frame for") and stall[2].stalls == 1
    assert later is not None and later.stream_epoch >= 2  # reopened: a new stream
    assert snap.state is CaptureState.ONLINE and snap.stalls == 1 and snap.reconnects >= 1


def test_watchdog_reports_a_hung_read_and_stop_does_not_wait_for_it(state_log):
    # read timeout > stall timeout: read() stays blocked while the watchdog reports the stall
    options = OPTIONS.model_copy(update={"read_timeout_s": 2.0})
    with rtsp_server() as camera:  # a live test pattern
        reader = CameraReader("rt-b", camera.url, options, state_log, TUNING)
        reader.start()
        try:
            assert wait_until(lambda: reader.snapshot().frames_read >= 5, 15.0), camera.log()
            frozen_at = time.monotonic()
            camera.freeze()
            assert wait_until(lambda: state_log.first(CaptureState.STALLED) is not None, 6.0)
            asked = time.monotonic()
            finished = reader.stop(timeout_s=0.2)  # the reader is blocked inside read()
            took_s = time.monotonic() - asked
            snap = reader.snapshot()
            # the blocked read returns on its own (FFmpeg read timeout) and the thread ends
            assert wait_until(lambda: not _alive("capture:rt-b"), 15.0)
        finally:
            reader.stop(timeout_s=1.0)
    stall = next(event for event in state_log.events if event[0] is CaptureState.STALLED)
    assert stall[3] == "capture:rt-b:watchdog" and stall[2].last_error == "no frame for 1 s"
    assert stall[1] - frozen_at < options.stall_timeout_s + 1.5
    assert not finished and took_s < 1.0
    assert snap.state is CaptureState.STOPPED
    assert state_log.states()[-1] is CaptureState.STOPPED
    assert reader.snapshot().state is CaptureState.STOPPED  # nothing changes it afterwards
    assert not _alive("capture:rt-b:watchdog")


def test_credentials_never_reach_logs_or_status(caplog, capfd):
    caplog.set_level(logging.DEBUG, logger="edge")
    with rtsp_server() as camera:
        url = camera.url.replace("rtsp://", f"rtsp://viewer:{SECRET}@")
        reader = CameraReader("rt-c", url, OPTIONS, tuning=TUNING)
        reader.start()
        try:
            assert wait_until(lambda: reader.snapshot().state is CaptureState.ONLINE, 15.0)
            camera.kill()
            assert wait_until(lambda: reader.snapshot().state is CaptureState.OFFLINE, 10.0)
            assert wait_until(lambda: reader.snapshot().reconnects >= 2, 10.0)
            offline = reader.snapshot()
            camera.restart()
            assert wait_until(lambda: reader.snapshot().state is CaptureState.ONLINE, 15.0)
        finally:
            assert reader.stop(timeout_s=3.0)
    masked = camera.url.replace("rtsp://", "rtsp://viewer:***@")
    assert offline.source == masked
    assert offline.last_error.startswith(f"cannot open {masked} within 1 s")
    captured = capfd.readouterr()  # what OpenCV and FFmpeg wrote to fds 1 and 2
    assert SECRET not in caplog.text + captured.out + captured.err
    assert SECRET not in str(offline.as_dict())
