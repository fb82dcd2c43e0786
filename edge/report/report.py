"""`hinge-edge replay --report DIR`: the page, its pictures and the per-frame trace."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from edge.capture.video import open_video
from edge.contract import AnyEvent
from edge.errors import ReportError
from edge.report.media import render_media
from edge.report.page import ClipInfo, render_page
from edge.report.rows import rep_rows, set_events
from edge.report.svg import CHARTS, render_chart
from edge.report.trace import TRACE_FIELDS, Trace

logger = logging.getLogger(__name__)

PAGE_NAME = "index.html"
CSV_NAME = "trace.csv"


def _write_csv(path: Path, trace: Trace) -> None:
    """One row per frame: time, phase and every traced signal (empty where unmeasured)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "t_s", "phase", *TRACE_FIELDS])
        for i, t in enumerate(trace.t_s):
            values = [trace.signals[name][i] for name in TRACE_FIELDS]
            cells = ["" if v != v else f"{v:.4f}" for v in values]  # NaN -> empty
            writer.writerow([i, f"{t:.4f}", trace.phase[i], *cells])


def write_report(
    out_dir: Path,
    video: Path,
    trace: Trace,
    events: list[AnyEvent],
    camera: str,
    exercise: str | None = None,
) -> Path:
    """Writes the report of one replay into `out_dir` (created if missing).

    Args:
        out_dir: Report folder: `index.html`, `trace.csv`, `annotated.mp4`, `keyframes/`.
        video: The replayed clip (read again for the pictures).
        trace: The replay's per-frame record (`TraceRecorder.trace(events)`).
        events: Every event of the same replay, in emission order (as in `--events`).
        camera: Camera id shown on the page.
        exercise: The exercise the replay was fixed to, None if recognised.

    Returns:
        The page's path.

    Raises:
        ReportError: The folder or a file in it cannot be written.
        SourceError: The clip cannot be read again.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ReportError(f"cannot create the report folder {out_dir}: {err}") from err
    capture, info = open_video(video)
    capture.release()
    rows = rep_rows(events)
    media = render_media(video, trace, rows, events, out_dir)
    t_end = max(
        [float(trace.t_s[-1]) if len(trace) else 0.0] + [r.time_of("lockout") for r in rows]
    )
    charts = [
        render_chart(spec, trace.t_s, trace.signals[spec.key], rows, t_end) for spec in CHARTS
    ]
    clip = ClipInfo(video.name, camera, len(trace), info.fps, (info.width, info.height), exercise)
    page = render_page(clip, charts, rows, set_events(events), media, CSV_NAME)
    try:
        _write_csv(out_dir / CSV_NAME, trace)
        (out_dir / PAGE_NAME).write_text(page, encoding="utf-8")
    except OSError as err:
        raise ReportError(f"cannot write the report into {out_dir}: {err}") from err
    logger.info(
        "report: %s (%d reps, %d key frames)", out_dir / PAGE_NAME, len(rows), len(media.keyframes)
    )
    return out_dir / PAGE_NAME
