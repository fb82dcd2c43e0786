"""Time-series charts as inline SVG text: crisp at any zoom, no plotting library, no script.

Every chart shares the clip's time axis. Reps are shaded bands (coloured by score) with
three marks each: `mark-start`, `mark-bottom` and `mark-lockout`; each mark carries the
rep's id (`data-rep`) and the event's time (`data-t`), so a test or a reader can check the
marks against the events file. Faults are dots on the trace they concern.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np

from edge.report.rows import RepRow

WIDTH, HEIGHT = 960, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 14, 20, 24
MOMENTS = ("start", "bottom", "lockout")


@dataclass(frozen=True)
class ChartSpec:
    """One trace to draw.

    Attributes:
        key: `Trace.signals` field.
        title: Shown above the chart.
        unit: Unit after scaling (`%`, `deg`).
        scale: Multiplies the values (0..1 fractions -> percent).
        min_span: Smallest y range shown, in scaled units (a flat line stays flat).
    """

    key: str
    title: str
    unit: str
    scale: float = 1.0
    min_span: float = 20.0


CHARTS = (
    ChartSpec("depth", "Depth (shoulder drop or torso fold)", "%", 100.0),
    ChartSpec("torso_deg", "Trunk inclination from vertical", "deg"),
    ChartSpec("hip_deg", "Hip angle (shoulder-hip-knee)", "deg"),
    ChartSpec("knee_deg", "Knee angle (hip-knee-ankle)", "deg"),
    ChartSpec("shin_deg", "Shin inclination", "deg"),
    ChartSpec("head_ext_deg", "Head against the torso (up positive)", "deg"),
)

FAULT_TRACE = {
    "knee_dominant": "knee_deg",
    "spine_flexion": "torso_deg",
    "head_extension": "head_ext_deg",
    "chest_first": "torso_deg",
    "hips_rise_first": "hip_deg",
    "incomplete_lockout": "hip_deg",
    "hyperextension": "torso_deg",
    "partial_rep": "depth",
    "rushed_eccentric": "depth",
}
"""The trace on which each fault is marked."""


def score_class(score: float | None) -> str:
    """CSS class of a score: good (85+), fair (60+), poor, or none (not scored)."""
    if score is None:
        return "score-none"
    return "score-good" if score >= 85 else "score-fair" if score >= 60 else "score-poor"


def _nice_step(span: float, target: int = 4) -> float:
    """A 1-2-5 step giving about `target` ticks over `span`."""
    raw = max(span, 1e-9) / target
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class _Axes:
    """Maps time and value to SVG coordinates."""

    def __init__(self, t_end: float, values: np.ndarray, min_span: float) -> None:
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        grow = max(min_span - (hi - lo), 0.0) / 2
        pad = 0.08 * (hi - lo + 2 * grow)
        self.lo, self.hi = lo - grow - pad, hi + grow + pad
        self.t_end = max(t_end, 1e-3)

    def x(self, t_s: float) -> float:
        return _LEFT + t_s / self.t_end * (WIDTH - _LEFT - _RIGHT)

    def y(self, value: float) -> float:
        share = (value - self.lo) / (self.hi - self.lo)
        return HEIGHT - _BOTTOM - share * (HEIGHT - _TOP - _BOTTOM)


def _path(axes: _Axes, t_s: np.ndarray, values: np.ndarray) -> str:
    """SVG path data, broken where the values are NaN."""
    parts: list[str] = []
    pen_down = False
    for t, v in zip(t_s, values, strict=True):
        if not math.isfinite(v):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{axes.x(t):.1f} {axes.y(v):.1f}")
        pen_down = True
    return " ".join(parts)


def _grid(axes: _Axes) -> list[str]:
    out = []
    step = _nice_step(axes.hi - axes.lo)
    value = math.ceil(axes.lo / step) * step
    while value <= axes.hi:
        y = axes.y(value)
        out.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
        value += step
    t_step = _nice_step(axes.t_end, 8)
    t = 0.0
    while t <= axes.t_end + 1e-9:
        x = axes.x(t)
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{t:g} s</text>'
        )
        t += t_step
    return out


def _rep(axes: _Axes, row: RepRow, label: bool) -> list[str]:
    rep_id = escape(row.id)
    x0, x1 = axes.x(row.time_of("start")), axes.x(row.time_of("lockout"))
    score = "not scored" if row.score is None else f"score {row.score:g}"
    out = [
        f'<rect class="rep-band {score_class(row.score)}" data-rep="{rep_id}" x="{x0:.1f}" '
        f'y="{_TOP}" width="{max(x1 - x0, 0.5):.1f}" height="{HEIGHT - _TOP - _BOTTOM}">'
        f"<title>rep {row.label}: {score}</title></rect>"
    ]
    for moment in MOMENTS:
        t = row.time_of(moment)
        x = axes.x(t)
        out.append(
            f'<line class="mark mark-{moment}" data-rep="{rep_id}" data-t="{t:.3f}" '
            f'x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP}" y2="{HEIGHT - _BOTTOM}">'
            f"<title>rep {row.label} {moment} {t:.3f} s</title></line>"
        )
    if label:
        text = row.label + ("" if row.score is None else f" · {row.score:g}")
        out.append(
            f'<text class="rep-label" x="{x0 + 3:.1f}" y="{_TOP + 13}">{escape(text)}</text>'
        )
    return out


def _faults(
    axes: _Axes, key: str, trace_t: np.ndarray, values: np.ndarray, row: RepRow
) -> list[str]:
    out = []
    for fault in row.faults:
        code = str(fault.code)
        if FAULT_TRACE.get(code) != key:
            continue
        t = row.fault_time(code)
        v = values[int(np.argmin(np.abs(trace_t - t)))] if trace_t.size else math.nan
        y = axes.y(v) if math.isfinite(v) else _TOP + 4
        out.append(
            f'<circle class="fault" data-rep="{escape(row.id)}" data-code="{escape(code)}" '
            f'data-t="{t:.3f}" cx="{axes.x(t):.1f}" cy="{y:.1f}" r="5">'
            f"<title>rep {row.label}: {escape(code)} (severity {fault.severity:.2f})</title>"
            "</circle>"
        )
    return out


def render_chart(
    spec: ChartSpec, t_s: np.ndarray, values: np.ndarray, rows: list[RepRow], t_end: float
) -> str:
    """One chart as an `<svg>` element.

    Args:
        spec: What to draw.
        t_s: (F,) frame times.
        values: (F,) the trace, unscaled, NaN where not measured.
        rows: The reps, to shade and mark.
        t_end: Right end of the time axis, seconds.

    Returns:
        SVG markup to inline in HTML.
    """
    scaled = np.asarray(values, np.float64) * spec.scale
    axes = _Axes(t_end, scaled, spec.min_span)
    parts = [
        f'<svg class="chart" id="chart-{spec.key}" data-key="{spec.key}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(spec.title)} over time">',
        f"<title>{escape(spec.title)}</title>",
        f'<rect class="plot" x="{_LEFT}" y="{_TOP}" width="{WIDTH - _LEFT - _RIGHT}" '
        f'height="{HEIGHT - _TOP - _BOTTOM}"/>',
        f'<text class="chart-title" x="{_LEFT}" y="{_TOP - 6}">'
        f"{escape(spec.title)} ({escape(spec.unit)})</text>",
    ]
    for row in rows:
        parts += _rep(axes, row, label=spec.key == CHARTS[0].key)
    parts += _grid(axes)
    finite = int(np.isfinite(scaled).sum())
    if finite:
        parts.append(f'<path class="trace" data-points="{finite}" d="{_path(axes, t_s, scaled)}"/>')
    else:
        parts.append(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}">not measured</text>')
    for row in rows:
        parts += _faults(axes, spec.key, t_s, scaled, row)
    parts.append("</svg>")
    return "\n".join(parts)
