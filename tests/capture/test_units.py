"""Source parsing, redaction, options, quality rule, frame slot, backoff, image checks.

USB cameras cannot be opened here (no device: a hardware boundary), so for them only the
parsing is tested.
"""

from __future__ import annotations

import json
from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest
from pydantic import ValidationError

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.frame import Frame, FrameSlot
from edge.capture.opener import check_image
from edge.capture.pacing import Backoff, RestartBudget
from edge.capture.reader import CameraReader
from edge.capture.snapshot import CaptureState, Quality, rate_quality
from edge.capture.source import SourceKind, parse_source
from edge.errors import SourceError
from edge.redact import redact_url


@pytest.mark.parametrize(
    ("text", "kind", "target", "display", "expectation"),
    [
        # rtsp with credentials: OpenCV gets them, the display does not
        (
            "rtsp://admin:s3cret@10.0.0.5:554/Streaming/101",
            SourceKind.RTSP,
            "rtsp://admin:s3cret@10.0.0.5:554/Streaming/101",
            "rtsp://admin:***@10.0.0.5:554/Streaming/101",
            does_not_raise(),
        ),
        # rtsps and upper-case scheme
        ("RTSPS://cam/x", SourceKind.RTSP, "RTSPS://cam/x", "RTSPS://cam/x", does_not_raise()),
        # HTTP MJPEG
        (
            "http://10.0.0.6/video.mjpg",
            SourceKind.HTTP,
            "http://10.0.0.6/video.mjpg",
            "http://10.0.0.6/video.mjpg",
            does_not_raise(),
        ),
        # https with a password in the query
        (
            "https://cam/mjpg?user=a&pwd=xyz",
            SourceKind.HTTP,
            "https://cam/mjpg?user=a&pwd=xyz",
            "https://cam/mjpg?user=a&pwd=***",
            does_not_raise(),
        ),
        # another FFmpeg protocol
        ("rtmp://host/live/k", SourceKind.STREAM, "rtmp://host/live/k", "rtmp://host/live/k",
         does_not_raise()),
        # USB by index, spaces tolerated
        ("usb:0", SourceKind.USB, 0, "usb:0", does_not_raise()),
        (" USB:2 ", SourceKind.USB, 2, "usb:2", does_not_raise()),
        # a bare index (what the settings call a device) is a USB camera too
        ("1", SourceKind.USB, 1, "usb:1", does_not_raise()),
        # a device path goes to V4L2 as a path (works for /dev/v4l/by-id/... links)
        ("/dev/video3", SourceKind.USB, "/dev/video3", "/dev/video3", does_not_raise()),
        ("/dev/v4l/by-id/usb-cam-index0", SourceKind.USB, "/dev/v4l/by-id/usb-cam-index0",
         "/dev/v4l/by-id/usb-cam-index0", does_not_raise()),
        # anything else is a file
        ("clips/a b.mp4", SourceKind.FILE, "clips/a b.mp4", "clips/a b.mp4", does_not_raise()),
        # usb: without an index
        ("usb:front", None, None, None, pytest.raises(SourceError, match="usb:N")),
        # empty
        ("  ", None, None, None, pytest.raises(SourceError, match="empty camera source")),
    ],
)  # fmt: skip
def test_parse_source(text, kind, target, display, expectation):
    with expectation:
        source = parse_source(text)
        assert (source.kind, source.target, source.display) == (kind, target, display)
        assert source.is_live is (kind is not SourceKind.FILE)
        assert "s3cret" not in repr(source)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:pass@host/s", "rtsp://user:***@host/s"),  # the usual form
        ("rtsp://user:p@ss/w@rd@host:554/s", "rtsp://user:***@host:554/s"),  # raw @ and /
        ("rtsp://user@host/s", "rtsp://user@host/s"),  # no password
        ("rtsp://host/s?channel=1&password=hunter2", "rtsp://host/s?channel=1&password=***"),
        ("srt://host:9000?passphrase=abc&latency=20", "srt://host:9000?passphrase=***&latency=20"),
        ("/videos/a:b@c.mp4", "/videos/a:b@c.mp4"),  # not a URL: unchanged
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_capture_and_tuning_defaults():
    config, tuning = CaptureConfig(), ReaderTuning()
    assert (config.open_timeout_s, config.read_timeout_s, config.stall_timeout_s) == (5, 2, 5)
    assert not config.loop
    assert (tuning.backoff_min_s, tuning.backoff_max_s, tuning.restart_budget) == (1, 30, 10)
    assert (tuning.restart_window_s, tuning.nominal_fps) == (300, None)


@pytest.mark.parametrize(
    ("section", "kwargs", "loc", "match"),
    [
        (CaptureConfig, {"stall_timeout_s": 0}, "stall_timeout_s", "greater than 0"),
        (CaptureConfig, {"open_timeout_s": 301}, "open_timeout_s", "less than or equal to 300"),
        (ReaderTuning, {"backoff_min_s": 5, "backoff_max_s": 1}, "", "backoff_max_s"),
        (ReaderTuning, {"restart_budget": 0}, "restart_budget", "greater than or equal to 1"),
        (ReaderTuning, {"nominal_fps": -1.0}, "nominal_fps", "greater than 0"),
    ],
)
def test_bad_capture_sections_are_refused(section, kwargs, loc, match):
    with pytest.raises(ValidationError, match=match) as info:
        section(**kwargs)
    assert ".".join(str(part) for part in info.value.errors()[0]["loc"]) == loc


@pytest.mark.parametrize(
    ("state", "incidents", "fps", "nominal", "expected"),
    [
        (CaptureState.ONLINE, 0, 15.0, 15.0, Quality.GOOD),  # steady at nominal
        (CaptureState.ONLINE, 0, None, 15.0, Quality.GOOD),  # too early to judge the rate
        (CaptureState.ONLINE, 0, 3.0, None, Quality.GOOD),  # no nominal: no rate rule
        (CaptureState.ONLINE, 1, 15.0, 15.0, Quality.DEGRADED),  # one recent reconnect
        (CaptureState.ONLINE, 0, 11.0, 15.0, Quality.DEGRADED),  # 73% of nominal
        (CaptureState.ONLINE, 3, 15.0, 15.0, Quality.POOR),  # flapping
        (CaptureState.ONLINE, 0, 7.0, 15.0, Quality.POOR),  # under half the rate
        (CaptureState.STALLED, 0, 0.0, None, Quality.POOR),  # open but silent
        (CaptureState.CONNECTING, 0, None, None, Quality.OFFLINE),
        (CaptureState.OFFLINE, 5, None, 15.0, Quality.OFFLINE),
        (CaptureState.ENDED, 0, None, 15.0, Quality.OFFLINE),
        (CaptureState.STOPPED, 0, None, 15.0, Quality.OFFLINE),
    ],
)
def test_rate_quality(state, incidents, fps, nominal, expected):
    assert rate_quality(state, incidents, fps, nominal) is expected


def _frame(seq: int) -> Frame:
    return Frame("cam", seq, np.zeros((2, 2, 3), np.uint8), float(seq), 0.0, 0.0, 1)


def test_frame_slot_keeps_newest_and_counts_skipped():
    slot = FrameSlot()
    assert slot.take(0) is None
    slot.put(_frame(1))
    assert slot.take(0).seq == 1
    assert slot.take(1) is None  # nothing newer
    slot.put(_frame(2))
    slot.put(_frame(3))  # 2 was never taken
    slot.put(_frame(4))  # nor 3
    assert slot.take(1).seq == 4
    slot.put(_frame(5))  # 4 was taken: not a skip
    assert slot.stats() == (2, 5)


def test_backoff_doubles_to_max_and_resets():
    backoff = Backoff(1.0, 30.0)
    assert [backoff.next_delay() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_restart_budget_window():
    budget = RestartBudget(budget=3, window_s=10.0)
    for t in (0.0, 1.0, 2.0):
        budget.record(t)
    assert not budget.exceeded(2.0)
    budget.record(3.0)
    assert budget.exceeded(3.0)
    assert budget.count(11.5) == 2  # the restarts at 0 and 1 s left the window
    assert not budget.exceeded(11.5)


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (np.zeros((120, 160, 3), np.uint8), None),  # a good frame
        (None, "read returned NoneType"),
        (np.zeros((0, 160, 3), np.uint8), "shape (0, 160, 3)"),
        (np.zeros((120, 160), np.uint8), "shape (120, 160)"),  # grey
        (np.zeros((120, 160, 4), np.uint8), "shape (120, 160, 4)"),  # BGRA
        (np.zeros((120, 160, 3), np.float32), "dtype float32"),
    ],
)
def test_check_image(image, problem):
    found = check_image(image)
    assert found is None if problem is None else problem in found


def test_reader_before_start_reports_connecting_and_stops_cleanly():
    reader = CameraReader("c1", "rtsp://u:pw@127.0.0.1:9/x", CaptureConfig())
    snap = reader.snapshot()
    assert snap.state is CaptureState.CONNECTING
    assert snap.source == "rtsp://u:***@127.0.0.1:9/x"
    assert snap.last_frame_age_s is None
    json.dumps(snap.as_dict())  # JSON-ready
    assert reader.latest(0) is None
    assert reader.stop(timeout_s=1.0) is True
    assert reader.snapshot().state is CaptureState.STOPPED


def test_scrub_masks_the_raw_source_inside_messages():
    source = parse_source("rtsp://viewer:pw123@cam.local/live")
    text = "avformat failed on rtsp://viewer:pw123@cam.local/live (401)"
    assert source.scrub(text) == "avformat failed on rtsp://viewer:***@cam.local/live (401)"
