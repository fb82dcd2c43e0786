"""The back check on the synthetic athlete: detection against severity, false alarms on clean.

Issue 14 asks the back verdicts to hold on the synthetic athlete too: `spine_flexion`
(the rendered trunk rounds over its lumbar, thoracic and upper-trunk joints,
`edge.synth.posture.SPINE_SHARES`) and `hyperextension` (the athlete leans back and
arches at lockout), each from the side and obliquely.

* Fault clips: every hinge, rounded and leaning back at severities 0.6 and 1.0 (and 0.3
  for the RDL, to show the curve), from one side view and one oblique view (left or right
  drawn per clip), cameras 2.8-4.5 m away at 0.9-1.5 m, as the suite's plan. Rendered
  once into `.cache/synth-back/`.
* Clean clips: every clean hinge clip of the synthetic suite (`tools.synthsuite`) filmed
  from the side or obliquely, at every camera height (low, mid, high): rendered there,
  reused here.

Every clip is replayed as the daemon runs it: the real pose stage, the mask model on the
frames the engine asks for (`HingeScorer.wants_back`), the exercise fixed. A rep counts
as detected when its event carries the fault; a false alarm is either fault on a clean rep.

    .venv/bin/python -m tools.synthsuite.back [--jobs 2] [--out docs/synth-back.md]
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import multiprocessing
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge.contract import RepEvent
from edge.hinge import HingeConfig, HingeScorer
from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.pose.estimator import load_mask_model
from edge.replay import replay
from edge.synth.clip import ClipCamera, truth_path
from tools.synthsuite.suite import HINGES, Cell, SuiteClip, draw_clip, render_cached, suite_clips

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger("synth_back")
FAULTS = ("spine_flexion", "hyperextension")
SEVERITIES = (0.6, 1.0)
CURVE_SEVERITY = 0.3  # the RDL only: where detection starts to fall off
_FAULT_CACHE = ROOT / ".cache" / "synth-back"
_CLEAN_CACHE = ROOT / ".cache" / "synth-suite"
_SEED = 14  # the number: a draw of its own, apart from the suite's
_ESTIMATOR: PoseEstimator | None = None  # one per worker process, made on first use


@dataclass(frozen=True)
class BackRun:
    """One clip replayed with the back check.

    Attributes:
        name: The clip's name.
        exercise: What was performed.
        view: side or oblique.
        height: The camera's height band.
        fault: The fault rendered (None: clean).
        severity: Its severity (0 when clean).
        truth_reps: Reps performed.
        reps: Per rep event: (fault codes, back_rounding, lumbar_arch, lockout_torso_deg).
        masked: Frames on which the back check read an outline.
        frames: Frames replayed.
    """

    name: str
    exercise: str
    view: str
    height: str
    fault: str | None
    severity: float
    truth_reps: int
    reps: list[tuple[list[str], float | None, float | None, float | None]]
    masked: int
    frames: int


def fault_clips(size: tuple[int, int] = (640, 360), fps: float = 15.0) -> list[SuiteClip]:
    """The rendered faults, the same list on every run."""
    rng = np.random.default_rng(_SEED)
    lens = ClipCamera(width_px=size[0], height_px=size[1], focal_px=900.0 * size[0] / 1280, fps=fps)
    cells = []
    for exercise in HINGES:
        for fault in FAULTS:
            severities = (CURVE_SEVERITY, *SEVERITIES) if exercise == "rdl" else SEVERITIES
            for severity in severities:
                for group in ("side", "oblique"):
                    view = f"{group}_{rng.choice(['left', 'right'])}"
                    cells.append(Cell(exercise, {fault: severity}, view))
    clips = []
    for number, cell in enumerate(cells):
        clip = draw_clip(rng, cell, lens, 3, number)
        severity = next(iter(cell.faults.values()))
        clips.append(replace(clip, name=f"{clip.name}-{severity:g}"))
    return clips


def clean_clips() -> list[SuiteClip]:
    """The synthetic suite's clean hinge clips from the side and obliquely, every height."""
    return [
        clip
        for clip in suite_clips()
        if not clip.spec.faults
        and clip.spec.exercise in HINGES
        and clip.view_group in ("side", "oblique")
    ]


def _stage() -> PoseEstimator:
    global _ESTIMATOR
    if _ESTIMATOR is None:
        config = PoseConfig()
        _ESTIMATOR = PoseEstimator(config, mask_model=load_mask_model(config))
    return _ESTIMATOR


def run(clip: SuiteClip, folder: Path) -> BackRun:
    """Renders (or reuses) the clip and replays it with the back check on."""
    video = render_cached(clip, folder)
    truth = json.loads(truth_path(video).read_text(encoding="utf-8"))
    estimator = _stage()
    estimator.reset()
    scorer = HingeScorer(HingeConfig(exercise=clip.spec.exercise), session_id=clip.name)
    result = replay(video, estimator, scorer, camera_id=clip.name)
    reps = []
    for event in result.events:
        if isinstance(event, RepEvent):
            m = event.metrics
            codes = [f.code for f in event.faults]
            reps.append((codes, m.back_rounding, m.lumbar_arch, m.lockout_torso_deg))
    fault, severity = next(iter(clip.spec.faults.items()), (None, 0.0))
    logger.info("%s: %d reps, %d masked frames", clip.name, len(reps), result.frames_masked)
    return BackRun(
        clip.name,
        clip.spec.exercise,
        clip.view_group,
        clip.height,
        fault,
        severity,
        len(truth["reps"]),
        reps,
        result.frames_masked,
        len(result.outlines),
    )


def _work(item: tuple[SuiteClip, Path]) -> BackRun:
    return run(*item)


def tally(runs: list[BackRun]) -> dict[str, dict]:
    """Detection per (fault, view, severity) and false alarms per (view, fault)."""
    detected: dict = collections.defaultdict(collections.Counter)
    false: dict = collections.defaultdict(collections.Counter)
    rounding: dict = collections.defaultdict(list)
    for r in runs:
        if r.fault is None:
            for codes, value, _, _ in r.reps:
                for fault in FAULTS:
                    false[(r.view, fault)]["reps"] += 1
                    false[(r.view, fault)]["flagged"] += fault in codes
                if value is not None:
                    rounding[(r.view, 0.0)].append(value)
            continue
        cell = detected[(r.fault, r.view, r.severity)]
        cell["truth"] += r.truth_reps
        cell["reps"] += len(r.reps)
        cell["found"] += sum(r.fault in codes for codes, *_ in r.reps)
        if r.fault == "spine_flexion":
            rounding[(r.view, r.severity)] += [v for _, v, _, _ in r.reps if v is not None]
    return {"detected": detected, "false": false, "rounding": rounding}


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}% ({n}/{d})" if d else "-"


def report(runs: list[BackRun], wall_s: float) -> str:
    """The Markdown page."""
    t = tally(runs)
    lines = [
        "# The back check on the synthetic athlete",
        "",
        "Generated by `.venv/bin/python -m tools.synthsuite.back` (module docstring: what is",
        f"rendered and how it is scored); {len(runs)} clips, {wall_s / 60:.0f} min here.",
        "Detected: reps whose event carries the fault, over the reps performed.",
        "",
        "## Detection by severity",
        "",
        "| fault | view | severity | detected | reps counted |",
        "|---|---|---|---|---|",
    ]
    for (fault, view, severity), c in sorted(t["detected"].items()):
        found = _pct(c["found"], c["truth"])
        lines.append(f"| {fault} | {view} | {severity:g} | {found} | {c['reps']}/{c['truth']} |")
    lines += [
        "",
        "## False alarms on clean reps (every camera height)",
        "",
        "| view | fault | false alarms |",
        "|---|---|---|",
    ]
    for (view, fault), c in sorted(t["false"].items()):
        lines.append(f"| {view} | {fault} | {_pct(c['flagged'], c['reps'])} |")
    lines += [
        "",
        "## The outline witness alone: `back_rounding` (torso lengths)",
        "",
        "Median and range over the reps with an outline at the bottom; the verdict's margin",
        "is `faults.back_rounding_margin` (0.05), from side views only.",
        "",
        "| view | spine_flexion severity | reps | median | min - max |",
        "|---|---|---|---|---|",
    ]
    for (view, severity), values in sorted(t["rounding"].items()):
        v = np.asarray(values)
        lines.append(
            f"| {view} | {severity:g} | {len(v)} | {np.median(v):.3f} | "
            f"{v.min():.3f} - {v.max():.3f} |"
        )
    lines += ["", "## Per clip", "", "| clip | reps | faults per rep | masked frames |"]
    lines.append("|---|---|---|---|")
    for r in runs:
        said = "; ".join(",".join(codes) or "-" for codes, *_ in r.reps)
        lines.append(f"| {r.name} | {len(r.reps)}/{r.truth_reps} | {said} | {r.masked} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "synth-back.md")
    parser.add_argument("--limit", type=int, default=None, help="first N clips of each list")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    items = [(c, _FAULT_CACHE) for c in fault_clips()[: args.limit]]
    items += [(c, _CLEAN_CACHE) for c in clean_clips()[: args.limit]]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        runs = pool.map(_work, items, chunksize=1)
    wall = time.perf_counter() - start
    args.out.write_text(report(runs, wall), encoding="utf-8")
    rows = [r.__dict__ for r in runs]
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
