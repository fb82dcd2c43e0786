"""Both ways of writing the annotated video give every frame back, at its size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.errors import ReportError
from edge.report import write_report
from edge.report.video import FfmpegSink, OpenCvSink, _ffmpeg_with_x264, open_sink
from tests.report.pages import parse_page

FFMPEG = _ffmpeg_with_x264()


def frames(count: int = 25, size: tuple[int, int] = (160, 90)) -> list[np.ndarray]:
    out = []
    for i in range(count):
        image = np.full((size[1], size[0], 3), 40, np.uint8)
        cv2.circle(image, (10 + 5 * i, 45), 8, (0, 0, 255), -1)
        out.append(image)
    return out


def decode(path) -> tuple[int, tuple[int, int], np.ndarray | None]:
    capture = cv2.VideoCapture(str(path))
    count, last = 0, None
    while True:
        ok, image = capture.read()
        if not ok:
            break
        count, last = count + 1, image
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    capture.release()
    return count, size, last


@pytest.mark.parametrize("use_ffmpeg", [True, False], ids=["ffmpeg-h264", "opencv-vp8"])
def test_every_frame_comes_back(tmp_path, use_ffmpeg):
    if use_ffmpeg and FFMPEG is None:
        pytest.skip("needs the ffmpeg program with libx264 (apt-get install ffmpeg)")
    sink = open_sink(tmp_path / "clip", 15.0, (160, 90), use_ffmpeg)
    assert isinstance(sink, FfmpegSink if use_ffmpeg else OpenCvSink)
    assert sink.path.suffix == (".mp4" if use_ffmpeg else ".webm")
    for image in frames():
        sink.write(image)
    sink.close()
    count, size, last = decode(sink.path)
    assert (count, size) == (25, (160, 90))
    assert last[45, 130, 2] > 150 and last[45, 20, 2] < 100  # the dot moved right, in red


@pytest.mark.skipif(FFMPEG is None, reason="needs the ffmpeg program with libx264")
def test_an_ffmpeg_failure_names_the_file(tmp_path):
    sink = FfmpegSink(FFMPEG, tmp_path / "missing" / "clip.mp4", 15.0, (160, 90))
    with pytest.raises(ReportError, match=r"missing/clip\.mp4"):
        for image in frames(200):  # ffmpeg quits on the unwritable output
            sink.write(image)
        sink.close()


def test_an_unwritable_folder_is_named(tmp_path):
    with pytest.raises(ReportError, match="missing"):
        OpenCvSink(tmp_path / "missing" / "clip.webm", 15.0, (160, 90))


def test_without_ffmpeg_the_report_embeds_a_webm(rendered_clip, truth_run, tmp_path, monkeypatch):
    clip, truth = rendered_clip
    trace, events = truth_run
    monkeypatch.setattr("edge.report.video._ffmpeg_with_x264", lambda: None)
    page = parse_page(write_report(tmp_path / "report", clip, trace, events, "truth"))
    (video,) = page.find("video")
    assert video.attrs["src"] == "annotated.webm"
    count, size, _ = decode(tmp_path / "report" / "annotated.webm")
    assert count == len(truth["frames"]) and size == tuple(truth["frame_size"])
    reps = [e["id"] for e in events if e["event"] == "rep"]
    assert len(reps) == 2
    assert [r.attrs["data-rep"] for r in page.find("tr", "rep-row")] == reps
