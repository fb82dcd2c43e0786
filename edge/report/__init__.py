"""Replay reports: angle traces, a rep table, key frames and an annotated video.

OpenCV draws the pictures; charts are inline SVG written here; the page needs no script
and no network. `edge.hinge` stays pure: the traces come from `HingeScorer.signals`.
"""

from edge.report.draw import FAULT_SEGMENTS, SEGMENTS, draw_caption, draw_skeleton, segments_for
from edge.report.report import write_report
from edge.report.trace import Trace, TraceRecorder

__all__ = [
    "FAULT_SEGMENTS",
    "SEGMENTS",
    "Trace",
    "TraceRecorder",
    "draw_caption",
    "draw_skeleton",
    "segments_for",
    "write_report",
]
