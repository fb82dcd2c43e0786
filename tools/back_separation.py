"""Does the back's outline in BlazePose's mask separate rounded backs from good ones?

    .venv/bin/python -m tools.back_separation [--json out/back.json] [--bench 200]

For every side or oblique clip of ../shared/data whose label speaks about the back (the
BichraiX good/bad pairs, and the split-screen RDL with each pane cropped out and tracked
on its own), the pose stage runs twice: once as usual, to find each rep's deepest lean
and its lockout; then again, with the mask model (`PoseEstimator.process_with_mask`) on
exactly those frames, and `edge.pose.back.measure_back` on each mask. Printed: a table
per clip, the ROC AUC of the bulge for rounded against good (per frame at depth, per rep,
and at equal lean), a threshold, the arch at lockout, and the mask model's time per call
against the pruned landmark model's, measured in the same run (docs/back.md).

Real footage is test material: nothing from it is written anywhere but the JSON asked for.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.capture.video import iter_video
from edge.pose import PoseEstimator, load_mask_model, load_pose_models
from edge.pose.back import BackConfig, BackMeasure, measure_back
from edge.pose.config import PoseConfig
from edge.pose.landmarks import INPUT_SIZE, CropMask
from edge.pose.roi import crop_roi
from edge.pose.runtime import OnnxModel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SOURCES = ("BichraiX__AI-Deadlift-Analysis", "julioccv13__entrenamiento_2")
SPLIT_SCREEN = "julioccv13__entrenamiento_2/rdl.mp4"  # left pane good, right pane rounded
SHOULDER, HIP, HEEL, TOE = 11, 23, 29, 31  # left side; the right side is index + 1
DEPTH_SHARE = 0.2  # the 20% of a rep's frames with the most lean are "at depth"
# A rep that never leans this far has no depth to judge (a lockout-only clip): 45 deg is
# half way to horizontal, well below every hinge bottom in these clips (70-92 deg).
MIN_DEPTH_LEAN_DEG = 45.0
LOCKOUT_MARGIN_DEG = 5.0  # lockout: within this of the rep's least lean
# Beyond these the "trunk" is upside down or far behind the hips: the tracker has left the
# athlete (bad006 locks onto the plate mid-clip); such frames are never chosen.
PLAUSIBLE_LEAN_DEG = (-60.0, 120.0)
# Rep-level operating threshold on the bulge (docs/back.md: above every good side rep's
# 0.033, below the three BichraiX rounded reps' 0.069-0.109).
BULGE_THRESHOLD = 0.05
# Same athlete, good and faulty (CATALOG.md): the comparison free of body shape.
LIFTERS = {
    "A": ("good004", "bad005", "bad006"),
    "B": ("good014", "good015", "good020", "bad007", "bad018"),
    "C": ("rdl:left", "rdl:right"),
}
SMOOTH_FRAMES = 5  # median window for the lean signal used to split reps (~0.1-0.2 s)
LEAN_BIN_DEG = 10.0  # width of the lean bins of the equal-lean comparison
MIN_SLOPE_RANGE_DEG = 3.0  # a rep's frames at depth must span this much lean to fit a slope
THRESHOLDS = (0.3, 0.7)  # mask thresholds re-measured to check the ranking holds

logger = logging.getLogger("back_separation")


@dataclass(frozen=True)
class Clip:
    """One clip (or one pane of a split screen) and what its label says about the back.

    Attributes:
        path: Relative to the data folder.
        pane: "" for the whole frame, "left" or "right" for a split screen's half.
        group: `good`, `rounded`, `arched` or `other` (a fault that is not the back's).
        view: The label's view.
        reps: The label's rep count.
        label: The label text.
    """

    path: str
    pane: str
    group: str
    view: str
    reps: int
    label: str

    @property
    def name(self) -> str:
        """Short display name."""
        stem = Path(self.path).stem
        return f"{stem}:{self.pane}" if self.pane else stem


@dataclass
class FrameRecord:
    """One masked frame's measure."""

    clip: str
    group: str
    view: str
    rep: int
    phase: str  # "depth" or "lockout"
    frame: int
    lean_deg: float
    valid: bool
    reason: str
    bulge: float
    bulge_upper: float
    bulge_lower: float
    arch: float
    curvature: float
    bulge_at: dict[str, float] = field(default_factory=dict)  # other mask thresholds


def back_group(labels: str) -> str:
    """The back's class from a labels.csv `labels` cell."""
    text = labels.lower()
    if "spine_flexion" in text or "rounded" in text:
        return "rounded"
    if "hyperextension" in text or "extended" in text:
        return "arched"
    if text.startswith("good"):
        return "good"
    return "other"


def load_clips(data: Path) -> list[Clip]:
    """The side/oblique clips of the back-labelled sources, the split screen as two panes."""
    clips = []
    with (data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["path"].startswith(SOURCES) or not row["view"].startswith(("side", "obl")):
                continue
            reps = int(row["reps"])
            if row["path"] == SPLIT_SCREEN:
                clips.append(Clip(row["path"], "left", "good", row["view"], reps, "left pane"))
                clips.append(Clip(row["path"], "right", "rounded", row["view"], reps, "right"))
                continue
            group = back_group(row["labels"])
            clips.append(Clip(row["path"], "", group, row["view"], reps, row["labels"]))
    return clips


def frames_of(clip: Clip, data: Path) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, t, BGR image) of the clip, cropped to its pane."""
    for frame in iter_video(data / clip.path):
        image = frame.image
        half = image.shape[1] // 2
        if clip.pane == "left":
            image = np.ascontiguousarray(image[:, :half])
        elif clip.pane == "right":
            image = np.ascontiguousarray(image[:, half:])
        yield frame.index, frame.t_s, image


# ------------------------------------------------------------------ pass 1: the lean


@dataclass
class Track:
    """Pass 1: the athlete's landmarks per frame (NaN where nobody was found)."""

    xy: np.ndarray  # (T, 33, 2)
    visibility: np.ndarray  # (T, 33)

    @classmethod
    def run(cls, clip: Clip, data: Path, models: tuple[OnnxModel, OnnxModel]) -> Track:
        """Runs the default pose stage over the clip."""
        estimator = PoseEstimator(PoseConfig(), models=models)
        xy, vis = [], []
        for _, t_s, image in frames_of(clip, data):
            poses = estimator.process(image, t_s)
            xy.append(poses.xy[0] if len(poses) else np.full((33, 2), np.nan, np.float32))
            vis.append(poses.visibility[0] if len(poses) else np.zeros(33, np.float32))
        return cls(np.stack(xy), np.stack(vis))

    def facing(self) -> np.ndarray:
        """(2,) unit image direction the athlete faces: median heel -> toe, both feet."""
        toe = self.xy[:, [TOE, TOE + 1]] - self.xy[:, [HEEL, HEEL + 1]]
        direction = np.nanmedian(toe.reshape(-1, 2), axis=0)
        return direction / np.linalg.norm(direction)

    def side(self) -> int:
        """0 (left) or 1 (right): the side facing the camera.

        Facing image +x, an athlete shows the camera their right side (unmirrored video).
        """
        return 1 if self.facing()[0] >= 0 else 0

    def lean_deg(self) -> np.ndarray:
        """(T,) trunk lean from vertical toward the facing side, degrees (NaN: no pose).

        0 standing straight, 90 horizontal, negative leaning back past vertical.
        """
        side = self.side()
        up = self.xy[:, SHOULDER + side] - self.xy[:, HIP + side]
        forward = float(np.sign(self.facing()[0]) or 1.0)
        lean = np.degrees(np.arctan2(forward * up[:, 0], -up[:, 1]))
        low, high = PLAUSIBLE_LEAN_DEG
        return np.where((lean >= low) & (lean <= high), lean, np.nan)


def smooth(values: np.ndarray, window: int = SMOOTH_FRAMES) -> np.ndarray:
    """Running median (NaN-aware) of a 1-D signal."""
    half = window // 2
    padded = np.pad(values, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
        return np.nanmedian(windows, axis=1)


def rep_windows(lean: np.ndarray, reps: int) -> list[tuple[int, int]]:
    """[start, end) frame windows, one per rep: the clip cut at the standing valleys.

    A rep is a stretch of lean above half way between the clip's least and most lean;
    when there are as many stretches as the label's reps, the windows are cut at the
    least lean between them; otherwise (or for one rep) the whole clip is one window.
    """
    count = len(lean)
    smoothed = smooth(lean)
    if reps <= 1 or np.all(np.isnan(smoothed)):
        return [(0, count)]
    mid = 0.5 * (np.nanmin(smoothed) + np.nanmax(smoothed))
    runs = _runs(np.where(np.isnan(smoothed), False, smoothed > mid))
    if len(runs) != reps:
        logger.warning("%d lean stretches for %d reps: one window", len(runs), reps)
        return [(0, count)]
    cuts = [0]
    for (_, end), (start, _) in itertools.pairwise(runs):
        cuts.append(end + int(np.nanargmin(smoothed[end:start])))
    return list(zip(cuts, [*cuts[1:], count], strict=True))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2].tolist(), change[1::2].tolist(), strict=True))


def chosen_frames(lean: np.ndarray, window: tuple[int, int]) -> dict[int, str]:
    """Frame index -> "depth" or "lockout" for one rep window.

    Depth: the `DEPTH_SHARE` of the window's tracked frames with the most lean, if they
    lean at least `MIN_DEPTH_LEAN_DEG`. Lockout: the frames within `LOCKOUT_MARGIN_DEG`
    of the window's least lean (standing tallest, or leaning back furthest), whether the
    rep starts from the floor or from the top.
    """
    start, end = window
    part = lean[start:end]
    tracked = np.flatnonzero(~np.isnan(part))
    if not len(tracked):
        return {}
    order = tracked[np.argsort(part[tracked])[::-1]]
    keep = max(1, round(DEPTH_SHARE * len(tracked)))
    chosen = {start + int(i): "depth" for i in order[:keep] if part[i] >= MIN_DEPTH_LEAN_DEG}
    low = float(np.nanmin(part))
    for index in tracked[part[tracked] <= low + LOCKOUT_MARGIN_DEG]:
        chosen.setdefault(start + int(index), "lockout")
    return chosen


# ----------------------------------------------------------------- pass 2: the masks


def measure_frame(
    mask: CropMask, xy: np.ndarray, side: int, facing: np.ndarray
) -> tuple[BackMeasure, dict[str, float]]:
    """The back measure of one masked frame (and the bulge at the other thresholds)."""
    crop = mask.to_crop(xy)
    crop_facing = mask.to_crop(xy[HIP + side] + facing) - crop[HIP + side]
    sign = 1 if crop_facing[0] >= 0 else -1
    probability = mask.probability()
    shoulder, hip = crop[SHOULDER + side], crop[HIP + side]
    measure = measure_back(probability, shoulder, hip, sign)
    others = {
        f"{threshold:g}": measure_back(
            probability, shoulder, hip, sign, BackConfig(threshold=threshold)
        ).bulge
        for threshold in THRESHOLDS
    }
    return measure, others


@dataclass
class MaskRun:
    """Pass 2's outcome for one clip."""

    records: list[FrameRecord]
    landmarks_identical: bool
    crops: list[np.ndarray]  # model inputs of a few masked frames, for the timing


def run_masks(clip: Clip, data: Path, track: Track, models: dict, chosen: dict) -> MaskRun:
    """Pass 2: the pose stage again, the mask model on the chosen frames only."""
    estimator = PoseEstimator(PoseConfig(), models=models["pose"], mask_model=models["mask"])
    side, facing, lean = track.side(), track.facing(), track.lean_deg()
    records, crops, identical = [], [], True
    for index, t_s, image in frames_of(clip, data):
        if index not in chosen:
            poses = estimator.process(image, t_s)
        else:
            poses, mask = estimator.process_with_mask(image, t_s)
            if mask is not None:
                rep, phase = chosen[index]
                measure, others = measure_frame(mask, poses.xy[0], side, facing)
                records.append(_record(clip, (rep, phase, index), lean[index], measure, others))
                crops.append(crop_roi(image, mask.roi, INPUT_SIZE))
        got = poses.xy[0] if len(poses) else np.full((33, 2), np.nan, np.float32)
        identical &= bool(np.array_equal(got, track.xy[index], equal_nan=True))
    return MaskRun(records, identical, crops)


def _record(
    clip: Clip, where: tuple[int, str, int], lean: float, m: BackMeasure, others: dict
) -> FrameRecord:
    rep, phase, index = where
    return FrameRecord(
        clip=clip.name,
        group=clip.group,
        view=clip.view,
        rep=rep,
        phase=phase,
        frame=index,
        lean_deg=float(lean),
        valid=m.valid,
        reason=m.reason,
        bulge=m.bulge,
        bulge_upper=m.bulge_upper,
        bulge_lower=m.bulge_lower,
        arch=m.arch,
        curvature=m.curvature,
        bulge_at=others,
    )


def analyse_clip(clip: Clip, data: Path, models: dict) -> tuple[MaskRun, Track]:
    """Both passes over one clip."""
    track = Track.run(clip, data, models["pose"])
    lean = track.lean_deg()
    chosen: dict[int, tuple[int, str]] = {}
    for rep, window in enumerate(rep_windows(lean, clip.reps)):
        for index, phase in chosen_frames(lean, window).items():
            chosen[index] = (rep, phase)
    return run_masks(clip, data, track, models, chosen), track


# -------------------------------------------------------------------------- figures


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """ROC AUC: P(a positive scores above a negative), ties half (Mann-Whitney)."""
    pos, neg = np.asarray(positive, float), np.asarray(negative, float)
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def bench(models: dict, crops: list[np.ndarray], calls: int) -> dict[str, float]:
    """Median ms per call of the pruned and the mask model, 1 thread, interleaved.

    Both models run on the same real crops, alternating call by call, so that a noisy
    neighbour slows both alike; the ratio is the figure to keep.
    """
    pruned, mask = models["pose_1t"][1], models["mask_1t"]
    tensors = [c[None, :, :, ::-1].astype(np.float32) * np.float32(1 / 255) for c in crops]
    times: dict[str, list[float]] = {"pruned": [], "mask": []}
    for call in range(calls):
        tensor = tensors[call % len(tensors)]
        for name, model in (("pruned", pruned), ("mask", mask)):
            start = time.perf_counter()
            model.run(np.ascontiguousarray(tensor))
            times[name].append((time.perf_counter() - start) * 1000)
    result = {f"{name}_ms": float(np.median(values)) for name, values in times.items()}
    result |= {f"{name}_min_ms": float(np.min(values)) for name, values in times.items()}
    result["ratio"] = result["mask_ms"] / result["pruned_ms"]
    result["ratio_min"] = result["mask_min_ms"] / result["pruned_min_ms"]
    result["calls"] = calls
    return result


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def clip_rows(records: list[FrameRecord], clips: list[Clip]) -> list[dict]:
    """Per clip: frames measured, lean and bulge at depth, arch and lean at lockout."""
    rows = []
    for clip in clips:
        mine = [r for r in records if r.clip == clip.name]
        depth = [r for r in mine if r.phase == "depth"]
        lock = [r for r in mine if r.phase == "lockout"]
        ok_depth, ok_lock = [r for r in depth if r.valid], [r for r in lock if r.valid]
        rows.append(
            {
                "clip": clip.name,
                "group": clip.group,
                "view": clip.view,
                "depth_valid": f"{len(ok_depth)}/{len(depth)}",
                "lean_depth": _median([r.lean_deg for r in depth]),
                "bulge": _median([r.bulge for r in ok_depth]),
                "bulge_upper": _median([r.bulge_upper for r in ok_depth]),
                "bulge_lower": _median([r.bulge_lower for r in ok_depth]),
                "curvature": _median([r.curvature for r in ok_depth]),
                "lockout_valid": f"{len(ok_lock)}/{len(lock)}",
                "lean_lockout": _median([r.lean_deg for r in lock]),
                "arch_lockout": _median([r.arch for r in ok_lock]),
                "curv_lockout": _median([r.curvature for r in ok_lock]),
            }
        )
    return rows


def separation(records: list[FrameRecord], views: tuple[str, ...]) -> dict:
    """AUCs of rounded vs good at depth (per frame, per rep, at equal lean), and a threshold."""
    depth = [r for r in records if r.phase == "depth" and r.valid and r.view.startswith(views)]
    groups = {g: [r for r in depth if r.group == g] for g in ("rounded", "good")}
    out: dict = {"frames": {g: len(v) for g, v in groups.items()}}
    for key in ("bulge", "bulge_upper", "bulge_lower", "curvature"):
        out[f"auc_frame_{key}"] = auc(*[[getattr(r, key) for r in groups[g]] for g in groups])
    for threshold in THRESHOLDS:
        scores = [[r.bulge_at[f"{threshold:g}"] for r in groups[g]] for g in groups]
        out[f"auc_frame_bulge_mask{threshold:g}"] = auc(*[np.nan_to_num(s) for s in scores])
    for key in ("bulge_upper", "bulge_lower", "curvature"):
        medians = [list(_rep_medians(groups[g], key).values()) for g in groups]
        out[f"auc_rep_{key}"] = auc(*medians)
    reps = {g: _rep_medians(v) for g, v in groups.items()}
    out["reps"] = reps
    out["auc_rep_bulge"] = auc(list(reps["rounded"].values()), list(reps["good"].values()))
    out.update(_equal_lean(groups))
    out["threshold"] = _threshold(reps, groups)
    out["at_threshold"] = _rates(reps, groups, BULGE_THRESHOLD)
    return out


def _rates(reps: dict[str, dict[str, float]], groups: dict, threshold: float) -> dict:
    """Share of reps and of frames at depth flagged (bulge above `threshold`), per class."""
    out: dict = {"threshold": threshold}
    for group in ("rounded", "good"):
        rep_values = np.array(list(reps[group].values()))
        frames = np.array([r.bulge for r in groups[group]])
        out[f"{group}_reps_above"] = f"{int(np.sum(rep_values > threshold))}/{len(rep_values)}"
        out[f"{group}_frames_above"] = float(np.mean(frames > threshold)) if len(frames) else 0
    return out


def lifters(records: list[FrameRecord]) -> dict:
    """Per athlete with good and faulty clips: each clip's median bulge at depth."""
    out = {}
    for lifter, names in LIFTERS.items():
        out[lifter] = {
            name: _median(
                [r.bulge for r in records if r.clip == name and r.phase == "depth" and r.valid]
            )
            for name in names
        }
    return out


def arch_at_lockout(records: list[FrameRecord]) -> dict:
    """Lockout: median arch, curvature and lean of the arched clips and of the good ones."""
    lock = [r for r in records if r.phase == "lockout" and r.valid and r.view == "side"]
    out = {}
    for group in ("arched", "good", "rounded"):
        mine = [r for r in lock if r.group == group]
        out[group] = {
            "frames": len(mine),
            "arch": _median([r.arch for r in mine]),
            "curvature": _median([r.curvature for r in mine]),
            "lean_deg": _median([r.lean_deg for r in mine]),
        }
    arched = [r.arch for r in lock if r.clip == "bad013"]
    good = [r.arch for r in lock if r.group == "good"]
    out["auc_frame_arch_bad013_vs_good"] = auc(arched, good)
    out["auc_frame_lean_back_bad013_vs_good"] = auc(
        [-r.lean_deg for r in lock if r.clip == "bad013"],
        [-r.lean_deg for r in lock if r.group == "good"],
    )
    return out


def _rep_medians(records: list[FrameRecord], key: str = "bulge") -> dict[str, float]:
    reps = sorted({(r.clip, r.rep) for r in records})
    return {
        f"{c}#{k}": _median([getattr(r, key) for r in records if (r.clip, r.rep) == (c, k)])
        for c, k in reps
    }


def lean_slopes(records: list[FrameRecord]) -> dict[str, dict[str, float]]:
    """Within each rep at depth: bulge change per 10 degrees of lean, and its correlation.

    Tells whether the faulty reps' extra lean could explain their bulge (it cannot if
    the bulge barely moves with lean inside a rep).
    """
    out = {}
    depth = [r for r in records if r.phase == "depth" and r.valid]
    for clip, rep in sorted({(r.clip, r.rep) for r in depth}):
        mine = [r for r in depth if (r.clip, r.rep) == (clip, rep)]
        lean = np.array([r.lean_deg for r in mine])
        bulge = np.array([r.bulge for r in mine])
        if np.ptp(lean) < MIN_SLOPE_RANGE_DEG or np.ptp(bulge) == 0:
            continue  # too little lean range to fit a slope
        out[f"{clip}#{rep}"] = {
            "lean_range_deg": [float(lean.min()), float(lean.max())],
            "bulge_per_10deg": float(LEAN_BIN_DEG * np.polyfit(lean, bulge, 1)[0]),
            "r": float(np.corrcoef(lean, bulge)[0, 1]),
        }
    return out


def _equal_lean(groups: dict[str, list[FrameRecord]]) -> dict:
    """AUC on the lean range both classes reach, and medians per 10-degree bin."""
    leans = {g: np.array([r.lean_deg for r in v]) for g, v in groups.items()}
    if not all(len(v) for v in leans.values()):
        return {}
    low = max(float(v.min()) for v in leans.values())
    high = min(float(v.max()) for v in leans.values())
    inside = {g: [r.bulge for r in v if low <= r.lean_deg <= high] for g, v in groups.items()}
    bins = {}
    for start in np.arange(np.floor(low / LEAN_BIN_DEG) * LEAN_BIN_DEG, high, LEAN_BIN_DEG):
        cell = {
            g: [r.bulge for r in v if start <= r.lean_deg < start + LEAN_BIN_DEG]
            for g, v in groups.items()
        }
        bins[f"{start:.0f}-{start + LEAN_BIN_DEG:.0f}"] = {
            g: (len(b), _median(b)) for g, b in cell.items()
        } | {"auc": auc(cell["rounded"], cell["good"])}
    return {
        "equal_lean_range_deg": [low, high],
        "equal_lean_frames": {g: len(v) for g, v in inside.items()},
        "auc_frame_equal_lean": auc(inside["rounded"], inside["good"]),
        "lean_bins": bins,
    }


def _threshold(reps: dict[str, dict[str, float]], groups: dict) -> dict:
    """Per rep: the midpoint of the gap if one exists; per frame: the rate at it."""
    worst_good = max(reps["good"].values(), default=float("nan"))
    best_bad = min(reps["rounded"].values(), default=float("nan"))
    value = 0.5 * (worst_good + best_bad)
    frames = {g: np.array([r.bulge for r in v]) for g, v in groups.items()}
    return {
        "max_good_rep": worst_good,
        "min_rounded_rep": best_bad,
        "gap": best_bad - worst_good,
        "value": value,
        "rounded_frames_above": float(np.mean(frames["rounded"] > value)),
        "good_frames_above": float(np.mean(frames["good"] > value)),
    }


# --------------------------------------------------------------------------- output


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "nan" if np.isnan(value) else f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    """Rows of equal keys as a Markdown table."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(row[k]) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the real-footage folder")
    parser.add_argument("--json", type=Path, help="write every figure and frame here")
    parser.add_argument("--bench", type=int, default=200, help="timed calls per model (0: none)")
    parser.add_argument("--only", nargs="*", help="clip names to run (default: all)")
    return parser.parse_args(argv)


def load_models() -> dict:
    """The default models and the mask model (and 1-thread copies for the timing)."""
    config = PoseConfig()
    one = PoseConfig(threads=1)
    return {
        "pose": load_pose_models(config),
        "mask": load_mask_model(config),
        "pose_1t": load_pose_models(one),
        "mask_1t": load_mask_model(one),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Runs every back-labelled clip and prints the figures."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    args = parse_args(argv)
    if not (args.data / "labels.csv").is_file():
        print(f"error: no labels.csv in {args.data}", file=sys.stderr)
        return 2
    cv2.setNumThreads(1)
    clips = [c for c in load_clips(args.data) if not args.only or c.name in args.only]
    models = load_models()
    records: list[FrameRecord] = []
    crops: list[np.ndarray] = []
    identical = {}
    for clip in clips:
        started = time.perf_counter()
        run, _ = analyse_clip(clip, args.data, models)
        records += run.records
        crops += run.crops
        identical[clip.name] = run.landmarks_identical
        print(f"{clip.name}: {len(run.records)} masked frames, landmarks identical to the "
              f"default pass: {run.landmarks_identical} ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr)  # fmt: skip
    report = {
        "clips": clip_rows(records, clips),
        "side": separation(records, ("side",)),
        "side_and_oblique": separation(records, ("side", "obl")),
        "lifters": lifters(records),
        "lean_slopes": lean_slopes(records),
        "lockout": arch_at_lockout(records),
        "landmarks_identical": identical,
        "timing": bench(models, crops, args.bench) if args.bench and crops else {},
        "config": asdict(BackConfig()),
    }
    print(markdown_table(report["clips"]))
    print(json.dumps({k: v for k, v in report.items() if k != "clips"}, indent=1, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report["frames"] = [asdict(r) for r in records]
        args.json.write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
