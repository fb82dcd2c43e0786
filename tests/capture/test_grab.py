"""Only the frames a consumer will use are converted: the others are grabbed and dropped.

`FrameSlot.wanted` decides (unit tests), and a real `CameraReader` on a real clip shows it:
with a consumer that wants a frame every 0.25 s, the reader grabs every frame of a 20 fps
file but retrieves about one in five, and the frame handed over is the newest one grabbed;
on an RTSP camera sending H.264 as an encoder made it, nothing is converted before the time
the consumer gave, and the first frame after it is.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from edge.capture.config import CaptureConfig
from edge.capture.frame import Frame, FrameSlot
from edge.capture.reader import CameraReader
from tests.capture.conftest import CLIP_FPS
from tests.servers.streams import missing_ffmpeg, missing_rtsp, rtsp_server, wait_until


def _frame(seq: int, ts_mono: float) -> Frame:
    return Frame("cam", seq, np.zeros((2, 2, 3), np.uint8), ts_mono, 0.0, 0.0, 1)


def test_every_frame_is_wanted_until_the_consumer_says_when():
    slot = FrameSlot()
    assert slot.wanted(0.0) and slot.wanted(100.0)
    slot.put(_frame(1, 100.0))
    assert slot.wanted(100.01)  # nobody said anything: the newest frame, always


def test_after_want_only_the_first_frame_at_or_after_the_time_is_wanted():
    slot = FrameSlot()
    slot.put(_frame(1, 10.0))
    assert slot.take(0) is not None
    slot.want(10.1, max_age_s=0.05)
    assert not slot.wanted(10.03) and not slot.wanted(10.09)
    assert slot.wanted(10.1)
    slot.put(_frame(2, 10.1))
    assert not slot.wanted(10.13)  # one is waiting and still recent
    assert slot.wanted(10.16)  # the consumer is late: replace it with a newer one
    slot.put(_frame(3, 10.16))
    assert slot.take(1).seq == 3
    assert not slot.wanted(10.2) and not slot.wanted(99.0)  # taken: none till told when
    slot.want(10.3, max_age_s=0.05)
    assert not slot.wanted(10.25) and slot.wanted(10.3)


@pytest.mark.slow
def test_a_reader_converts_only_the_frames_its_consumer_takes(clip):
    # the clip: 60 frames at 20 fps, frame i showing the square at x = 4 * i
    reader = CameraReader("grab", str(clip), CaptureConfig())
    period_s = 0.25
    taken: list[tuple[Frame, int]] = []  # (frame, frames grabbed when it was taken)
    reader.start()
    try:
        assert wait_until(lambda: reader.latest(0) is not None, 10.0)
        due = time.monotonic()
        reader.want_next(due, period_s)
        while time.monotonic() < due + 2.4:
            frame = reader.latest(taken[-1][0].seq if taken else 0)
            if frame is not None and time.monotonic() >= due:
                taken.append((frame, reader.snapshot().frames_read))
                due += period_s
                reader.want_next(due, period_s)
            time.sleep(0.005)
        snap = reader.snapshot()
    finally:
        reader.stop(timeout_s=3.0)
    assert len(taken) >= 8
    # every frame was grabbed (it plays at its own rate); about one in five converted
    assert snap.frames_read >= 2.4 * CLIP_FPS * 0.9
    assert snap.frames_retrieved <= len(taken) + 2 < snap.frames_read / 3
    for frame, grabbed in taken:
        index = round(frame.stream_s * CLIP_FPS)  # its place in the file
        # fresh: the newest frame read when it was taken, or the one before it
        assert grabbed - 2 <= index <= grabbed - 1
        x = int(np.argmax(frame.image[60, :, 2] > 128))  # the square's left edge (yellow)
        assert abs(x - (4 * index) % 140) <= 2  # the picture of that frame


@pytest.mark.skipif(
    missing_rtsp() is not None or missing_ffmpeg() is not None,
    reason=str(missing_rtsp() or missing_ffmpeg()),
)
def test_an_rtsp_camera_converts_nothing_before_the_time_wanted(clip, tmp_path):
    h264 = tmp_path / "camera.mp4"  # as a camera encodes: H.264, no B-frames, GOP of 1 s
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(clip), "-c:v", "libx264"]
    command += ["-bf", "0", "-g", "20", "-pix_fmt", "yuv420p", str(h264)]
    subprocess.run(command, check=True)
    with rtsp_server(h264, encoded=True) as camera:
        reader = CameraReader("rt-grab", camera.url, CaptureConfig(read_timeout_s=2.0))
        reader.start()
        try:
            assert wait_until(lambda: reader.snapshot().frames_read >= 5, 15.0), camera.log()
            last = reader.latest(0)
            wanted_at = time.monotonic() + 1.0
            reader.want_next(wanted_at, 1.0)
            before = reader.snapshot()
            while time.monotonic() < wanted_at - 0.1:
                time.sleep(0.01)
            during = reader.snapshot()
            assert wait_until(
                lambda: reader.snapshot().frames_retrieved > during.frames_retrieved, 5
            )
            frame = reader.latest(last.seq)
        finally:
            reader.stop(timeout_s=3.0)
    assert during.frames_read - before.frames_read >= 10  # 20 fps kept coming in
    assert during.frames_retrieved <= before.frames_retrieved + 1  # one in flight at most
    assert frame is not None and frame.ts_mono >= wanted_at and frame.stream_epoch == 1
    assert frame.image.shape == (120, 160, 3)
