"""The report's pieces without a replay: drawing, charts, rows, progress, the recorder."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from edge.capture.video import VideoFrame
from edge.contract import Fault, LoweringMetrics, RepEvent
from edge.hinge import HingeScorer
from edge.hinge.config import FAULT_CODES
from edge.report.draw import (
    BACK_BGR,
    CHORD_BGR,
    FAINT_BGR,
    FAULT_SEGMENTS,
    HIGHLIGHT_BGR,
    SEGMENTS,
    draw_back,
    draw_caption,
    draw_skeleton,
    segments_for,
)
from edge.report.media import plan_keyframes
from edge.report.progress import Progress
from edge.report.rows import rep_rows
from edge.report.svg import CHARTS, render_chart
from edge.report.trace import TraceRecorder
from edge.types import NUM_LANDMARKS
from tests.contract.samples import REP, SET, UPDATE
from tests.report.builders import bent_outline, truth_poses


def standing_xy() -> np.ndarray:
    """A stick figure facing right in a 200x200 image (left side = odd landmarks)."""
    xy = np.full((NUM_LANDMARKS, 2), np.nan, np.float32)
    for index, (x, y) in {
        0: (104, 20), 7: (96, 22), 8: (96, 22), 11: (100, 45), 12: (100, 45),
        13: (100, 75), 14: (100, 75), 15: (100, 100), 16: (100, 100),
        23: (100, 105), 24: (100, 105), 25: (100, 145), 26: (100, 145),
        27: (100, 185), 28: (100, 185),
    }.items():  # fmt: skip
        xy[index] = (x, y)
    return xy


def red_mask(image: np.ndarray, colour=HIGHLIGHT_BGR) -> np.ndarray:
    return np.abs(image.astype(int) - colour).max(axis=2) < 30


def test_every_fault_points_at_known_segments_and_the_skeleton_has_33_points():
    assert set(FAULT_SEGMENTS) == set(FAULT_CODES)
    assert segments_for(FAULT_CODES) <= set(SEGMENTS)
    assert segments_for(["knee_dominant"]) == {"thigh", "shin"}
    assert segments_for(["not_a_fault"]) == set()
    points = {i for bones in SEGMENTS.values() for bone in bones for i in bone}
    assert points == set(range(NUM_LANDMARKS))


def test_the_highlighted_segment_is_red_and_only_there():
    xy, vis = standing_xy(), np.ones(NUM_LANDMARKS, np.float32)
    image = draw_skeleton(np.zeros((200, 200, 3), np.uint8), xy, vis, {"shin"})
    rows = np.flatnonzero(red_mask(image).any(axis=1))
    assert rows.size and rows.min() >= 140 and rows.max() <= 190  # knee (145) to ankle (185)
    plain = draw_skeleton(np.zeros((200, 200, 3), np.uint8), xy, vis)
    assert not red_mask(plain).any() and plain.any()


def test_guessed_and_missing_landmarks_are_never_highlighted():
    xy, vis = standing_xy(), np.ones(NUM_LANDMARKS, np.float32)
    vis[[25, 26]] = 0.1  # both knees guessed
    image = draw_skeleton(np.zeros((200, 200, 3), np.uint8), xy, vis, {"shin", "thigh"})
    assert not red_mask(image).any()
    assert red_mask(image, FAINT_BGR).any()  # drawn as a thin grey guess
    empty = np.full((NUM_LANDMARKS, 2), np.nan, np.float32)
    assert not draw_skeleton(np.zeros((50, 50, 3), np.uint8), empty, vis, {"trunk"}).any()


def test_a_long_cue_wraps_inside_a_narrow_frame():
    cue = "Push your hips back and keep your shins vertical"
    narrow = np.full((180, 160, 3), 200, np.uint8)
    wide = np.full((180, 1280, 3), 200, np.uint8)
    draw_caption(narrow, ["reps 1", cue])
    draw_caption(wide, ["reps 1", cue])
    darkened = [int((image[:, 2] < 100).sum()) for image in (narrow, wide)]  # rows, left edge
    assert darkened[0] > darkened[1]
    assert (narrow[:, -1] == 200).all()  # nothing spills past the right edge


def rep_event(rep_id="cam-1-1", faults=(), score=80.0) -> RepEvent:
    return replace(
        REP,
        id=rep_id, set_id="cam-1", rep=1, score=score,
        faults=tuple(Fault(c, 0.5, c) for c in faults),
        metrics=replace(REP.metrics, eccentric_s=1.0, depth_norm=0.4),
        t_start_s=1.0, t_bottom_s=2.0, t_lockout_s=3.0,
    )  # fmt: skip


def test_a_rep_update_changes_the_rows_score_faults_and_tempo():
    update = replace(
        UPDATE,
        id="cam-1-1-lowering", rep_id="cam-1-1", score=60.0,
        faults=(Fault("rushed_eccentric", 0.9, "Slow down"),),
        metrics=LoweringMetrics(0.3, 0.0),
    )  # fmt: skip
    original = rep_event(faults=["knee_dominant"])
    (row,) = rep_rows([original, update, replace(SET, id="cam-1")])
    assert row.updated and row.score == 60.0
    assert [f.code for f in row.faults] == ["rushed_eccentric", "knee_dominant"]
    assert row.metrics.eccentric_s == 0.3
    assert original.metrics.eccentric_s == 1.0  # the event itself is left alone
    assert row.fault_time("rushed_eccentric") == 1.5 and row.fault_time("hyperextension") == 3.0


def test_a_chart_breaks_its_line_where_nothing_was_measured_and_marks_the_rep():
    t = np.arange(50) / 10
    values = np.sin(t)
    values[20:25] = np.nan
    rows = rep_rows([rep_event(faults=["knee_dominant"])])
    svg = render_chart(CHARTS[3], t, values, rows, 5.0)  # knee angle: the fault's trace
    assert svg.count("<path") == 1 and svg.count("M") == 2
    assert 'data-points="45"' in svg
    for moment, t_s in (("start", "1.000"), ("bottom", "2.000"), ("lockout", "3.000")):
        assert f'class="mark mark-{moment}" data-rep="cam-1-1" data-t="{t_s}"' in svg
    assert 'data-code="knee_dominant"' in svg
    empty = render_chart(CHARTS[0], t, np.full(50, np.nan), rows, 5.0)
    assert "not measured" in empty and "<path" not in empty and "knee_dominant" not in empty


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.mark.parametrize(
    ("total", "frames", "lines", "last"),
    [
        (1000, 1000, 20, "clip: frame 1000 of 1000 (100%), 10.0 fps, about 0 s left"),  # 5% steps
        (100, 100, 4, "clip: frame 100 of 100 (100%), 10.0 fps, about 0 s left"),  # 30 at least
        (None, 700, 2, "clip: frame 600, 10.0 fps"),  # count unknown: every 300
    ],
)
def test_progress_lines_come_every_few_percent(total, frames, lines, last):
    handler, log = ListHandler(), logging.getLogger("test.progress")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    now = [0.0]
    progress = Progress("clip", total, log=log, clock=lambda: now[0])
    for done in range(1, frames + 1):
        now[0] = done / 10  # 10 frames a second
        progress.tick(done)
    log.removeHandler(handler)
    assert len(handler.lines) == lines == progress.lines
    assert handler.lines[-1] == last


def test_reading_the_signals_changes_nothing_the_scorer_says(rendered_clip):
    _, truth = rendered_clip
    frames = truth["frames"]
    plain, watched = HingeScorer(session_id="a"), HingeScorer(session_id="a")
    recorder = TraceRecorder(watched)
    said: tuple[list, list] = ([], [])
    for i, frame in enumerate(frames):
        poses = truth_poses(frame)
        xy, vis = poses.xy[0], poses.visibility[0]
        said[0].extend(plain.update(frame["t_s"], xy, vis))
        events = watched.update(frame["t_s"], xy, vis)
        said[1].extend(events)
        signals = watched.signals
        signals.depth = 99.0  # a copy: the scorer must not see this
        recorder(VideoFrame(i, frame["t_s"], np.zeros((1, 1, 3), np.uint8)), poses, events)
    assert said[0] == said[1] and len([e for e in said[0] if isinstance(e, RepEvent)]) == 2
    trace = recorder.trace()
    assert len(trace) == len(frames) and trace.xy.shape == (len(frames), 33, 2)
    assert np.nanmax(trace.signals["depth"]) < 1.0  # the recorder saw the real values
    assert np.nanmax(trace.signals["torso_deg"]) > 30  # the athlete hinged
    assert set(trace.phase) > {"top"}
    assert sorted(trace.emitted_at) == sorted(e["id"] for e in said[1])


def test_the_back_is_drawn_with_its_chord_and_red_only_beyond_the_margin():
    outline = bent_outline(0.1)
    plain = draw_back(np.zeros((100, 200, 3), np.uint8), outline.edge_xy, outline.signed)
    assert not red_mask(plain).any() and red_mask(plain, BACK_BGR).any()
    assert red_mask(plain, CHORD_BGR)[40, 60:140].any()  # the chord, straight between the ends
    rounded = draw_back(np.zeros((100, 200, 3), np.uint8), outline.edge_xy, outline.signed, 0.05)
    rows, cols = np.nonzero(red_mask(rounded))
    assert rows.size and rows.max() < 40 - 120 * 0.05 + 5  # only the bulge beyond the margin
    assert cols.min() > 40 + 120 * 0.1 and cols.max() < 40 + 120 * 0.9  # not near the ends
    straight = bent_outline(0.02)
    within = draw_back(np.zeros((100, 200, 3), np.uint8), straight.edge_xy, straight.signed, 0.05)
    assert not red_mask(within).any()


def test_a_key_frame_moves_to_the_nearest_frame_with_an_outline(truth_run):
    trace, events = truth_run
    rows = rep_rows(events)
    plain = plan_keyframes(trace, rows)
    bottom = plain[0].index
    dt = float(np.median(np.diff(trace.t_s)))
    near, far = bottom + 2, bottom - round(1.0 / dt)  # 2 frames away, and a second away
    outlined = replace(trace, outlines={near: bent_outline(0.1), far: bent_outline(0.1)})
    moved = plan_keyframes(outlined, rows)
    assert moved[0].moment == "bottom" and moved[0].index == near
    assert [k.index for k in moved[1:]] == [k.index for k in plain[1:]]  # none near the rest
