"""The report's HTML page: one self-contained file (inline CSS and SVG, no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from edge import __version__
from edge.contract import RepMetrics, SetEvent
from edge.report.media import Media
from edge.report.rows import RepRow
from edge.report.svg import score_class

PRIVACY = (
    "This report shows frames of the person filmed (key frames and the annotated video). "
    "Keep it on this machine, share it only with their consent, and delete it when it has "
    "served its purpose."
)

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px;
color:#1d2330;background:#fff}
h1{font-size:1.5em;margin:18px 0 4px}h2{font-size:1.2em;margin:26px 0 8px}
.meta{color:#555;margin:0}.sets li{margin:2px 0}
svg.chart{display:block;width:100%;height:auto;margin:0 0 6px}
.plot{fill:#fafbfc;stroke:#d8dce3}.grid{stroke:#e6e9ee}.tick{font-size:11px;fill:#667}
.trace{fill:none;stroke:#1f5fbf;stroke-width:1.8}.empty{font-size:13px;fill:#999}
.rep-band{opacity:.55}.score-good{fill:#d7f0dc}.score-fair{fill:#fdebc8}
.score-poor{fill:#f9d3d3}.score-none{fill:#e4e6ea}
.mark{stroke-width:1.4}.mark-start{stroke:#2e8b57;stroke-dasharray:4 3}
.mark-bottom{stroke:#333}.mark-lockout{stroke:#7a3db8;stroke-dasharray:1 2}
.fault{fill:#d62828;stroke:#fff;stroke-width:1.5}.rep-label{font-size:12px;fill:#333}
.chart-title{font-size:13px;font-weight:600;fill:#1d2330}
.legend span{margin-right:14px}.swatch{display:inline-block;width:18px;height:3px;
vertical-align:middle;margin-right:4px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #e3e6eb;padding:5px 7px;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.num{text-align:right;white-space:nowrap}
td.score-good{background:#d7f0dc}td.score-fair{background:#fdebc8}
td.score-poor{background:#f9d3d3}.sev{color:#a11}.withheld{color:#777;font-size:12px}
.frames{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
figure{margin:0}figure img{width:100%;height:auto;border:1px solid #ccd}
figcaption{font-size:13px;color:#444}video{max-width:100%;border:1px solid #ccd}
footer{margin:30px 0 20px;padding-top:10px;border-top:1px solid #dde;color:#555;
font-size:13px}
"""


@dataclass(frozen=True)
class ClipInfo:
    """What the page says about the replayed clip."""

    name: str
    camera: str
    frames: int
    fps: float
    size: tuple[int, int]
    exercise: str | None = None


def _fmt(value: Any, spec: str = ".0f", suffix: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def _tempo(metrics: RepMetrics) -> str:
    parts = [
        ("down", metrics.eccentric_s),
        ("pause", metrics.pause_s),
        ("up", metrics.concentric_s),
        ("rep", metrics.rep_s),
    ]
    return " · ".join(f"{name} {value:.2f} s" for name, value in parts if value is not None)


def _faults_cell(row: RepRow) -> str:
    faults = "<br>".join(
        f'{escape(str(f.code))} <span class="sev">{f.severity:.2f}</span>' for f in row.faults
    )
    withheld = row.event.withheld
    if withheld:
        items = "; ".join(f"{escape(w.code)}: {escape(w.reason)}" for w in withheld)
        faults += f'<div class="withheld">withheld: {items}</div>'
    return faults or "none"


def _table_row(row: RepRow) -> str:
    m, e = row.metrics, row.event
    knee = m.min_knee_deg
    bend = None if knee is None else 180.0 - knee  # 0 with the leg straight
    depth = None if m.depth_norm is None else 100 * m.depth_norm
    cells = [
        f'<td class="num">{escape(row.label)}</td>',
        f'<td class="num">{row.time_of("start"):.2f}–{row.time_of("lockout"):.2f}</td>',
        f"<td>{escape(e.exercise)}</td>",
        f'<td class="num {score_class(row.score)}">{_fmt(row.score, "g")}'
        + ("*" if row.updated else "")
        + "</td>",
        f"<td>{_faults_cell(row)}</td>",
        f"<td>{escape(e.cue)}</td>",
        f'<td class="num">{_fmt(depth, ".0f", " %")}</td>',
        f'<td class="num">{_fmt(bend, ".0f", "°")} '
        f'<span class="withheld">(min {_fmt(knee, ".0f", "°")})</span></td>',
        f'<td class="num">{_fmt(m.min_hip_deg, ".0f", "°")}</td>',
        f'<td class="num">{_fmt(m.max_torso_deg, ".0f", "°")}</td>',
        f"<td>{_tempo(m)}</td>",
        f"<td>{escape(e.view)} {_fmt(e.confidence, '.2f')}</td>",
    ]
    return f'<tr class="rep-row" data-rep="{escape(row.id)}">' + "".join(cells) + "</tr>"


def _table(rows: list[RepRow]) -> str:
    heads = (
        "Rep", "Time (s)", "Exercise", "Score", "Faults (severity)", "Cue", "Depth",
        "Knee bend", "Hip min", "Trunk max", "Tempo", "View, confidence",
    )  # fmt: skip
    body = "\n".join(_table_row(row) for row in rows) or (
        f'<tr><td colspan="{len(heads)}">no rep counted</td></tr>'
    )
    head = "".join(f"<th>{h}</th>" for h in heads)
    note = (
        '<p class="withheld">* score changed by the lowering that followed (rep_update)</p>'
        if any(r.updated for r in rows)
        else ""
    )
    return (
        f'<table id="rep-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table>{note}"
    )


def _sets(sets: list[SetEvent]) -> str:
    if not sets:
        return "<p>No set was recorded.</p>"
    items = []
    for s in sets:
        mean = "" if s.mean_score is None else f", mean score {s.mean_score:g}"
        faults = ", ".join(f"{escape(k)} ×{v}" for k, v in s.fault_counts.items())
        items.append(
            f"<li>{escape(s.set_id)}: {s.reps} reps of {escape(str(s.exercise))}"
            f"{mean}; faults: {faults or 'none'}; {s.t_start_s:.1f}–{s.t_end_s:.1f} s, "
            f"ended: {escape(s.end_reason)}</li>"
        )
    return '<ul class="sets">' + "".join(items) + "</ul>"


def _keyframes(media: Media) -> str:
    if not media.keyframes:
        return "<p>No rep, no key frame.</p>"
    figures = []
    for key in media.keyframes:
        faults = ", ".join(key.faults) or "no fault at this moment"
        figures.append(
            f'<figure data-rep="{escape(key.rep.id)}" data-moment="{key.moment}">'
            f'<img src="{escape(key.path)}" alt="rep {escape(key.rep.label)} {key.moment}">'
            f"<figcaption>rep {escape(key.rep.label)}, {key.moment} at "
            f"{key.t_s:.2f} s: {escape(faults)}</figcaption></figure>"
        )
    return '<div class="frames">' + "".join(figures) + "</div>"


def _video(media: Media, csv_name: str) -> str:
    links = f'<a href="{csv_name}">per-frame trace (CSV)</a>'
    if media.video is None:
        return f"<p>{links}</p>"
    width, height = media.video_size
    return (
        f'<video controls preload="metadata" width="{width}" height="{height}" '
        f'src="{escape(media.video)}"></video>'
        f'<p><a href="{escape(media.video)}">annotated video ({media.video_codec})</a> · '
        f"{links}</p>"
    )


def _legend() -> str:
    return (
        '<p class="legend"><span><i class="swatch" style="background:#2e8b57"></i>start</span>'
        '<span><i class="swatch" style="background:#333"></i>bottom</span>'
        '<span><i class="swatch" style="background:#7a3db8"></i>lockout</span>'
        '<span><i class="swatch" style="background:#d62828;height:8px;width:8px;'
        'border-radius:4px"></i>fault</span>'
        "<span>bands: rep, coloured by score (green 85+, amber 60+, red below)</span></p>"
    )


def render_page(
    clip: ClipInfo,
    charts: list[str],
    rows: list[RepRow],
    sets: list[SetEvent],
    media: Media,
    csv_name: str,
) -> str:
    """The whole page as HTML text."""
    duration = clip.frames / clip.fps if clip.fps else 0.0
    exercise = clip.exercise or "recognised per set"
    meta = (
        f"camera {escape(clip.camera)} · {clip.frames} frames · {clip.fps:g} fps · "
        f"{clip.size[0]}×{clip.size[1]} · {duration:.1f} s · exercise: {escape(exercise)}"
    )
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Replay report: {escape(clip.name)}</title><style>{_CSS}</style></head>",
            "<body><header>",
            f'<h1>Replay report: {escape(clip.name)}</h1><p class="meta">{meta}</p></header>',
            f'<section id="sets"><h2>Sets</h2>{_sets(sets)}</section>',
            f'<section id="traces"><h2>Traces</h2>{_legend()}',
            *charts,
            "</section>",
            f'<section id="reps"><h2>Reps</h2>{_table(rows)}</section>',
            f'<section id="keyframes"><h2>Key frames</h2>{_keyframes(media)}</section>',
            f'<section id="video"><h2>Annotated video</h2>{_video(media, csv_name)}</section>',
            f"<footer><p><strong>Privacy:</strong> {PRIVACY}</p>"
            f"<p>hinge-edge {escape(__version__)} · replay report · times in seconds from "
            "the clip's start, as in the events file</p></footer>",
            "</body></html>",
            "",
        ]
    )
