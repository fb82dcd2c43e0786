"""`hinge-edge replay --events --report` on a rendered clip: the page agrees with the events."""

from __future__ import annotations

import csv
import json
import re

import cv2
import jsonschema
import numpy as np
import pytest

from edge.cli import main
from edge.contract import RepEvent, parse_event
from edge.contract.schema import json_schema
from edge.hinge.config import FAULT_CODES
from edge.report.draw import BACK_BGR, HIGHLIGHT_BGR
from edge.report.svg import CHARTS, FAULT_TRACE
from edge.report.video import _ffmpeg_with_x264
from tests.report.pages import parse_page

pytestmark = pytest.mark.model  # the replay runs the real pose models
FFMPEG = _ffmpeg_with_x264()


def reps_of(run):
    return [e for e in run.events if isinstance(e, RepEvent)]


@pytest.fixture(scope="module")
def page(replay_run):
    return parse_page(replay_run.report / "index.html")


def read_trace(run) -> list[dict[str, str]]:
    with (run.report / "trace.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_line_of_the_events_file_follows_its_schema(replay_run):
    lines = (replay_run.report.parent / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(replay_run.events) >= 3  # two reps and their set
    for line in lines:
        event = parse_event(line)
        schema = json_schema(type(event))  # generated from the type: docs/schemas/ holds it
        jsonschema.Draft202012Validator(schema).validate(json.loads(line))
        assert event.to_json() == line and event.camera == replay_run.clip.stem


def test_the_clip_gives_reps_and_a_fault_to_show(replay_run):
    reps = reps_of(replay_run)
    assert len(reps) == len(replay_run.truth["reps"]) == 2
    assert any(rep["faults"] for rep in reps)  # the injected knee_dominant, on some rep
    assert "report:" in replay_run.stdout and "private" in replay_run.stdout


def test_the_page_parses_and_references_only_files_it_ships(replay_run, page):
    assert page.errors == []
    references = page.references()
    assert references  # key frames, the video, the CSV
    for ref in references:
        assert "://" not in ref and not ref.startswith(("/", "..")), ref
        assert (replay_run.report / ref).is_file(), ref
    footer = " ".join(e.text for e in page.find("footer"))
    assert "Privacy" in footer and "person filmed" in footer


def test_one_table_row_per_rep_event_in_order(replay_run, page):
    rows = page.find("tr", "rep-row")
    assert [r.attrs["data-rep"] for r in rows] == [e["id"] for e in reps_of(replay_run)]
    for row, rep in zip(rows, reps_of(replay_run), strict=True):
        assert f"{rep['score']:g}" in row.text
        assert rep["cue"] in row.text
        for fault in rep["faults"]:
            assert f"{fault['code']} {fault['severity']:.2f}" in row.text


def test_every_chart_marks_each_rep_at_the_events_times(replay_run, page):
    charts = page.find("svg", "chart")
    assert [c.attrs["data-key"] for c in charts] == [spec.key for spec in CHARTS]
    marks = page.find("line", "mark")
    for rep in reps_of(replay_run):
        for moment in ("start", "bottom", "lockout"):
            found = [m for m in marks if m.attrs["data-rep"] == rep["id"]]
            found = [m for m in found if f"mark-{moment}" in m.classes]
            assert len(found) == len(CHARTS)
            for mark in found:
                assert float(mark.attrs["data-t"]) == pytest.approx(rep[f"t_{moment}_s"], abs=1e-9)
        x = [float(m.attrs["x1"]) for m in marks if m.attrs["data-rep"] == rep["id"]][:3]
        assert x[0] < x[1] < x[2]  # start, bottom, lockout from left to right


def test_faults_are_dots_on_their_trace(replay_run, page):
    assert set(FAULT_TRACE) == set(FAULT_CODES)
    dots = page.find("circle", "fault")
    expected = sorted((r["id"], f["code"]) for r in reps_of(replay_run) for f in r["faults"])
    assert sorted((d.attrs["data-rep"], d.attrs["data-code"]) for d in dots) == expected
    for dot in dots:
        assert dot.ancestor("chart").attrs["data-key"] == FAULT_TRACE[dot.attrs["data-code"]]


def test_traces_come_from_the_same_run(replay_run, page):
    rows = read_trace(replay_run)
    fps = replay_run.truth["fps"]
    assert len(rows) == len(replay_run.truth["frames"])  # one row per frame of the clip
    assert [float(r["t_s"]) for r in rows] == pytest.approx(
        [i / fps for i in range(len(rows))], abs=1e-4
    )
    for path in page.find("path", "trace"):
        key = path.ancestor("chart").attrs["data-key"]
        assert int(path.attrs["data-points"]) == sum(1 for r in rows if r[key]), key
    t = np.array([float(r["t_s"]) for r in rows])
    depth = np.array([float(r["depth"]) if r["depth"] else np.nan for r in rows])
    for rep in reps_of(replay_run):
        inside = (t >= rep["t_start_s"]) & (t <= rep["t_lockout_s"])
        # The bottom is timed on the raw signal; the smoothed trace, flat through the pause
        # at the bottom, must be near its deepest there too.
        at_bottom = depth[int(np.argmin(np.abs(t - rep["t_bottom_s"])))]
        assert at_bottom >= 0.9 * np.nanmax(depth[inside])
        assert {r["phase"] for r, keep in zip(rows, inside, strict=True) if keep} - {"top"}


def test_key_frames_show_the_clip_with_the_faulty_segment_red(replay_run, page):
    size = tuple(replay_run.truth["frame_size"])
    figures = page.find("figure")
    reps = reps_of(replay_run)
    assert [(f.attrs["data-rep"], f.attrs["data-moment"]) for f in figures] == [
        (r["id"], m) for r in reps for m in ("bottom", "lockout")
    ]
    red = {}
    for image in page.find("img"):
        still = cv2.imread(str(replay_run.report / image.attrs["src"]))
        assert still is not None and still.shape == (size[1], size[0], 3)
        close = np.abs(still.astype(int) - HIGHLIGHT_BGR).max(axis=2) < 40
        red[image.attrs["src"]] = int(close.sum())
    for rep in reps:
        bottom = red[f"keyframes/{rep['id']}-bottom.png"]
        assert (bottom > 20) == bool(rep["faults"]), (rep["id"], bottom)


def test_the_bottom_key_frames_show_the_back_the_check_read(replay_run, page):
    seen = re.search(r"back seen on (\d+)", replay_run.stdout)
    assert seen is not None and int(seen.group(1)) > 0  # the back check ran on some frames
    outlined = 0
    for rep in reps_of(replay_run):
        still = cv2.imread(str(replay_run.report / f"keyframes/{rep['id']}-bottom.png"))
        green = np.abs(still.astype(int) - BACK_BGR).max(axis=2) < 40
        outlined += bool(green.sum() > 10)
    assert outlined >= 1, "no bottom key frame shows the back's outline"


def test_the_annotated_video_has_every_frame(replay_run, page):
    (video,) = page.find("video")
    assert video.attrs["src"] == ("annotated.mp4" if FFMPEG else "annotated.webm")
    capture = cv2.VideoCapture(str(replay_run.report / video.attrs["src"]))
    frames = 0
    while capture.read()[0]:
        frames += 1
    size = (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    assert frames == len(replay_run.truth["frames"])
    assert size == tuple(replay_run.truth["frame_size"])  # small clips keep their size


def test_a_long_replay_reports_progress_on_stderr(replay_run):
    total = len(replay_run.truth["frames"])
    lines = [line for line in replay_run.stderr.splitlines() if "edge.report.progress" in line]
    assert any(f"rdl.mp4: frame {total} of {total} (100%)" in line for line in lines)
    assert any(f"rdl.mp4 (report): frame {total} of {total} (100%)" in line for line in lines)
    assert 2 <= len(lines) <= 2 * 21  # every 5% at most, per pass


def test_replay_names_every_output_it_can_write(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "x.mp4")]) == 2
    assert "--report DIR" in capsys.readouterr().err


def test_the_help_warns_the_report_shows_the_person(capsys):
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    assert "keep it private" in " ".join(capsys.readouterr().out.split())
