"""Judge an INT8 landmark model against the FP32 one by what matters downstream.

On the real side-view clips of ``../shared/data/labels.csv`` (test material: read, never
copied), every frame (or every ``--stride``-th) goes through OUR FP32 pipeline
(`PoseEstimator`: detector, ROI, tracking). Two comparisons come out of one pass:

* **same crops** (isolates the model): each crop the FP32 landmark model is fed is also
  fed to the INT8 model, and both outputs are decoded at the same ROI;
* **pipeline**: a second `PoseEstimator` with the INT8 landmark model runs over the same
  frames with its own tracking (its ROIs drift with its own landmarks), as a camera
  running INT8 would.

Per frame, on the side facing the camera (the side whose shoulder, hip, knee and ankle
have the higher mean visibility, chosen by each model for itself), four angles in
image space: hip (shoulder-hip-knee), knee (hip-knee-ankle), trunk inclination from
vertical (mid-shoulder to mid-hip) and shin angle from vertical (knee-ankle). Reported:
median and p95 of |INT8 - FP32| per angle, pose-flag agreement (both >= 0.5 or both
< 0.5), how often the two pick the same side, landmark shifts in 256-px crop pixels, and
landmark-model latency (1 thread each, interleaved on the same crops in the same run).

Reps: each pipeline's landmark track goes through the hinge engine (`edge.hinge.
score_track`, which landed while this tool was written); per clip the rep counts of the
two are compared, and the fault codes of the reps they share.

The bar for INT8 to become the default: hip, knee and trunk angles within median 2 deg
and p95 5 deg (in both modes) and an unchanged rep count on every clip; otherwise it is
an "option". ``--reference-noise SIGMA`` replaces the candidate by FP32 itself fed each
crop plus fixed noise of SIGMA grey levels: FP32's own floor, which no other model beats.

Usage:
    python -m research.int8.eval_int8 --model models/pose_landmark_full_int8.onnx --json out.json
    python -m research.int8.eval_int8 --model ... --write-figures   # into the manifest entry
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge.capture.video import iter_video
from edge.contract import RepEvent
from edge.hinge import score_track
from edge.pose import PoseEstimator, load_pose_models
from edge.pose.config import PoseConfig
from edge.pose.landmarks import INPUT_SIZE, decode_landmarks
from edge.pose.manifest import load_manifest
from edge.pose.runtime import OnnxModel
from edge.types import NUM_LANDMARKS
from research.int8.calibration_crops import RecordingEstimator, code_state
from research.int8.quantize_pose import (
    FP32_NAME,
    INT8_NAME,
    merge_entry,
    read_manifest,
    sha256_file,
)

ROOT = Path(__file__).resolve().parents[2]
LOG = logging.getLogger("eval_int8")
SHARED_DATA = ROOT.parent / "shared" / "data"

ANGLES = ("hip", "knee", "trunk", "shin")
BAR_ANGLES = ("hip", "knee", "trunk")  # the angles issue #8's bar names; shin is reported
BAR_MEDIAN_DEG, BAR_P95_DEG = 2.0, 5.0
# (shoulder, hip, knee, ankle) per side; odd indices are the athlete's left.
SIDES = {"left": (11, 23, 25, 27), "right": (12, 24, 26, 28)}
PIXEL_GROUPS = {
    "torso": (11, 12, 23, 24),
    "arms": (13, 14, 15, 16),
    "knees": (25, 26),
    "ankles_feet": (27, 28, 29, 30, 31, 32),
}


# ------------------------------------------------------------------ angles


def _angle_at(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The angle ABC in degrees (180 = straight)."""
    u, v = a - b, c - b
    cos = float(np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-9))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _from_vertical(top: np.ndarray, bottom: np.ndarray) -> float:
    """Angle in degrees between bottom->top and straight up on screen (image y is down)."""
    d = top - bottom
    return float(np.degrees(np.arctan2(abs(d[0]), -d[1])))


def facing_side(visibility: np.ndarray) -> str:
    """The side whose shoulder, hip, knee and ankle are more visible."""
    left = visibility[list(SIDES["left"])].mean()
    right = visibility[list(SIDES["right"])].mean()
    return "left" if left >= right else "right"


def joint_angles(xy: np.ndarray, visibility: np.ndarray) -> tuple[dict[str, float], str]:
    """The four angles of one pose, on the side facing the camera.

    Args:
        xy: (33, 2) image pixels.
        visibility: (33,) in [0, 1].

    Returns:
        Angle name -> degrees, and the side used.
    """
    side = facing_side(visibility)
    shoulder, hip, knee, ankle = (xy[i] for i in SIDES[side])
    mid_shoulder, mid_hip = xy[[11, 12]].mean(axis=0), xy[[23, 24]].mean(axis=0)
    return {
        "hip": _angle_at(shoulder, hip, knee),
        "knee": _angle_at(hip, knee, ankle),
        "trunk": _from_vertical(mid_shoulder, mid_hip),
        "shin": _from_vertical(knee, ankle),
    }, side


# ------------------------------------------------------------------ collection


@dataclass
class Comparison:
    """Paired FP32 / INT8 readings, appended frame by frame (or crop by crop)."""

    diffs: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ANGLES})
    agree: list[bool] = field(default_factory=list)
    same_side: list[bool] = field(default_factory=list)
    pixels: dict[str, list[float]] = field(default_factory=lambda: {g: [] for g in PIXEL_GROUPS})

    def add_presence(self, present_fp32: bool, present_int8: bool) -> None:
        """Records whether both see a pose (or both see none)."""
        self.agree.append(present_fp32 == present_int8)

    def add_angles(self, a32: tuple[dict, str], a8: tuple[dict, str]) -> None:
        """Records |INT8 - FP32| of each angle and whether both chose the same side."""
        for name in ANGLES:
            self.diffs[name].append(abs(a8[0][name] - a32[0][name]))
        self.same_side.append(a8[1] == a32[1])

    def add_pixels(self, xy32: np.ndarray, xy8: np.ndarray, roi_size: float) -> None:
        """Records landmark shifts in 256-px crop pixels, per group (mean of the group)."""
        shift = np.linalg.norm(xy8 - xy32, axis=1) * INPUT_SIZE / roi_size
        for group, idx in PIXEL_GROUPS.items():
            self.pixels[group].append(float(shift[list(idx)].mean()))

    def extend(self, other: Comparison) -> None:
        """Merges another comparison into this one."""
        for name in ANGLES:
            self.diffs[name] += other.diffs[name]
        for group in PIXEL_GROUPS:
            self.pixels[group] += other.pixels[group]
        self.agree += other.agree
        self.same_side += other.same_side

    def summary(self) -> dict[str, Any]:
        """Median / p95 per angle, agreement rates, pixel shifts."""
        out: dict[str, Any] = {"frames": len(self.agree), "paired": len(self.same_side)}
        out["angles_deg"] = {name: _stats(self.diffs[name]) for name in ANGLES}
        out["flag_agreement"] = _rate(self.agree)
        out["same_side"] = _rate(self.same_side)
        if any(self.pixels.values()):
            out["shift_px256"] = {g: _stats(v) for g, v in self.pixels.items()}
        out["meets_bar"] = bool(self.same_side) and all(
            out["angles_deg"][name]["median"] <= BAR_MEDIAN_DEG
            and out["angles_deg"][name]["p95"] <= BAR_P95_DEG
            for name in BAR_ANGLES
        )
        return out


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "p95": float("nan")}
    arr = np.asarray(values)
    return {
        "median": round(float(np.median(arr)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
    }


def _rate(flags: list[bool]) -> float:
    return round(float(np.mean(flags)), 4) if flags else float("nan")


@dataclass
class ClipResult:
    """Both comparisons of one clip, and crops kept for the latency test."""

    name: str
    same_crops: Comparison = field(default_factory=Comparison)
    pipeline: Comparison = field(default_factory=Comparison)
    frames: int = 0
    detector_runs: dict[str, int] = field(default_factory=lambda: {"fp32": 0, "int8": 0})
    latency_tensors: list[np.ndarray] = field(default_factory=list)
    # FP32's own |angle change| between consecutive frames: the scale INT8 errors compare to.
    fp32_jitter: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ANGLES})
    # Per frame, each pipeline's landmarks (NaN when nobody), for the rep counter.
    t: list[float] = field(default_factory=list)
    tracks: dict[str, dict[str, list[np.ndarray]]] = field(
        default_factory=lambda: {k: {"xy": [], "visibility": []} for k in ("fp32", "int8")}
    )

    def add_track_frame(self, t_s: float, poses: dict[str, Any]) -> None:
        """Records both pipelines' landmarks of one frame."""
        self.t.append(t_s)
        for key, found in poses.items():
            if len(found):
                self.tracks[key]["xy"].append(found.xy[0])
                self.tracks[key]["visibility"].append(found.visibility[0])
            else:
                self.tracks[key]["xy"].append(np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
                self.tracks[key]["visibility"].append(np.zeros(NUM_LANDMARKS, np.float32))


def compare_crop(result: ClipResult, roi: Any, out32: dict, out8: dict, threshold: float) -> None:
    """Decodes FP32 and INT8 outputs of one crop at the same ROI and records the pair."""
    r32 = decode_landmarks(out32, roi, threshold)
    r8 = decode_landmarks(out8, roi, threshold)
    result.same_crops.add_presence(r32.flag >= threshold, r8.flag >= threshold)
    if len(r32.poses) and len(r8.poses):
        result.same_crops.add_angles(
            joint_angles(r32.poses.xy[0], r32.poses.visibility[0]),
            joint_angles(r8.poses.xy[0], r8.poses.visibility[0]),
        )
        result.same_crops.add_pixels(r32.poses.xy[0], r8.poses.xy[0], roi.size)


def run_clip(
    path: Path, models: dict[str, Any], config: PoseConfig, args: argparse.Namespace
) -> ClipResult:
    """Runs the FP32 pipeline, INT8 on its crops, and the INT8 pipeline over one clip."""
    result = ClipResult(path.name)
    fp32_pipe = RecordingEstimator(config, (models["detector"], models["fp32"]))
    int8_pipe = PoseEstimator(config, models=(models["detector"], models["int8"]))
    crops_seen = 0
    previous: dict[str, float] | None = None
    for frame in iter_video(path, args.max_frames):
        if frame.index % args.stride:
            continue
        result.frames += 1
        p32 = fp32_pipe.process(frame.image)
        for roi, tensor, out32 in fp32_pipe.take_calls():
            out8 = models["int8"].run(tensor)
            compare_crop(result, roi, out32, out8, config.pose_flag_threshold)
            if crops_seen % args.latency_every == 0:
                result.latency_tensors.append(tensor)
            crops_seen += 1
        p8 = int8_pipe.process(frame.image)
        result.pipeline.add_presence(bool(len(p32)), bool(len(p8)))
        a32 = joint_angles(p32.xy[0], p32.visibility[0]) if len(p32) else None
        if a32 is not None and len(p8):
            result.pipeline.add_angles(a32, joint_angles(p8.xy[0], p8.visibility[0]))
        if a32 is not None and previous is not None:
            for name in ANGLES:
                result.fp32_jitter[name].append(abs(a32[0][name] - previous[name]))
        previous = a32[0] if a32 is not None else None
        result.add_track_frame(frame.t_s, {"fp32": p32, "int8": p8})
    result.detector_runs = {"fp32": fp32_pipe.detector_runs, "int8": int8_pipe.detector_runs}
    return result


# ------------------------------------------------------------------ reps and faults


def rep_decisions(result: ClipResult) -> dict[str, list[list[str]]]:
    """Each pipeline's reps on the clip, as the fault codes of each rep, via `edge.hinge`."""
    t = np.asarray(result.t, np.float64)
    decisions = {}
    for key, track in result.tracks.items():
        events = score_track(t, np.stack(track["xy"]), np.stack(track["visibility"]))
        decisions[key] = [
            sorted(f.code for f in e.faults) for e in events if isinstance(e, RepEvent)
        ]
    return decisions


def rep_summary(per_clip: dict[str, Any]) -> dict[str, Any]:
    """Clips whose rep count / per-rep faults are unchanged by INT8."""
    same_count = [c for c, v in per_clip.items() if v["reps"]["fp32"] == v["reps"]["int8"]]
    matched = same_faults = 0
    for v in per_clip.values():
        for a, b in zip(v["rep_faults"]["fp32"], v["rep_faults"]["int8"], strict=False):
            matched += 1
            same_faults += a == b
    return {
        "clips": len(per_clip),
        "clips_same_count": len(same_count),
        "clips_differing": sorted(c for c in per_clip if c not in same_count),
        "reps_fp32": sum(v["reps"]["fp32"] for v in per_clip.values()),
        "reps_int8": sum(v["reps"]["int8"] for v in per_clip.values()),
        "paired_reps": matched,
        "paired_reps_same_faults": same_faults,
        "unchanged": len(same_count) == len(per_clip),
    }


# ------------------------------------------------------------------ latency


def measure_latency(models: dict[str, Any], tensors: list[np.ndarray], rounds: int) -> dict:
    """Landmark-model time per crop, FP32 and INT8 interleaved (order alternating)."""
    times: dict[str, list[float]] = {"fp32": [], "int8": []}
    for r in range(rounds):
        for i, tensor in enumerate(tensors):
            order = ("fp32", "int8") if (i + r) % 2 == 0 else ("int8", "fp32")
            for key in order:
                t0 = time.perf_counter()
                models[key].run(tensor)
                times[key].append(time.perf_counter() - t0)
    ms = {k: np.asarray(v) * 1000 for k, v in times.items()}
    med = {k: float(np.median(v)) for k, v in ms.items()}
    p90 = {k: float(np.percentile(v, 90)) for k, v in ms.items()}
    return {
        "runs_each": len(ms["fp32"]),
        "fp32_ms": {"median": round(med["fp32"], 2), "p90": round(p90["fp32"], 2)},
        "int8_ms": {"median": round(med["int8"], 2), "p90": round(p90["int8"], 2)},
        "speedup": round(med["fp32"] / med["int8"], 3),
        "threads": 1,
    }


# ------------------------------------------------------------------ models and clips


class NoisyInput:
    """The FP32 model fed its crop plus fixed, invisible noise: the reference "candidate".

    Any model that is not bit-identical to FP32 perturbs the landmarks a little; how far
    FP32 itself moves under such a perturbation is the floor no quantized model can beat.
    The noise is Gaussian, `sigma` 8-bit grey levels (0.5: half the step of the 8-bit
    video the crops come from), drawn once with a fixed seed and added to every crop.
    """

    def __init__(self, model: OnnxModel, sigma: float, seed: int = 0) -> None:
        self.model, self.sigma = model, sigma
        rng = np.random.default_rng(seed)
        shape = (1, INPUT_SIZE, INPUT_SIZE, 3)
        self.noise = (rng.standard_normal(shape) * sigma / 255.0).astype(np.float32)
        self.spec = replace(model.spec, name=f"fp32+noise({sigma:g} grey levels)")

    def run(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        """FP32 outputs for the crop plus the fixed noise."""
        return self.model.run(tensor + self.noise)


def load_models(
    candidate: Path, noise_sigma: float | None = None, noise_seed: int = 0
) -> dict[str, Any]:
    """The shipped detector and FP32 model, and the INT8 candidate (any path), 1 thread.

    `noise_sigma`: instead of the candidate, the FP32 model fed invisible noise
    (`NoisyInput`), which measures FP32's own floor.
    """
    config = PoseConfig(threads=1)
    detector, fp32 = load_pose_models(config)
    if noise_sigma is not None:
        return {
            "detector": detector,
            "fp32": fp32,
            "int8": NoisyInput(fp32, noise_sigma, noise_seed),
        }
    manifest = load_manifest(ROOT / "models")
    base = manifest[FP32_NAME]
    spec = manifest.get(INT8_NAME)
    sha = sha256_file(candidate)
    if spec is None or spec.sha256 != sha or spec.file != candidate.name:
        spec = replace(
            base,
            name=f"candidate:{candidate.name}",
            file=candidate.name,
            precision="int8",
            sha256=sha,
            size_bytes=candidate.stat().st_size,
        )
    int8 = OnnxModel(spec, candidate.resolve().parent, threads=1)
    return {"detector": detector, "fp32": fp32, "int8": int8}


def side_clips(labels: Path, view: str, only: list[str]) -> list[tuple[Path, int | None]]:
    """The clips of `labels.csv` with this view and their labelled rep counts.

    `only`: keep clips whose path contains one of these substrings.
    """
    with labels.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["view"] == view]
    clips = [
        (labels.parent / r["path"], int(r["reps"]) if r["reps"].isdigit() else None) for r in rows
    ]
    if only:
        clips = [c for c in clips if any(s in str(c[0]) for s in only)]
    return clips


# ------------------------------------------------------------------ report


def verdict(same: dict, pipe: dict, reps: dict) -> str:
    """'default' only if both modes meet the angle bar and no clip's rep count changes."""
    if same["meets_bar"] and pipe["meets_bar"] and reps["unchanged"]:
        return "default"
    return "option"


def markdown(report: dict) -> str:
    """The report as the tables of docs/int8.md."""
    lines = [
        "| angle | same crops median / p95 (deg) | pipeline median / p95 (deg) |",
        "|---|---|---|",
    ]
    for name in ANGLES:
        s, p = report["same_crops"]["angles_deg"][name], report["pipeline"]["angles_deg"][name]
        lines.append(
            f"| {name} | {s['median']:.2f} / {s['p95']:.2f} | {p['median']:.2f} / {p['p95']:.2f} |"
        )
    s, p = report["same_crops"], report["pipeline"]
    lat = report["latency"]
    lines += [
        f"| pose-flag agreement | {s['flag_agreement']:.2%} ({s['frames']} crops) | "
        f"{p['flag_agreement']:.2%} ({p['frames']} frames) |",
        f"| same facing side | {s['same_side']:.2%} | {p['same_side']:.2%} |",
        f"| detector runs, FP32 / INT8 pipeline | | {p['detector_runs']['fp32']} / "
        f"{p['detector_runs']['int8']} |",
        "",
        f"Landmark model, 1 thread, interleaved over {lat['runs_each']} runs each: FP32 "
        f"{lat['fp32_ms']['median']:.1f} ms, INT8 {lat['int8_ms']['median']:.1f} ms "
        f"(median), **{lat['speedup']:.2f}x**.",
    ]
    if "shift_px256" in s:
        shifts = ", ".join(
            f"{g} {v['median']:.1f}/{v['p95']:.1f}" for g, v in s["shift_px256"].items()
        )
        lines.append(
            f"Landmark shift on the same crops, 256-px crop pixels (median/p95): {shifts}."
        )
    if "reps" in report:
        r = report["reps"]
        differing = ", ".join(Path(c).name for c in r["clips_differing"]) or "none"
        lines.append(
            f"Reps (`edge.hinge`, each pipeline's own track): same count on "
            f"{r['clips_same_count']}/{r['clips']} clips (differing: {differing}); "
            f"{r['reps_fp32']} FP32 vs {r['reps_int8']} INT8 reps in all; same fault codes on "
            f"{r['paired_reps_same_faults']}/{r['paired_reps']} paired reps."
        )
    if "fp32_frame_to_frame_deg" in report:
        jitter = ", ".join(
            f"{name} {v['median']:.1f}/{v['p95']:.1f}"
            for name, v in report["fp32_frame_to_frame_deg"].items()
        )
        lines.append(
            f"For scale, FP32's own change between consecutive frames (median/p95 deg): {jitter}."
        )
    return "\n".join(lines)


def figures_entry(report: dict) -> dict[str, Any]:
    """The compact `figures` object of the manifest entry."""

    def angles(mode: dict) -> dict:
        return {k: [v["median"], v["p95"]] for k, v in mode["angles_deg"].items()}

    return {
        "eval": {
            "tool": "research/int8/eval_int8.py",
            "command": report["command"],
            "clips": report["clips"],
            "frames": report["frames"],
            "data": "../shared/data labels.csv view=side (real clips, test only)",
            "git_commit": report["code"]["git_commit"],
            "edge_pose_sha256": report["code"]["edge_pose_sha256"],
        },
        "angle_abs_diff_deg_median_p95": {
            "same_crops": angles(report["same_crops"]),
            "pipeline": angles(report["pipeline"]),
        },
        "pose_flag_agreement": {
            "same_crops": report["same_crops"]["flag_agreement"],
            "pipeline": report["pipeline"]["flag_agreement"],
        },
        "detector_runs_pipeline": report["pipeline"]["detector_runs"],
        "latency_ms_1_thread": {
            "fp32": report["latency"]["fp32_ms"]["median"],
            "int8": report["latency"]["int8_ms"]["median"],
            "speedup": report["latency"]["speedup"],
            "cpu": report["cpu"],
        },
        "bar": {
            "angle_median_deg": BAR_MEDIAN_DEG,
            "angle_p95_deg": BAR_P95_DEG,
            "met_same_crops": report["same_crops"]["meets_bar"],
            "met_pipeline": report["pipeline"]["meets_bar"],
            "rep_counts_unchanged": report["reps"]["unchanged"],
        },
        "reps": {
            "clips_same_count": f"{report['reps']['clips_same_count']}/{report['reps']['clips']}",
            "clips_differing": report["reps"]["clips_differing"],
            "total_fp32_int8": [report["reps"]["reps_fp32"], report["reps"]["reps_int8"]],
            "paired_reps_same_faults": (
                f"{report['reps']['paired_reps_same_faults']}/{report['reps']['paired_reps']}"
            ),
            "counter": "edge.hinge.score_track",
        },
        "verdict": report["verdict"],
    }


def cpu_name() -> str:
    """The CPU model, for the latency figures."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", type=Path, default=ROOT / "models" / "pose_landmark_full_int8.onnx"
    )
    parser.add_argument("--labels", type=Path, default=SHARED_DATA / "labels.csv")
    parser.add_argument("--view", default="side")
    parser.add_argument("--clips", nargs="*", default=[], help="only clips containing these")
    parser.add_argument("--stride", type=int, default=1, help="use every N-th frame")
    parser.add_argument("--max-frames", type=int, default=None, help="per clip, for smoke tests")
    parser.add_argument(
        "--latency-every", type=int, default=20, help="keep every N-th crop for the latency test"
    )
    parser.add_argument("--latency-rounds", type=int, default=3)
    parser.add_argument(
        "--reference-noise",
        type=float,
        default=None,
        metavar="SIGMA",
        help="measure FP32's own floor: the candidate is FP32 fed noise of SIGMA grey levels",
    )
    parser.add_argument("--reference-seed", type=int, default=0, help="the noise's seed")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    parser.add_argument(
        "--write-figures",
        action="store_true",
        help=f"store the figures in the manifest entry {INT8_NAME}",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs the evaluation and prints the tables."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    if not args.labels.is_file():
        raise SystemExit(f"error: {args.labels} not found (real clips are in dev checkouts only)")
    code = code_state()
    models = load_models(args.model, args.reference_noise, args.reference_seed)
    config = PoseConfig(threads=1)
    clips = side_clips(args.labels, args.view, args.clips)
    same, pipe = Comparison(), Comparison()
    per_clip: dict[str, Any] = {}
    tensors: list[np.ndarray] = []
    frames = 0
    detector_runs = {"fp32": 0, "int8": 0}
    jitter: dict[str, list[float]] = {a: [] for a in ANGLES}
    start = time.monotonic()
    for path, labelled_reps in clips:
        result = run_clip(path, models, config, args)
        same.extend(result.same_crops)
        pipe.extend(result.pipeline)
        tensors += result.latency_tensors
        frames += result.frames
        for key in detector_runs:
            detector_runs[key] += result.detector_runs[key]
        for name in ANGLES:
            jitter[name] += result.fp32_jitter[name]
        decisions = rep_decisions(result)
        clip = per_clip[str(path.relative_to(args.labels.parent))] = {
            "frames": result.frames,
            "detector_runs": result.detector_runs,
            "same_crops": result.same_crops.summary(),
            "pipeline": result.pipeline.summary(),
            "reps": {**{k: len(v) for k, v in decisions.items()}, "label": labelled_reps},
            "rep_faults": decisions,
        }
        LOG.info(
            "%s: %d frames; knee same crops %s, pipeline %s; reps fp32 %d int8 %d label %s "
            "(%.0f s)",
            path.name,
            result.frames,
            clip["same_crops"]["angles_deg"]["knee"],
            clip["pipeline"]["angles_deg"]["knee"],
            clip["reps"]["fp32"],
            clip["reps"]["int8"],
            labelled_reps,
            time.monotonic() - start,
        )
    report: dict[str, Any] = {
        "model": models["int8"].spec.name if args.reference_noise is not None else str(args.model),
        "model_sha256": sha256_file(args.model) if args.reference_noise is None else None,
        "command": "python -m research.int8.eval_int8 "
        + shlex.join(str(a) for a in (argv if argv is not None else sys.argv[1:])),
        "clips": len(clips),
        "frames": frames,
        "stride": args.stride,
        "same_crops": same.summary(),
        "pipeline": {**pipe.summary(), "detector_runs": detector_runs},
        "fp32_frame_to_frame_deg": {name: _stats(jitter[name]) for name in ANGLES},
        "latency": measure_latency(models, tensors, args.latency_rounds),
        "cpu": cpu_name(),
        "code": {k: v for k, v in code.items() if k != "edge_synth_sha256"},
        "reps": rep_summary(per_clip),
        "per_clip": per_clip,
    }
    report["verdict"] = verdict(report["same_crops"], report["pipeline"], report["reps"])
    print(markdown(report))
    print(f"\nverdict: {report['verdict']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    if args.write_figures:
        entry = {e["name"]: e for e in read_manifest()["models"]}.get(INT8_NAME)
        if entry is None or entry["sha256"] != report["model_sha256"]:
            raise SystemExit(f"error: {args.model} is not the model registered as {INT8_NAME}")
        entry["figures"] = figures_entry(report)
        merge_entry(entry)
        LOG.info("figures written to the manifest entry %s", INT8_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
