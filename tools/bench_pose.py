"""Benchmarks our pose stage against the real MediaPipe 0.10.14 Pose: speed and agreement.

Run it through its own venv (MediaPipe is never a dependency of the runtime):

    bash tools/bench_pose.sh [--frames 150] [--rounds 3] [--clips N] [--view side]

It decodes the first `--frames` frames of every clip of the chosen view listed in
../shared/data/labels.csv once, then feeds the same frames, in order and clip by clip (a
fresh tracker per clip), to every contender, each in its own worker process pinned to
its cores (so "1 thread" means one core for MediaPipe too, whose thread count Python
cannot set):

- ours: `PoseEstimator.process(bgr)` with every landmark model of models/manifest.json
  (1 thread, core 0), and the default FP32 model with 2 threads on both cores;
- MediaPipe `mp.solutions.pose.Pose(model_complexity=1)`: BGR->RGB + `process(rgb)` in
  tracking mode as a user gets it (smoothed; on 1 core and on 2 cores), and, on the
  first round only, tracking without smoothing and static-image mode (for agreement).

Contenders take turns clip by clip, in an order rotated every clip and round, so a
noisy shared machine hurts them alike. Reported: per-frame latency (median, p90, with
each clip's first frame apart), MediaPipe/ours ratios, our per-stage split, MACs and the
achieved GMAC/s next to a measured single-core SGEMM, detection rates, and per joint the
distance between our landmarks and MediaPipe tracking's (px and fraction of torso
length), with MediaPipe static-vs-tracking as the yardstick and our mean offset in the
crop's frame (a half-pixel or ROI error shows there). Writes docs/pose-benchmark.md and
docs/pose-benchmark.json; exits 0 with a message when the footage folder is absent.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import multiprocessing
import os
import pickle
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.pose.config import PoseConfig
from edge.pose.manifest import default_models_dir, load_manifest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DEFAULT_MODEL = PoseConfig().landmark_model
CROP = 256  # landmark model input side
NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
KEY_GROUPS = {
    "ears": (7, 8), "shoulders": (11, 12), "hips": (23, 24), "knees": (25, 26),
    "ankles": (27, 28), "heels": (29, 30), "toes": (31, 32),
}  # fmt: skip
KEY_JOINTS = tuple(j for pair in KEY_GROUPS.values() for j in pair)
VERSIONED = ("onnxruntime", "mediapipe", "opencv-python-headless", "numpy", "protobuf")


@dataclass(frozen=True)
class Contender:
    """One way of getting landmarks from a frame, run in its own pinned worker process.

    Attributes:
        name: Key used in the report.
        kind: "ours" or "mediapipe".
        cores: CPU cores the worker is pinned to.
        threads: onnxruntime intra-op threads (ours only).
        model: Landmark model name in the manifest (ours only).
        static: MediaPipe `static_image_mode`.
        smooth: MediaPipe `smooth_landmarks`.
        every_round: Run in every round; otherwise in the first only (agreement).
    """

    name: str
    kind: str
    cores: tuple[int, ...]
    threads: int = 1
    model: str = DEFAULT_MODEL
    static: bool = False
    smooth: bool = True
    every_round: bool = True

    def describe(self) -> str:
        """Returns a one-line description for the report."""
        where = f"{len(self.cores)} core{'s' if len(self.cores) > 1 else ''}"
        if self.kind == "ours":
            return f"ours, `{self.model}`, {self.threads} ORT thread(s), {where}"
        mode = "static" if self.static else "tracking" + ("" if self.smooth else ", unsmoothed")
        once = "" if self.every_round else ", first round only"
        return f"MediaPipe 0.10.14 Pose, complexity 1, {mode}, {where}{once}"


@dataclass(frozen=True)
class Clip:
    """A decoded clip: frames saved as one .npy array in the run's temporary folder."""

    path: str
    exercise: str
    width: int
    height: int
    fps: float
    frames: int
    npy: str


class _Counted:
    """Wraps a model's `run` to count calls (a benchmark-only instance patch)."""

    def __init__(self, run: Any) -> None:
        self.run, self.calls = run, 0

    def __call__(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        self.calls += 1
        return self.run(tensor)


def _nan(shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, np.nan, np.float32)


class OursRunner:
    """Our estimator; models load once per worker, a new `PoseEstimator` per clip."""

    def __init__(self, contender: Contender) -> None:
        """Loads the models with the contender's thread count."""
        from edge.pose import load_pose_models

        self.config = PoseConfig(threads=contender.threads, landmark_model=contender.model)
        self.models = load_pose_models(self.config)
        self.counters = {"detector": _Counted(self.models[0].run)}
        self.counters["landmarks"] = _Counted(self.models[1].run)
        self.models[0].run = self.counters["detector"]
        self.models[1].run = self.counters["landmarks"]

    def run_clip(self, frames: np.ndarray) -> dict[str, Any]:
        """Times `process()` on every frame; returns latencies, landmarks, ROIs, stages."""
        from edge.pose import PoseEstimator

        for counter in self.counters.values():
            counter.calls = 0
        estimator = PoseEstimator(self.config, models=self.models)
        latency = np.empty(len(frames))
        xy, roi = _nan((len(frames), 33, 2)), _nan((len(frames), 4))
        cpu0 = time.process_time()
        for i, frame in enumerate(frames):
            t0 = time.perf_counter()
            poses = estimator.process(frame)
            latency[i] = time.perf_counter() - t0
            if len(poses):
                xy[i], roi[i] = poses.xy[0], poses.roi[0]
        calls = {key: counter.calls for key, counter in self.counters.items()}
        return {"latency": latency, "xy": xy, "roi": roi, "stages": dict(estimator.seconds),
                "calls": calls, "cpu_s": time.process_time() - cpu0}  # fmt: skip


class MediapipeRunner:
    """MediaPipe's Pose solution; a new `Pose` object (graph) per clip."""

    def __init__(self, contender: Contender) -> None:
        """Imports MediaPipe (only ever inside a MediaPipe worker)."""
        import warnings

        warnings.filterwarnings("ignore", category=UserWarning)  # protobuf deprecation noise
        import mediapipe as mp

        self.pose_class = mp.solutions.pose.Pose
        self.contender = contender

    def run_clip(self, frames: np.ndarray) -> dict[str, Any]:
        """Times BGR->RGB + `process()`; landmarks are converted after the clock stops.

        MediaPipe's normalised x times the width is a pixel-centre (index) coordinate;
        ours are continuous (pixel i spans [i, i+1)), so 0.5 px is added to match.
        """
        height, width = frames.shape[1:3]
        latency, xy = np.empty(len(frames)), _nan((len(frames), 33, 2))
        c = self.contender
        cpu0 = time.process_time()
        with self.pose_class(
            static_image_mode=c.static, model_complexity=1, smooth_landmarks=c.smooth
        ) as pose:
            for i, frame in enumerate(frames):
                t0 = time.perf_counter()
                result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                latency[i] = time.perf_counter() - t0
                if result.pose_landmarks is not None:
                    marks = result.pose_landmarks.landmark
                    xy[i] = [(m.x * width + 0.5, m.y * height + 0.5) for m in marks]
        return {"latency": latency, "xy": xy, "cpu_s": time.process_time() - cpu0}


def sgemm_gmacs(size: int = 1024, repeats: int = 20) -> float:
    """Measures float32 matrix-multiply throughput in GMAC/s (best of `repeats`)."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), np.float32)
    b = rng.random((size, size), np.float32)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return size**3 / best / 1e9


def _handle(runner: OursRunner | MediapipeRunner, request: tuple[str, Any]) -> Any:
    command, argument = request
    if command == "clip":
        return runner.run_clip(np.load(argument))
    if command == "warmup":
        runner.run_clip(np.load(argument)[:20])
        return None
    if command == "sgemm":
        return sgemm_gmacs()
    raise ValueError(f"unknown request {command!r}")


def worker_main(conn: Any, contender: Contender) -> None:
    """Worker process: pins itself, builds its runner, then serves requests until None."""
    os.sched_setaffinity(0, set(contender.cores))
    try:
        runner = OursRunner(contender) if contender.kind == "ours" else MediapipeRunner(contender)
        conn.send(("ok", None))
        while (request := conn.recv()) is not None:
            conn.send(("ok", _handle(runner, request)))
    except Exception:  # report anything to the parent rather than dying silently
        conn.send(("error", traceback.format_exc()))


class Workers:
    """One worker process per contender; only one of them works at any time."""

    def __init__(self, contenders: list[Contender]) -> None:
        """Starts the workers (spawned: nothing is inherited) and waits until all are ready."""
        context = multiprocessing.get_context("spawn")
        self.conns: dict[str, Any] = {}
        self.procs = []
        for contender in contenders:
            parent, child = context.Pipe()
            proc = context.Process(target=worker_main, args=(child, contender), daemon=True)
            proc.start()
            self.conns[contender.name], self.procs = parent, [*self.procs, proc]
        for name in self.conns:
            self._receive(name)

    def _receive(self, name: str) -> Any:
        status, payload = self.conns[name].recv()
        if status != "ok":
            raise RuntimeError(f"worker {name} failed:\n{payload}")
        return payload

    def ask(self, name: str, command: str, argument: Any = None) -> Any:
        """Sends one request to a worker and waits for its answer."""
        self.conns[name].send((command, argument))
        return self._receive(name)

    def close(self) -> None:
        """Stops every worker (those that no longer answer are terminated)."""
        for conn in self.conns.values():
            try:
                conn.send(None)
            except OSError:  # that worker is already gone
                pass
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()


def make_contenders(models: list[str], cores: list[int]) -> list[Contender]:
    """Builds the contender list: ours per landmark model, ours 2 threads, MediaPipe modes."""
    one, two = (cores[0],), tuple(cores[:2])
    ours = [Contender(f"ours_{m}_1t", "ours", one, 1, m) for m in models]
    mp = [Contender("mp_track_1c", "mediapipe", one)]
    if len(two) == 2:
        ours.append(Contender(f"ours_{DEFAULT_MODEL}_2t", "ours", two, 2))
        mp.append(Contender("mp_track_2c", "mediapipe", two))
    mp.append(Contender("mp_track_raw_1c", "mediapipe", one, smooth=False, every_round=False))
    mp.append(Contender("mp_static_1c", "mediapipe", one, static=True, every_round=False))
    return ours + mp


def read_frames(path: Path, limit: int) -> tuple[list[np.ndarray], float]:
    """Decodes up to `limit` BGR frames of a video; returns them and the stream's fps."""
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    frames: list[np.ndarray] = []
    while len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames, fps


def decode_clips(args: argparse.Namespace, tmp: Path) -> list[Clip]:
    """Decodes the selected clips once, saving each as an .npy array under `tmp`."""
    with (args.data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["view"] == args.view]
    clips = []
    for row in rows[: args.clips or None]:
        frames, fps = read_frames(args.data / row["path"], args.frames)
        if not frames:
            print(f"skipping {row['path']}: no frames decoded", file=sys.stderr)
            continue
        npy = tmp / f"clip{len(clips):02d}.npy"
        np.save(npy, np.stack(frames))
        height, width = frames[0].shape[:2]
        clips.append(Clip(row["path"], row["exercise"], width, height, fps, len(frames), str(npy)))
    return clips


def run_rounds(
    workers: Workers, contenders: list[Contender], clips: list[Clip], rounds: int
) -> dict[tuple[str, int, int], dict[str, Any]]:
    """Runs every contender over every clip, rotating the order per clip and round.

    Returns:
        Results keyed by `(contender name, round, clip index)`.
    """
    results = {}
    start = time.perf_counter()
    for r in range(rounds):
        for k, clip in enumerate(clips):
            shift = (r * len(clips) + k) % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                if r == 0 or contender.every_round:
                    results[contender.name, r, k] = workers.ask(contender.name, "clip", clip.npy)
            elapsed = time.perf_counter() - start
            print(f"round {r + 1}/{rounds} clip {k + 1}/{len(clips)} {elapsed:6.0f} s",
                  file=sys.stderr)  # fmt: skip
    return results


def _q(values: np.ndarray, q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values.size else float("nan")


def latency_stats(runs: list[dict[str, Any]], rounds: list[int]) -> dict[str, Any]:
    """Per-frame latency figures in ms; each clip's first frame (detection, start-up) apart."""
    steady = np.concatenate([run["latency"][1:] for run in runs]) * 1e3
    first = np.array([run["latency"][0] for run in runs]) * 1e3
    per_round = {}
    for r in sorted(set(rounds)):
        chosen = [run["latency"][1:] for run, rr in zip(runs, rounds, strict=True) if rr == r]
        per_round[r] = _q(np.concatenate(chosen) * 1e3, 50)
    wall = sum(float(run["latency"].sum()) for run in runs)
    return {
        "frames": int(steady.size),
        "cpu_per_wall": round(sum(run["cpu_s"] for run in runs) / wall, 3),
        "median_ms": _q(steady, 50),
        "p90_ms": _q(steady, 90),
        "mean_ms": round(float(steady.mean()), 3),
        "first_frame_mean_ms": round(float(first.mean()), 3),
        "round_medians_ms": list(per_round.values()),
    }


def runs_of(results: dict, name: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Returns a contender's runs and the round of each, in (round, clip) order."""
    keys = sorted(key for key in results if key[0] == name)
    return [results[key] for key in keys], [key[1] for key in keys]


def stage_split(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Our mean ms per frame in each stage of `estimator.seconds`, plus the remainder."""
    frames = sum(len(run["latency"]) for run in runs)
    total = sum(float(run["latency"].sum()) for run in runs)
    split: dict[str, float] = {}
    for run in runs:
        for stage, seconds in run["stages"].items():
            split[stage] = split.get(stage, 0.0) + seconds
    out = {stage: round(seconds / frames * 1e3, 3) for stage, seconds in split.items()}
    out["other"] = round((total - sum(split.values())) / frames * 1e3, 3)
    out["total"] = round(total / frames * 1e3, 3)
    return out


def compute_figures(runs: list[dict[str, Any]], macs: dict[str, int]) -> dict[str, Any]:
    """MACs per frame, per-inference time and achieved GMAC/s of our two models."""
    frames = sum(len(run["latency"]) for run in runs)
    out = {}
    for role, stage in (("landmarks", "landmark_inference"), ("detector", "detector")):
        calls = sum(run["calls"][role] for run in runs)
        seconds = sum(run["stages"].get(stage, 0.0) for run in runs)
        out[role] = {
            "macs_per_inference": macs[role],
            "inferences_per_frame": round(calls / frames, 4),
            "macs_per_frame": round(macs[role] * calls / frames),
            "ms_per_inference": round(seconds / max(calls, 1) * 1e3, 3),
            "gmac_per_s": round(macs[role] * calls / max(seconds, 1e-9) / 1e9, 2),
        }
    out["detector"]["note"] = "detector time includes letterbox, decoding and NMS"
    return out


def first_round(results: dict, name: str, n_clips: int, field: str = "xy") -> np.ndarray:
    """Concatenates a contender's first-round per-frame array over the clips."""
    return np.concatenate([results[name, 0, k][field] for k in range(n_clips)])


def _torso(xy: np.ndarray) -> np.ndarray:
    shoulders, hips = xy[:, [11, 12]].mean(axis=1), xy[:, [23, 24]].mean(axis=1)
    return np.linalg.norm(shoulders - hips, axis=-1)


def _spread(px: np.ndarray, rel: np.ndarray) -> dict[str, float]:
    return {"px_median": _q(px, 50), "px_p95": _q(px, 95),
            "torso_median": _q(rel, 50), "torso_p95": _q(rel, 95)}  # fmt: skip


def agreement(xy: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Distances between two contenders' landmarks on the frames in `mask`.

    Args:
        xy: (F, 33, 2) landmarks of the contender.
        ref: (F, 33, 2) landmarks of the reference (its torso length normalises).
        mask: (F,) frames to use.

    Returns:
        Per joint, per key group, and pooled (key joints, all joints) median and p95.
    """
    px = np.linalg.norm(xy[mask] - ref[mask], axis=-1)
    rel = px / _torso(ref[mask])[:, None]
    groups = {name: list(joints) for name, joints in KEY_GROUPS.items()}
    groups |= {"key joints": list(KEY_JOINTS), "all 33": list(range(33))}
    return {
        "frames": int(mask.sum()),
        "summary": {g: _spread(px[:, j].ravel(), rel[:, j].ravel()) for g, j in groups.items()},
        "per_joint": {NAMES[j]: _spread(px[:, j], rel[:, j]) for j in range(33)},
    }


def _median_xy(x: np.ndarray, y: np.ndarray) -> list[float]:
    return [round(float(np.median(x)), 3), round(float(np.median(y)), 3)]


def crop_offsets(xy: np.ndarray, ref: np.ndarray, roi: np.ndarray, mask: np.ndarray) -> dict:
    """Median signed offset xy - ref, rotated into our ROI's crop frame, in crop pixels.

    A constant offset there (rather than noise around zero) means our crop or decoding
    maths differs from MediaPipe's: +x is the crop's right, +y its down (feet-wards).
    The median keeps the odd frame where the two trackers disagree from dominating.
    """
    d, r = (xy - ref)[mask], roi[mask]
    scale = r[:, 2, None] / CROP
    cos, sin = np.cos(r[:, 3])[:, None], np.sin(r[:, 3])[:, None]
    cx = (cos * d[..., 0] + sin * d[..., 1]) / scale
    cy = (-sin * d[..., 0] + cos * d[..., 1]) / scale
    key = list(KEY_JOINTS)
    return {
        "crop_px_key": _median_xy(cx[:, key], cy[:, key]),
        "crop_px_all": _median_xy(cx, cy),
        "image_px_all": _median_xy(d[..., 0], d[..., 1]),
        "roi_size_median_px": round(float(np.median(r[:, 2])), 1),
        "per_joint_crop_px": {NAMES[j]: _median_xy(cx[:, j], cy[:, j]) for j in range(33)},
    }


def agreement_section(results: dict, contenders: list[Contender], n_clips: int) -> dict:
    """Detection rates, and every ours/mp-static vs mp-tracking comparison on common frames."""
    xy = {c.name: first_round(results, c.name, n_clips) for c in contenders if len(c.cores) == 1}
    found = {name: ~np.isnan(a[:, 0, 0]) for name, a in xy.items()}
    mask = np.logical_and.reduce(list(found.values()))
    pairs = {}
    challengers = [n for n in xy if n.startswith("ours_")] + ["mp_static_1c"]
    for ref in ("mp_track_raw_1c", "mp_track_1c"):
        for name in challengers:
            pairs[f"{name} vs {ref}"] = agreement(xy[name], xy[ref], mask)
    offsets = {}
    for name in (n for n in challengers if n.startswith("ours_")):
        roi = first_round(results, name, n_clips, "roi")
        offsets[name] = crop_offsets(xy[name], xy["mp_track_raw_1c"], roi, mask)
    detection = {name: round(float(f.mean()), 4) for name, f in found.items()}
    first = next(iter(xy))
    bounds = np.cumsum([0, *(len(results[first, 0, k]["latency"]) for k in range(n_clips))])
    per_clip = [{name: round(float(f[a:b].mean()), 3) for name, f in found.items()}
                for a, b in itertools.pairwise(bounds)]  # fmt: skip
    return {"common_frames": int(mask.sum()), "total_frames": int(mask.size),
            "detection_rate": detection, "detection_rate_per_clip": per_clip, "pairs": pairs,
            "offsets_vs_mp_track_raw": offsets}  # fmt: skip


def bar_checks(section: dict, ours: list[str]) -> dict[str, Any]:
    """The issue's bar: ours vs mp-tracking within mp-static vs mp-tracking (key joints)."""
    out = {}
    for name in ours:
        for ref in ("mp_track_raw_1c", "mp_track_1c"):
            mine = section["pairs"][f"{name} vs {ref}"]["summary"]["key joints"]
            yard = section["pairs"][f"mp_static_1c vs {ref}"]["summary"]["key joints"]
            out[f"{name} vs {ref}"] = {
                stat: {"ours": mine[stat], "yardstick": yard[stat],
                       "pass": mine[stat] <= yard[stat]}
                for stat in ("torso_median", "torso_p95")
            }  # fmt: skip
    return out


def machine_info() -> dict[str, Any]:
    """CPU, OS, library versions, date and source revision."""
    cpu = {}
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        cpu.setdefault(key.strip(), value.strip())
    flags = set(cpu.get("flags", "").split())
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
            if f in flags]  # fmt: skip
    versions = {}
    for package in VERSIONED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu.get("model name"), "cpu_family_model": f"{cpu.get('cpu family')}/"
        f"{cpu.get('model')}", "cpu_mhz": cpu.get("cpu MHz"), "simd": simd,
        "cores": len(os.sched_getaffinity(0)), "kernel": platform.release(),
        "python": platform.python_version(), "versions": versions,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "git": _git_revision(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def _git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "edge/pose", "models"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (edge/pose/ or models/ modified)" if dirty else "")


def speed_section(results: dict, contenders: list[Contender]) -> dict[str, Any]:
    """Latency per contender and the MediaPipe/ours ratios."""
    speed = {c.name: latency_stats(*runs_of(results, c.name)) for c in contenders}
    ratios = {}
    pairs = [("mp_track_1c", f"ours_{m}_1t") for m in _ours_models(contenders)]
    pairs.append(("mp_track_2c", f"ours_{DEFAULT_MODEL}_2t"))
    for mp, ours in ((a, b) for a, b in pairs if a in speed and b in speed):
        ratios[f"{mp} / {ours}"] = {
            "median": round(speed[mp]["median_ms"] / speed[ours]["median_ms"], 3),
            "p90": round(speed[mp]["p90_ms"] / speed[ours]["p90_ms"], 3),
            "mean": round(speed[mp]["mean_ms"] / speed[ours]["mean_ms"], 3),
            "per_round_median": [round(a / b, 3) for a, b in zip(
                speed[mp]["round_medians_ms"], speed[ours]["round_medians_ms"], strict=False)],
        }  # fmt: skip
    return {"latency": speed, "ratios": ratios}


def _ours_models(contenders: list[Contender]) -> list[str]:
    return [c.model for c in contenders if c.kind == "ours" and c.threads == 1]


def analyse(results: dict, contenders: list[Contender], clips: list[Clip]) -> dict[str, Any]:
    """Turns raw per-clip results into every figure of the report."""
    manifest = load_manifest(default_models_dir())
    detector = PoseConfig().detector_model
    ours = [c for c in contenders if c.kind == "ours"]
    stages, compute = {}, {}
    for c in ours:
        runs, _ = runs_of(results, c.name)
        stages[c.name] = stage_split(runs)
        macs = {"landmarks": manifest[c.model].extra.get("macs", 0),
                "detector": manifest[detector].extra.get("macs", 0)}  # fmt: skip
        compute[c.name] = compute_figures(runs, macs)
        compute[c.name]["detector_runs_per_100_frames"] = round(
            100 * compute[c.name]["detector"]["inferences_per_frame"], 2)  # fmt: skip
    section = agreement_section(results, contenders, len(clips))
    return {
        "speed": speed_section(results, contenders),
        "stages_ms_per_frame": stages,
        "compute": compute,
        "agreement": section,
        "bar": bar_checks(section, [f"ours_{m}_1t" for m in _ours_models(contenders)]),
    }


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def md_speed(report: dict) -> list[str]:
    """The latency table and the ratio lines."""
    speed, contenders = report["speed"], report["contenders"]
    rows = []
    for c in contenders:
        s = speed["latency"][c["name"]]
        per_round = " / ".join(f"{m:.1f}" for m in s["round_medians_ms"])
        rows.append([f"`{c['name']}`", c["description"], s["median_ms"], s["p90_ms"],
                     s["mean_ms"], s["first_frame_mean_ms"], per_round, s["frames"],
                     s["cpu_per_wall"]])  # fmt: skip
    head = ["contender", "what", "median ms", "p90 ms", "mean ms", "1st frame ms",
            "median per round", "frames", "CPU s / wall s"]  # fmt: skip
    lines = ["## Speed: ms per frame, tracking mode, decoded BGR frame -> landmarks in px", ""]
    lines += [*_table(head, rows), ""]
    for pair, r in speed["ratios"].items():
        target = " (target >= 2x: **met**)" if r["median"] >= 2 else " (target >= 2x: **not met**)"
        extra = target if pair.startswith("mp_track_1c") else ""
        lines.append(f"- `{pair}`: median {r['median']}x, p90 {r['p90']}x, mean {r['mean']}x, "
                     f"per round {r['per_round_median']}{extra}")  # fmt: skip
    return [*lines, ""]


def md_compute(report: dict) -> list[str]:
    """Our per-stage split and the achieved GMAC/s."""
    stages = report["stages_ms_per_frame"]
    known = ["convert", "detector", "crop", "landmark_inference", "landmark_decode"]
    present = {k for s in stages.values() for k in s} - {"other", "total"}
    order = [k for k in known if k in present] + sorted(present - set(known)) + ["other"]
    rows = [[f"`{name}`", *[s.get(k, 0.0) for k in order], s["total"]]
            for name, s in stages.items()]  # fmt: skip
    lines = ["## Our per-stage split (mean ms per frame, all frames, from `estimator.seconds`)",
             "", *_table(["contender", *order, "total"], rows)]  # fmt: skip
    rows = []
    for name, c in report["compute"].items():
        lm, det = c["landmarks"], c["detector"]
        per_frame = (lm["macs_per_frame"] + det["macs_per_frame"]) / 1e6
        rows.append([f"`{name}`", f"{lm['macs_per_inference'] / 1e6:.0f} M",
                     lm["ms_per_inference"], lm["gmac_per_s"], c["detector_runs_per_100_frames"],
                     det["ms_per_inference"], f"{per_frame:.0f} M"])  # fmt: skip
    head = ["contender", "landmark MACs", "ms / inference", "GMAC/s", "detector runs / 100 fr",
            "detector ms / run", "MACs / frame (both)"]  # fmt: skip
    sgemm = report["sgemm_gmacs_1core"]
    lines += ["", "## Compute: MACs (from the manifest) and achieved throughput", ""]
    lines += [*_table(head, rows), "",
              f"Measured float32 SGEMM (NumPy/OpenBLAS, 1024^3, one pinned core): "
              f"**{sgemm:.1f} GMAC/s**, a practical ceiling for one core.", ""]  # fmt: skip
    return lines


def _cell(s: dict, unit: str) -> str:
    if unit == "px":
        return f"{s['px_median']:.1f} / {s['px_p95']:.1f}"
    return f"{s['torso_median']:.3f} / {s['torso_p95']:.3f}"


def md_agreement(report: dict) -> list[str]:
    """Detection rates, the summary per key group and the per-joint tables."""
    a = report["agreement"]
    lines = ["## Detection rate (first round, all frames)", ""]
    rates = [[f"`{n}`", f"{100 * r:.1f} %"] for n, r in a["detection_rate"].items()]
    lines += _table(["contender", "frames with a pose"], rates)
    lines += ["", f"## Agreement on the {a['common_frames']} of {a['total_frames']} frames where "
              "every contender found a pose", "",
              "Cells are median / p95. `mp_track_raw_1c` (`smooth_landmarks=False`) is the fair "
              "reference: like ours its landmarks are raw per frame, while the default smoothing "
              "(`mp_track_1c`) filters them over time and lags on fast motion.", ""]  # fmt: skip
    pairs = list(a["pairs"])
    groups = [*KEY_GROUPS, "key joints", "all 33"]
    for unit, title in (("torso", "fraction of torso length"), ("px", "pixels")):
        rows = [[g] + [_cell(a["pairs"][p]["summary"][g], unit) for p in pairs] for g in groups]
        lines += [f"### By group, {title}", "", *_table(["joints", *pairs], rows), ""]
    rows = [[n] + [_cell(a["pairs"][p]["per_joint"][n], "torso") for p in pairs] for n in NAMES]
    lines += ["### Per joint, fraction of torso length", "", *_table(["joint", *pairs], rows)]
    return [*lines, ""]


def md_bar_and_offsets(report: dict) -> list[str]:
    """The issue's bar and the systematic-offset diagnostic."""
    lines = ["## The bar: ours vs MediaPipe tracking <= MediaPipe static vs tracking", ""]
    rows = [[ref, stat, v["ours"], v["yardstick"], "pass" if v["pass"] else "**fail**"]
            for ref, stats in report["bar"].items() for stat, v in stats.items()]  # fmt: skip
    lines += _table(["comparison", "key joints", "ours", "mp static", "verdict"], rows)
    lines += ["", "## Systematic offset: median (ours - mp_track_raw_1c) in our crop's frame",
              "", "In crop pixels (256 across the ROI; +x right, +y towards the feet), per "
              "coordinate over frames and joints. Disagreement that is noise has a median "
              "near 0; a constant offset of tenths of a crop pixel or more is a convention "
              "mismatch in cropping or decoding.", ""]  # fmt: skip
    offsets = report["agreement"]["offsets_vs_mp_track_raw"]
    rows = [[f"`{n}`", o["crop_px_key"], o["crop_px_all"], o["image_px_all"],
             o["roi_size_median_px"]] for n, o in offsets.items()]  # fmt: skip
    head = ["contender", "key joints (x, y)", "all 33 (x, y)", "image px, all (x, y)",
            "median ROI px"]  # fmt: skip
    return lines + _table(head, rows) + [""]


def md_header(report: dict) -> list[str]:
    """Title, reproduction command, machine and data."""
    m = report["machine"]
    clips = report["clips"]
    frames = sum(c["frames"] for c in clips)
    sizes = sorted({f"{c['width']}x{c['height']}" for c in clips})
    return [
        "# Pose stage benchmark: ours (onnxruntime) vs MediaPipe 0.10.14", "",
        "Generated by `tools/bench_pose.py`; do not edit by hand. Reproduce with:", "",
        f"    {report['command']}", "",
        f"- Date: {m['date']}; source revision {m['git']}",
        f"- CPU: {m['cpu']} (family/model {m['cpu_family_model']}, {m['cpu_mhz']} MHz, "
        f"{m['cores']} cores, {', '.join(m['simd'])}); Linux {m['kernel']}; Python {m['python']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- Load average at start / end: {m['loadavg_start']} / {m['loadavg_end']}",
        f"- Data: {len(clips)} `{report['args']['view']}`-view clips of ../shared/data "
        f"({', '.join(sizes)}), first {report['args']['frames']} frames each, {frames} frames; "
        f"{report['args']['rounds']} rounds; {report['wall_s']:.0f} s wall time", "",
        "Every contender gets the same decoded frames in order, a fresh tracker per clip, in "
        "its own process pinned with `sched_setaffinity` (`_1t`/`_1c`: core "
        "0 only; `_2t`/`_2c`: both cores). Latency runs from the decoded BGR frame to "
        "landmarks in image pixels: for ours `PoseEstimator.process` (detector when needed, "
        "crop, BGR->RGB of the model input, inference, decoding), for MediaPipe `cv2.cvtColor` "
        "BGR->RGB of the frame + `Pose.process`. Each clip's first frame (detector, graph "
        "start-up) is reported apart; median/p90 are over the other frames of all clips and "
        "rounds. `CPU s / wall s` below 1 for a one-core contender means other processes took "
        "the core from it (the machine is shared).", "",
    ]  # fmt: skip


def md_notes() -> list[str]:
    """What the figures do and do not show (static text)."""
    return [
        "## Notes on fairness", "",
        "- MediaPipe's XNNPACK delegate uses 1 thread by default on Linux desktop builds "
        "(`GetXnnpackDefaultNumThreads` returns 1 outside Android/iOS/WASM) and Python cannot "
        "change it, so `mp_track_2c` still infers on one thread: its second core only serves "
        "the graph's other calculators. Pinning to one core is what makes `_1c` vs `_1t` fair.",
        "- Both run the same BlazePose GHUM full network, but ours is the manifest's ONNX "
        "export with the segmentation head pruned (its MACs are in the table above), while "
        "MediaPipe's TFLite graph computes the segmentation decoder even with "
        "`enable_segmentation=False`.",
        "- MediaPipe's normalised x times the width is a pixel-centre (index) coordinate; ours "
        "are continuous (pixel i spans [i, i+1)), so 0.5 px is added to MediaPipe's before "
        "comparing. MediaPipe static vs tracking is the yardstick for how much the same network "
        "moves when only the ROI changes.",
        "- Smoothing: MediaPipe's default `smooth_landmarks=True` filters the output landmarks "
        "over time; ours are raw, so `mp_track_raw_1c` is the like-for-like reference and "
        "`mp_track_1c` what a user gets by default. Either way MediaPipe also smooths the two "
        "auxiliary points that place the next frame's ROI (One-Euro, min_cutoff 0.01, beta 10, "
        "scaled by the ROI, at a simulated 30 fps: the `PoseLandmarkFiltering` subgraph compiled "
        "into 0.10.14, not switchable from Python); ours places the ROI from the raw points.",
        "- The benchmark venv has opencv-python-headless 4.11 (the newest that works with the "
        "NumPy 1.x MediaPipe 0.10.14 needs) where the runtime has 4.14.",
        "- The machine is shared: see the load average and `CPU s / wall s`; rounds alternate "
        "the contenders clip by clip so that noise hits all of them, but absolute figures on a "
        "quiet machine are lower. Two-thread figures suffer most when another process holds a "
        "core (each parallel section waits for the slower thread).", "",
    ]  # fmt: skip


def write_report(report: dict, md_path: Path, json_path: Path) -> None:
    """Writes the Markdown report and the raw JSON figures."""
    lines = md_header(report) + md_speed(report) + md_compute(report)
    lines += md_bar_and_offsets(report) + md_agreement(report) + md_notes()
    per_clip = report["agreement"]["detection_rate_per_clip"]
    names = list(per_clip[0]) if per_clip else []
    rows = [[c["path"], c["exercise"], f"{c['width']}x{c['height']}", round(c["fps"], 1),
             c["frames"], *[f"{100 * rates[n]:.0f}" for n in names]]
            for c, rates in zip(report["clips"], per_clip, strict=True)]  # fmt: skip
    head = ["clip", "exercise", "size", "fps", "frames", *[f"% found {n}" for n in names]]
    lines += ["## Clips and detection rate per clip (first round)", "", *_table(head, rows)]
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    json_path.write_text(json.dumps(report, indent=1, allow_nan=True) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="footage folder with labels.csv")
    parser.add_argument("--view", default="side", help="labels.csv view to use (exact match)")
    parser.add_argument("--frames", type=int, default=150, help="frames decoded per clip")
    parser.add_argument("--clips", type=int, default=0, help="use only the first N clips")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds over all clips")
    parser.add_argument("--models", nargs="*", help="landmark models (default: all in manifest)")
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "pose-benchmark.md")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "pose-benchmark.json")
    parser.add_argument("--save-raw", type=Path, help="also pickle the per-frame results here")
    parser.add_argument("--from-raw", type=Path, help="re-analyse a --save-raw file, no timing")
    return parser.parse_args(argv)


def collect(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Decodes the clips and runs every contender; returns the raw per-clip results."""
    machine = machine_info()
    manifest = load_manifest(default_models_dir())
    models = args.models or [s.name for s in manifest.values() if s.role == "landmarks"]
    models.sort(key=lambda name: name != DEFAULT_MODEL)
    contenders = make_contenders(models, sorted(os.sched_getaffinity(0)))
    clips = decode_clips(args, tmp)
    if not clips:
        raise SystemExit(f"no {args.view!r} clip could be decoded from {args.data}")
    start = time.perf_counter()
    workers = Workers(contenders)
    try:
        for c in contenders:
            workers.ask(c.name, "warmup", clips[0].npy)
        sgemm = workers.ask(contenders[0].name, "sgemm")
        results = run_rounds(workers, contenders, clips, args.rounds)
    finally:
        workers.close()
    machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "results": results, "contenders": contenders, "clips": clips, "machine": machine,
        "sgemm": sgemm, "wall_s": time.perf_counter() - start,
        "command": " ".join(["bash tools/bench_pose.sh", *_replay_args(sys.argv[1:])]),
        "args": {"view": args.view, "frames": args.frames, "rounds": args.rounds},
    }  # fmt: skip


def _replay_args(argv: list[str]) -> list[str]:
    """The arguments that shape the figures (drops --save-raw/--from-raw and their paths)."""
    out, skip = [], False
    for arg in argv:
        if skip or arg.startswith(("--save-raw", "--from-raw")):
            skip = not skip and "=" not in arg
            continue
        out.append(arg)
    return out


def build_report(raw: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report, from the raw results of `collect`."""
    contenders, clips = raw["contenders"], raw["clips"]
    report = analyse(raw["results"], contenders, clips)
    report |= {
        "command": raw["command"], "args": raw["args"], "machine": raw["machine"],
        "sgemm_gmacs_1core": round(raw["sgemm"], 2), "wall_s": round(raw["wall_s"], 1),
        "contenders": [asdict(c) | {"description": c.describe()} for c in contenders],
        "clips": [{k: v for k, v in asdict(c).items() if k != "npy"} for c in clips],
    }  # fmt: skip
    return report


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds, so the decoded frames' temp folder is removed


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark (or re-analyses a saved run) and writes the report."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if args.from_raw:
        raw = pickle.loads(args.from_raw.read_bytes())  # our own file from --save-raw
    elif not (args.data / "labels.csv").is_file():
        print(f"no footage at {args.data} (labels.csv missing): nothing to benchmark")
        return 0
    else:
        with tempfile.TemporaryDirectory(prefix="bench_pose_") as tmp:
            raw = collect(args, Path(tmp))
        if args.save_raw:
            args.save_raw.write_bytes(pickle.dumps(raw))
    report = build_report(raw)
    write_report(report, args.md, args.json)
    for pair, ratio in report["speed"]["ratios"].items():
        print(f"{pair}: median {ratio['median']}x, p90 {ratio['p90']}x")
    print(f"wrote {args.md} and {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
