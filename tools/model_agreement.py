"""A landmark model judged by what users see (issue 16): its verdicts against FP32's.

    .venv/bin/python -m tools.devclips extract --model blazepose_full_int8_qat   # once each
    .venv/bin/python -m tools.devclips extract --model blazepose_full_int8_qat --back
    .venv/bin/python -m tools.model_agreement [--model NAME ...] [--perturb NAME ...]
        [--fps 0 10] [--out docs/int8-verdicts.md] [--json PATH]

Every labelled dev clip is scored from the cached landmarks of the reference model (FP32)
and of each candidate model on the same video, and the two runs compared with the
stability check's own functions (`tools/stability.py`: reps paired by time, fault
verdicts, scores within 5, exercise). Beside each candidate stand FP32 against its own
perturbed deliveries (`half` and `crf35` by default: the same clips as another camera
would deliver them), the yardstick: a model whose verdicts differ from FP32's no more
often than FP32's differ from themselves on a re-encode is as good as FP32 for a user.

The decision (`decide`): a candidate could be the default when, at every rate, its rep
counts equal and its fault verdicts equal are each at least as high as FP32's against
every yardstick delivery. Angle differences (hip, knee, trunk; median and p95 over
frames where both runs found a person, each run on its own side facing the camera) are
reported for the candidates and, where the frames line up, for the yardsticks.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.devclips import ROOT, Clip, load_clips, load_track, pose_key
from tools.stability import (
    ABOUT,
    DATA,
    EXTRACT,
    PERTURBATIONS,
    ClipComparison,
    compare,
    engine_version,
    rate_sections,
    score,
    summarise,
    summary_table,
    time_offset,
    track_path,
)

REFERENCE = "blazepose_full_fp32"
CANDIDATES = ("blazepose_full_int8_qat", "blazepose_full_int8")
YARDSTICKS = ("half", "crf35")
ANGLES = ("hip", "knee", "trunk")
DECIDING = ("rep_counts_equal", "faults_equal")  # the verdicts a user sees


@dataclass(frozen=True)
class Run:
    """One side of a comparison: whose landmarks, on which delivery of the clips."""

    model: str
    perturb: str = ""

    @property
    def label(self) -> str:
        """The row's name in the tables."""
        if self.perturb:
            return f"FP32 vs FP32 {self.perturb} ({ABOUT.get(self.perturb, self.perturb)})"
        return f"{self.model} vs FP32 (same video)"


def comparisons(
    clips: Sequence[Clip], runs: Sequence[Run], fps: float, reference: str = REFERENCE
) -> dict[str, list[ClipComparison]]:
    """Every clip, FP32 on it as it is against each run: row label -> comparisons.

    At a reduced `fps` both sides are their every-frame tracks' frames at that rate (the
    candidates are not tracked at it: like against like).
    """
    base = {c.path: score(c, "", fps, reference, tracked=False) for c in clips}
    out: dict[str, list[ClipComparison]] = {}
    for run in runs:
        rows = out.setdefault(run.label, [])
        for clip in clips:
            events, seen = base[clip.path]
            model = reference if run.perturb else run.model
            theirs, seen_theirs = score(clip, run.perturb, fps, model, tracked=False)
            comparison = compare(clip.name, events, theirs, time_offset(run.perturb))
            comparison.seen = (seen, seen_theirs)
            rows.append(comparison)
    return out


# ----------------------------------------------------------------------- angles


def track_angles(track: dict[str, np.ndarray]) -> np.ndarray:
    """(F, 3) hip, knee and trunk angles in degrees per frame; NaN where nobody was found."""
    from research.int8.eval_int8 import joint_angles  # the INT8 report's own definitions

    out = np.full((len(track["t"]), len(ANGLES)), np.nan)
    for i, (xy, visibility) in enumerate(zip(track["xy"], track["visibility"], strict=True)):
        if not np.isnan(xy).any():
            angles, _ = joint_angles(xy, visibility)
            out[i] = [angles[name] for name in ANGLES]
    return out


def angle_gaps(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> np.ndarray | None:
    """|a - b| per frame and angle where both found a person; None if the frames differ."""
    if len(a["t"]) != len(b["t"]) or not np.allclose(a["t"], b["t"], atol=1e-3):
        return None  # another frame rate or a trimmed start: frames do not line up
    gaps = np.abs(track_angles(a) - track_angles(b))
    return gaps[~np.isnan(gaps).any(axis=1)]


def angle_figures(
    clips: Sequence[Clip], runs: Sequence[Run], reference: str = REFERENCE
) -> dict[str, dict[str, Any]]:
    """Row label -> per angle median and p95 of |run - FP32| (degrees), and frames used."""
    out: dict[str, dict[str, Any]] = {}
    for run in runs:
        parts = []
        for clip in clips:
            base = load_track(clip, "", reference)
            other = load_track(clip, run.perturb, reference if run.perturb else run.model)
            gaps = angle_gaps(base, other)
            if gaps is not None:
                parts.append(gaps)
        if not parts:
            continue  # frames never line up (fps15, trim)
        gaps = np.concatenate(parts)
        out[run.label] = {"frames": len(gaps)} | {
            name: (float(np.median(gaps[:, k])), float(np.percentile(gaps[:, k], 95)))
            for k, name in enumerate(ANGLES)
        }
    return out


def angle_table(figures: dict[str, dict[str, Any]]) -> str:
    """Markdown: one row per comparison, median / p95 degrees per angle."""
    rows = [
        f"| comparison | frames | {' | '.join(f'{a} median / p95' for a in ANGLES)} |",
        "|---" * (len(ANGLES) + 2) + "|",
    ]
    for label, f in figures.items():
        cells = " | ".join(f"{f[a][0]:.1f} / {f[a][1]:.1f}" for a in ANGLES)
        rows.append(f"| {label} | {f['frames']} | {cells} |")
    return "\n".join(rows)


# ----------------------------------------------------------------------- decision


def decide(
    results: dict[float, dict[str, list[ClipComparison]]], candidate: Run, yardsticks: list[Run]
) -> tuple[bool, list[str]]:
    """Whether a candidate agrees with FP32 at least as often as FP32 with its re-encodes.

    Returns:
        The verdict, and one line per rate, figure and yardstick it fell short on.
    """
    short = []
    for fps, rows in results.items():
        mine = summarise(rows[candidate.label])["shares"]
        for run in yardsticks:
            theirs = summarise(rows[run.label])["shares"]
            for figure in DECIDING:
                if (mine[figure] or 0.0) < (theirs[figure] or 0.0):
                    rate = "every frame" if fps <= 0 else f"{fps:g} fps"
                    short.append(
                        f"{figure} at {rate}: {mine[figure]:.0%} against FP32 {run.perturb}'s "
                        f"{theirs[figure]:.0%}"
                    )
    return not short, short


# ----------------------------------------------------------------------- report


def cpu_note() -> str:
    """The CPU's kind as INT8 cares: integer kernels near the model's arithmetic or not."""
    from edge.pose.runtime import slow_int8_kernels

    machine = platform.machine()
    if slow_int8_kernels():
        return f"on {machine} without VNNI (INT8 runs the far, saturating kernels)"
    return f"on {machine} (INT8 kernels with VNNI or arm64 dot products, or unknown)"


def report(
    results: dict[float, dict[str, list[ClipComparison]]],
    angles: dict[str, dict[str, Any]],
    decisions: dict[str, tuple[bool, list[str]]],
    command: str,
    secs: float,
) -> str:
    """The whole Markdown report."""
    lines = [
        "# Landmark models judged by verdicts: INT8 against FP32",
        "",
        f"Regenerate: `{command}` ({secs:.0f} s on this box), from landmarks cached by "
        f"`{EXTRACT} --model NAME` and `{EXTRACT} --model NAME --back` (FP32's: see "
        f"docs/stability.md). Engine at {engine_version()}; landmarks of pose key "
        f"`{pose_key()}`, extracted and scored {cpu_note()}. Rows `NAME vs FP32` compare each "
        "clip's verdicts from the named model's landmarks with FP32's on the same video; "
        "rows `FP32 vs FP32 PERTURBATION` are the yardstick, FP32 against itself on the same "
        "clip as another camera delivers it. Comparison functions, pairing and targets are "
        "those of `tools/stability.py` (docs/stability.md says how reps pair).",
        "",
        "## Decision",
        "",
        "A model could be the default where, at every frame and at 10 fps, its rep counts "
        "equal and fault verdicts equal are each at least as high as FP32's against every "
        "yardstick delivery.",
        "",
    ]
    for label, (ok, short) in decisions.items():
        verdict = "as good as a re-encode: **default**" if ok else "short: **an option**"
        lines.append(f"- `{label}`: {verdict}" + (f" ({'; '.join(short)})" if short else ""))
    lines += [
        "",
        "## Angle differences (degrees, every frame)",
        "",
        angle_table(angles),
    ]
    return "\n".join(lines + rate_sections(results)) + "\n"


# ----------------------------------------------------------------------- command line


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", nargs="+", default=list(CANDIDATES), help="candidates")
    parser.add_argument("--reference", default=REFERENCE, help="the model they are judged by")
    parser.add_argument(
        "--perturb", nargs="+", default=list(YARDSTICKS), choices=list(PERTURBATIONS)
    )
    parser.add_argument(
        "--fps", type=float, nargs="+", default=[0.0, 10.0], help="analysed rates (0: every frame)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "int8-verdicts.md")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    return parser.parse_args(argv)


def missing(clips: Sequence[Clip], runs: Sequence[Run], reference: str) -> list[str]:
    """The extract commands still to run, one per model and delivery lacking a track."""
    needed = [(reference, ""), *((reference if r.perturb else r.model, r.perturb) for r in runs)]
    lacking = [
        (model, perturb)
        for model, perturb in dict.fromkeys(needed)
        if any(not track_path(c, perturb, model).exists() for c in clips)
    ]
    return [
        f"{EXTRACT} --model {m}" + (f" --perturb {p} --jobs 1" if p else "") for m, p in lacking
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line: writes the report (and the JSON if asked); 2 if data or tracks lack."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if not (DATA / "labels.csv").exists():
        print(f"no labelled data at {DATA} (the dev clips live in ../shared/data)", file=sys.stderr)
        return 2
    clips = load_clips()
    candidates = [Run(m) for m in args.model]
    yardsticks = [Run(args.reference, p) for p in args.perturb]
    runs = [*candidates, *yardsticks]
    commands = missing(clips, runs, args.reference)
    if commands:
        print("landmarks not extracted; run:\n  " + "\n  ".join(commands), file=sys.stderr)
        return 2
    start = time.monotonic()
    results = {fps: comparisons(clips, runs, fps, args.reference) for fps in args.fps}
    angles = angle_figures(clips, runs, args.reference)
    decisions = {c.model: decide(results, c, yardsticks) for c in candidates}
    secs = time.monotonic() - start
    command = " ".join([".venv/bin/python -m tools.model_agreement", *argv])
    args.out.write_text(report(results, angles, decisions, command, secs))
    if args.json:
        runs_json = [
            {"fps": fps, "comparison": label, "summary": summarise(rows)}
            | {"clips": [asdict(c) for c in rows]}
            for fps, by_label in results.items()
            for label, rows in by_label.items()
        ]
        figures = {"runs": runs_json, "angles": angles, "decisions": decisions}
        args.json.write_text(json.dumps(figures, indent=1))
    for fps, rows in results.items():
        print(f"\nfps {fps:g}\n{summary_table(rows)}")
    print(f"\n{angle_table(angles)}")
    for label, (ok, short) in decisions.items():
        print(f"{label}: {'default' if ok else 'option'} {short}")
    print(f"\nwrote {args.out} ({secs:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
