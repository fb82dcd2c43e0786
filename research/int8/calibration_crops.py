"""Make the calibration crops for INT8 quantization of the landmark model.

A calibration set must look like what the landmark model really sees in our pipeline:
the 256x256 rotated ROI crop that `PoseEstimator` cuts around a full-body athlete,
after detection (first frame) and in tracking (every frame after). So this tool does not
cut crops itself: it runs OUR FP32 pipeline on each frame and records the exact tensor
the landmark model is fed.

Sources:

* ``synth`` (the default, and the only source the shipped INT8 model may be calibrated
  on): frames rendered by `edge.synth`, a NumPy renderer of a synthetic athlete that the
  project generates itself, so the calibration set is ours to redistribute. Bodies,
  clothes, views (side / oblique / front), postures (standing, hinge, squat, sampled
  across their range) and camera distances are drawn from a seeded generator: the same
  seed gives the same crops, byte for byte.
* ``clips`` (DEBUG ONLY): frames of the real clips in ``../shared/data``, which carry no
  licence and are for tests and measurements only. It exists to debug the quantization
  pipeline; `research/int8/quantize_pose.py` refuses to write a model into ``models/`` from it.
  It reads only clips whose view is not ``side``, so the side-view clips that
  `research/int8/eval_int8.py` judges on stay unseen.

Output: one ``.npz`` under ``.cache/calibration/`` (never committed) with

    crops   (N, 256, 256, 3) uint8 RGB, exactly the landmark model's input x 255
    flags   (N,) float32 FP32 pose flag on that crop
    rois    (N, 4) float32 [cx, cy, size, rotation] in the source frame
    kinds   (N,) str  "detect" (ROI from the detector) or "track" (ROI from landmarks)
    labels  (N,) str  what the frame shows (view, posture family, ...)
    meta    str  JSON: source, seed, recipe, counts, sha256 of the crops, tool versions

Usage:
    python -m research.int8.calibration_crops                      # 500 synthetic crops, seed 0
    python -m research.int8.calibration_crops --count 800 --seed 7
    python -m research.int8.calibration_crops --source clips       # debug stand-in only
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.pose import PoseEstimator, load_pose_models
from edge.pose.config import PoseConfig
from edge.pose.landmarks import INPUT_SIZE
from edge.types import Roi

ROOT = Path(__file__).resolve().parents[2]

LOG = logging.getLogger("calibration_crops")

FORMAT = "hinge-edge.calibration/1"
DEFAULT_DIR = ROOT / ".cache" / "calibration"
SHARED_DATA = ROOT.parent / "shared" / "data"
SYNTH_RECIPE_VERSION = 1  # bump when the sampling below changes what a seed produces


# ------------------------------------------------------------------ recording


class RecordingModel:
    """Wraps the landmark model and keeps every input tensor and output it sees."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.spec = model.spec
        self.calls: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

    def run(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        """Runs the wrapped model and records the call."""
        outputs = self.model.run(tensor)
        self.calls.append((tensor, outputs))
        return outputs


class RecordingEstimator(PoseEstimator):
    """Our pose pipeline, unchanged, that also records each landmark call's ROI.

    `calls` holds one `(roi, crop_tensor, outputs)` per landmark-model run, in order (a
    frame can have two: the tracked ROI failing, then the re-acquired one).
    """

    def __init__(self, config: PoseConfig, models: tuple[Any, Any]) -> None:
        detector_model, landmark_model = models
        self.recorder = RecordingModel(landmark_model)
        super().__init__(config, models=(detector_model, self.recorder))
        self.calls: list[tuple[Roi, np.ndarray, dict[str, np.ndarray]]] = []

    def _landmarks(self, rgb: np.ndarray, roi: Roi) -> Any:
        result = super()._landmarks(rgb, roi)
        tensor, outputs = self.recorder.calls.pop()
        self.calls.append((roi, tensor, outputs))
        return result

    def take_calls(self) -> list[tuple[Roi, np.ndarray, dict[str, np.ndarray]]]:
        """Returns and forgets the calls recorded since the last take."""
        calls, self.calls = self.calls, []
        return calls


def tensor_to_crop(tensor: np.ndarray) -> np.ndarray:
    """Turns the model input (1, 256, 256, 3) float32 in [0, 1] back into uint8 exactly."""
    return np.rint(tensor[0] * 255.0).astype(np.uint8)


@dataclass
class CropSet:
    """Crops being collected, with their per-crop facts."""

    crops: list[np.ndarray] = field(default_factory=list)
    flags: list[float] = field(default_factory=list)
    rois: list[np.ndarray] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, roi: Roi, tensor: np.ndarray, outputs: dict, kind: str, label: str) -> None:
        """Adds one recorded landmark call."""
        self.crops.append(tensor_to_crop(tensor))
        self.flags.append(float(outputs["pose_flag"].reshape(-1)[0]))
        self.rois.append(roi.as_array())
        self.kinds.append(kind)
        self.labels.append(label)

    def __len__(self) -> int:
        return len(self.crops)

    def arrays(self) -> dict[str, np.ndarray]:
        """Returns the per-crop arrays of the file format."""
        size = (0, INPUT_SIZE, INPUT_SIZE, 3)
        return {
            "crops": np.stack(self.crops) if self.crops else np.zeros(size, np.uint8),
            "flags": np.asarray(self.flags, np.float32),
            "rois": np.asarray(self.rois, np.float32).reshape(-1, 4),
            "kinds": np.asarray(self.kinds, dtype=str),
            "labels": np.asarray(self.labels, dtype=str),
        }


def record_frame(
    estimator: RecordingEstimator, frame_bgr: np.ndarray, track_passes: int
) -> list[tuple[str, Roi, np.ndarray, dict]]:
    """Runs a fresh track on one frame: acquisition, then `track_passes` tracking passes.

    Returns:
        `(kind, roi, tensor, outputs)` of every landmark call: "detect" for the crop at
        the detector's ROI, "track" for crops at the landmark-derived ROI (what the model
        sees on every frame of a steady track).
    """
    estimator.reset()
    estimator.take_calls()
    recorded = []
    for index in range(1 + track_passes):
        estimator.process(frame_bgr)
        for roi, tensor, outputs in estimator.take_calls():
            recorded.append(("detect" if index == 0 else "track", roi, tensor, outputs))
    return recorded


# ------------------------------------------------------------------ synthetic source

# Sampling recipe (version SYNTH_RECIPE_VERSION). Families of posture and their shares:
FAMILIES = {
    "hinge": 0.40,
    "deadlift_floor": 0.12,
    "squat": 0.20,
    "standing": 0.18,
    "single_leg": 0.05,
    "lean_back": 0.05,
}
VIEWS = {
    "side_left": 0.25,
    "side_right": 0.25,
    "oblique_left": 0.15,
    "oblique_right": 0.15,
    "front": 0.10,
    "rear_oblique": 0.10,
}
LOADS = {  # what the hands hold, per family: (none, barbell, kettlebell)
    "hinge": (0.2, 0.55, 0.25),
    "deadlift_floor": (0.0, 0.85, 0.15),
    "squat": (0.65, 0.2, 0.15),
    "standing": (0.45, 0.35, 0.2),
    "single_leg": (0.5, 0.1, 0.4),
    "lean_back": (0.4, 0.5, 0.1),
}
PORTRAIT_SHARE = 0.25  # portrait 720x1280 frames, as phones film
PILLARBOX_SHARE = 0.15  # portrait footage inside a 16:9 frame with black bars


@dataclass(frozen=True)
class Mix:
    """What a crop set draws: posture families, views, loads and frame layouts."""

    families: dict[str, float]
    views: dict[str, float]
    loads: dict[str, tuple[float, float, float]]
    portrait: float
    pillarbox: float
    # share of pillarboxed renders whose portrait source is first shrunk to 0.5-0.8 of its
    # size (phone footage re-encoded small, then scaled up into the frame)
    low_res: float = 0.0


MIXES = {
    # The calibration set: every posture, view and layout the product meets.
    "general": Mix(FAMILIES, VIEWS, LOADS, PORTRAIT_SHARE, PILLARBOX_SHARE),
    # Where INT8 and FP32 part ways (docs/int8.md): side views of barbell lifts, whose
    # plates hide hips and knees, and small athletes in pillarboxed portrait footage.
    "field": Mix(
        {**FAMILIES, "hinge": 0.35, "deadlift_floor": 0.25, "standing": 0.25, "squat": 0.05},
        {**VIEWS, "side_left": 0.35, "side_right": 0.35, "front": 0.05, "rear_oblique": 0.05},
        {**LOADS, "hinge": (0.15, 0.7, 0.15), "standing": (0.2, 0.7, 0.1)},
        portrait=0.2,
        pillarbox=0.45,
        low_res=0.5,
    ),
}


def _choice(rng: np.random.Generator, shares: dict[str, float]) -> str:
    names = list(shares)
    weights = np.asarray([shares[n] for n in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def sample_posture(rng: np.random.Generator, family: str, shape: Any) -> Any:
    """A posture of one family with every angle drawn across its range."""
    from edge.synth import LegPose, Posture
    from edge.synth.poses import reach_height

    spine = rng.normal(0.0, 6.0) if rng.random() < 0.8 else rng.uniform(15.0, 50.0)
    common = {
        "neck_flex_deg": float(rng.uniform(-35.0, 20.0)),
        "stance_width_m": float(rng.uniform(0.12, 0.45)),
        "toe_out_deg": float(rng.uniform(0.0, 25.0)),
        "arm_abduct_deg": float(rng.uniform(2.0, 15.0)),
        "elbow_flex_deg": float(rng.uniform(0.0, 10.0)),
    }
    if family == "hinge":  # RDL / good morning / swing range, soft to knee-dominant knees
        knee = float(rng.uniform(3.0, 35.0) if rng.random() < 0.75 else rng.uniform(35.0, 90.0))
        return Posture(
            hip_flex_deg=float(rng.uniform(5.0, 120.0)),
            knee_flex_deg=knee,
            ankle_deg=float(rng.uniform(-3.0, 0.3 * knee + 3.0)),
            spine_flex_deg=float(spine),
            shoulder_flex_deg=float(rng.uniform(-5, 25)),
            **common,
        )
    if family == "deadlift_floor":  # bar at floor to shin height
        base = Posture(
            knee_flex_deg=float(rng.uniform(45.0, 95.0)),
            ankle_deg=float(rng.uniform(8.0, 25.0)),
            spine_flex_deg=float(spine),
            **common,
        )
        return reach_height(shape, base, float(rng.uniform(0.2, 0.45)))
    if family == "squat":
        depth = float(rng.uniform(0.0, 1.0))
        return Posture(
            hip_flex_deg=10.0 + 105.0 * depth + float(rng.normal(0, 6)),
            knee_flex_deg=8.0 + 115.0 * depth + float(rng.normal(0, 6)),
            ankle_deg=3.0 + 30.0 * depth + float(rng.normal(0, 3)),
            spine_flex_deg=float(rng.normal(0.0, 6.0)),
            shoulder_flex_deg=float(rng.uniform(0.0, 95.0)),
            **{**common, "stance_width_m": float(rng.uniform(0.3, 0.55))},
        )
    if family == "standing":  # lockout, incomplete lockout, walking in
        return Posture(
            hip_flex_deg=float(rng.uniform(-8.0, 30.0)),
            knee_flex_deg=float(rng.uniform(0.0, 15.0)),
            ankle_deg=float(rng.uniform(-3.0, 5.0)),
            spine_flex_deg=float(rng.normal(0.0, 5.0)),
            shoulder_flex_deg=float(rng.uniform(-10.0, 40.0)),
            **common,
        )
    if family == "lean_back":  # hyperextended lockout
        return Posture(
            hip_flex_deg=float(rng.uniform(-20.0, -3.0)),
            spine_flex_deg=float(rng.uniform(-25.0, -5.0)),
            knee_flex_deg=float(rng.uniform(0.0, 10.0)),
            **common,
        )
    # single-leg RDL: the free leg reaches back
    hip = float(rng.uniform(20.0, 100.0))
    free = LegPose(
        hip_flex_deg=float(rng.uniform(-15.0, 10.0)),
        knee_flex_deg=float(rng.uniform(0.0, 30.0)),
        ankle_deg=float(rng.uniform(0.0, 20.0)),
    )
    stance = "left" if rng.random() < 0.5 else "right"
    return Posture(
        hip_flex_deg=hip,
        knee_flex_deg=float(rng.uniform(5.0, 25.0)),
        ankle_deg=float(rng.uniform(0.0, 6.0)),
        stance=stance,
        **({"right": free} if stance == "left" else {"left": free}),
        **common,
    )


def sample_scene(
    rng: np.random.Generator, mix: Mix = MIXES["general"]
) -> tuple[np.ndarray, str, dict[str, Any]]:
    """Draws and renders one athlete: body, clothes, posture, gym, camera.

    Returns:
        The BGR frame, a short label (view/family/load) and the drawn parameters.
    """
    from edge.synth import Appearance, BodyShape, Camera, Lens, Scene, render
    from edge.synth.camera import VIEW_AZIMUTH_DEG

    shape = BodyShape.sample(rng)
    look = Appearance.sample(rng)
    family = _choice(rng, mix.families)
    posture = sample_posture(rng, family, shape)
    yaw = float(rng.uniform(-180.0, 180.0))
    posture = replace(posture, yaw_deg=yaw)
    load = ("none", "barbell", "kettlebell")[int(rng.choice(3, p=mix.loads[family]))]
    scene = Scene.sample(rng, load=load)
    view = _choice(rng, mix.views)
    azimuth = (
        float(rng.choice([135.0, -135.0])) if view == "rear_oblique" else VIEW_AZIMUTH_DEG[view]
    ) + float(rng.normal(0.0, 8.0))
    layout = "landscape"
    roll = rng.random()
    if roll < mix.pillarbox:
        layout = "pillarbox"
    elif roll < mix.pillarbox + mix.portrait:
        layout = "portrait"
    width, height = (1280, 720) if layout == "landscape" else (720, 1280)
    focal = float(rng.uniform(0.6, 1.1)) * max(width, height)
    # Far enough that the whole athlete fits the frame's height; mostly filling it, as the
    # side-view gym clips do, sometimes up to 2.5x smaller.
    fit = max(focal * 1.2 * shape.height_m / height, 1.8)
    far = rng.uniform(1.0, 1.6) if rng.random() < 0.75 else rng.uniform(1.6, 2.5)
    distance = fit * float(far)
    # Off-centre athletes, but not cut by the frame's side edges.
    half_view_m = distance * 0.5 * width / focal
    slack = max(0.0, half_view_m - 0.8)
    target = np.array(
        [
            float(rng.uniform(-0.6, 0.6)) * slack,
            float(rng.uniform(0.6, 1.0)),
            float(rng.uniform(-0.3, 0.3)),
        ]
    )
    camera = Camera.looking_at(
        target, azimuth, yaw, distance, float(rng.uniform(0.5, 1.8)), Lens(width, height, focal)
    )
    image = render(shape, posture, camera, look, scene, rng).image
    if layout == "pillarbox":  # shrink the portrait frame into 1280x720 with black bars
        small = cv2.resize(image, (405, 720), interpolation=cv2.INTER_AREA)
        if mix.low_res and rng.random() < mix.low_res:
            factor = float(rng.uniform(0.5, 0.8))
            tiny = cv2.resize(small, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
            small = cv2.resize(tiny, (405, 720), interpolation=cv2.INTER_LINEAR)
        image = np.zeros((720, 1280, 3), np.uint8)
        left = int(rng.integers(300, 575))
        image[:, left : left + 405] = small
    params = {
        "family": family,
        "view": view,
        "azimuth": azimuth,
        "load": load,
        "layout": layout,
        "distance_m": distance,
        "focal_px": focal,
    }
    return image, f"{view}/{family}/{load}/{layout}", params


def synth_frames(
    rng: np.random.Generator, mix: Mix = MIXES["general"]
) -> Iterator[tuple[np.ndarray, str, dict]]:
    """Yields endless `(frame_bgr, label, params)` of varied synthetic athletes.

    Raises:
        SystemExit: `edge.synth` is not available.
    """
    try:
        import edge.synth  # noqa: F401
    except ImportError as err:
        raise SystemExit(f"error: edge.synth is not importable ({err})") from err
    while True:
        yield sample_scene(rng, mix)


# ------------------------------------------------------------------ debug source: real clips


def clip_frames(labels_csv: Path, every: int, per_clip: int) -> Iterator[tuple[np.ndarray, str]]:
    """Yields `(frame_bgr, label)` from the non-side-view clips (debug stand-in only)."""
    from edge.capture.video import iter_video

    with labels_csv.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["view"] != "side"]
    for row in sorted(rows, key=lambda r: r["path"]):
        taken = 0
        for frame in iter_video(labels_csv.parent / row["path"]):
            if frame.index % every:
                continue
            yield frame.image, f"clip:{row['view']}:{Path(row['path']).name}"
            taken += 1
            if taken >= per_clip:
                break


# ------------------------------------------------------------------ main


def crops_sha256(arrays: dict[str, np.ndarray]) -> str:
    """Digest of the crop pixels, their order included (what calibration depends on)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(arrays["crops"]).tobytes())
    return digest.hexdigest()


def code_state() -> dict[str, Any]:
    """What decides the crops besides the seed: the renderer, the pose code and the models.

    Crops are reproducible byte for byte only with the same code; a digest of the source
    files makes a mismatch visible even when the working tree is not committed.
    """
    import subprocess

    def digest(paths: list[Path]) -> str:
        h = hashlib.sha256()
        for path in paths:
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
        return h.hexdigest()

    def git(*cmd: str) -> str:
        try:
            out = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        except OSError:
            return ""
        return out.stdout.strip()

    return {
        "git_commit": git("rev-parse", "HEAD"),
        "edge_synth_sha256": digest(sorted((ROOT / "edge" / "synth").glob("*.py"))),
        "edge_pose_sha256": digest(sorted((ROOT / "edge" / "pose").glob("*.py"))),
        "uncommitted": git("status", "--porcelain", "--", "edge/synth", "edge/pose", "models"),
    }


def tool_versions() -> dict[str, str]:
    """Versions of the libraries that shape the crops."""
    import cv2
    import onnxruntime

    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def collect_synth(args: argparse.Namespace, estimator: RecordingEstimator) -> tuple[CropSet, dict]:
    """Renders athletes until `args.count` crops are collected."""
    scenes_seed, keep_seed = np.random.SeedSequence(args.seed).spawn(2)
    rng, keep = np.random.default_rng(scenes_seed), np.random.default_rng(keep_seed)
    crops = CropSet()
    rendered = rejected = 0
    start = time.monotonic()
    for frame, label, _params in synth_frames(rng, MIXES[args.mix]):
        rendered += 1
        calls = record_frame(estimator, frame, args.track_passes)
        good = [c for c in calls if c[0] == "track" and _flag(c[3]) >= args.min_flag]
        if not good:
            rejected += 1  # the pipeline did not find the athlete: nothing it would see
            continue
        kind, roi, tensor, outputs = good[-1]
        crops.add(roi, tensor, outputs, kind, label)
        detect = [c for c in calls if c[0] == "detect"]
        if detect and keep.random() < args.detect_share and len(crops) < args.count:
            kind, roi, tensor, outputs = detect[0]
            crops.add(roi, tensor, outputs, kind, label)
        if len(crops) >= args.count:
            break
        if rendered % 25 == 0:
            LOG.info(
                "%d crops from %d renders (%.0f s)", len(crops), rendered, time.monotonic() - start
            )
    info = {"rendered": rendered, "rejected_no_pose": rejected}
    return crops, info


def collect_clips(args: argparse.Namespace, estimator: RecordingEstimator) -> tuple[CropSet, dict]:
    """Takes crops from the non-side real clips, as a debug stand-in for the renderer."""
    crops = CropSet()
    frames = 0
    for frame, label in clip_frames(args.labels, args.clip_every, args.clip_per_clip):
        frames += 1
        calls = record_frame(estimator, frame, args.track_passes)
        good = [c for c in calls if c[0] == "track" and _flag(c[3]) >= args.min_flag]
        if good:
            kind, roi, tensor, outputs = good[-1]
            crops.add(roi, tensor, outputs, kind, label)
        if len(crops) >= args.count:
            break
    return crops, {"frames": frames}


def _flag(outputs: dict[str, np.ndarray]) -> float:
    return float(outputs["pose_flag"].reshape(-1)[0])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=("synth", "clips"), default="synth")
    parser.add_argument("--count", type=int, default=500, help="crops to collect")
    parser.add_argument("--seed", type=int, default=0, help="synthetic scene seed")
    parser.add_argument(
        "--mix",
        choices=sorted(MIXES),
        default="general",
        help="what the renders draw: general (calibration) or field (the hard cases)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output .npz (default: .cache/calibration/<source>-n<count>-s<seed>.npz)",
    )
    parser.add_argument(
        "--track-passes",
        type=int,
        default=2,
        help="tracking passes per frame after acquisition (the ROI settles)",
    )
    parser.add_argument(
        "--detect-share",
        type=float,
        default=0.2,
        help="probability of also keeping the detector-ROI crop of a render",
    )
    parser.add_argument(
        "--min-flag",
        type=float,
        default=0.5,
        help="keep a tracking crop only if the FP32 pose flag reaches this",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=SHARED_DATA / "labels.csv",
        help="clips source only: the labels.csv of the real clips",
    )
    parser.add_argument("--clip-every", type=int, default=7, help="clips source: frame stride")
    parser.add_argument("--clip-per-clip", type=int, default=80, help="clips source: cap")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Collects the crops and writes the `.npz`."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    code = code_state()  # before running: other people may edit the tree meanwhile
    config = PoseConfig(threads=1)
    models = load_pose_models(config)
    estimator = RecordingEstimator(config, models)
    start = time.monotonic()
    if args.source == "synth":
        crops, info = collect_synth(args, estimator)
    else:
        LOG.warning("clips source: real, unlicensed footage; DEBUG ONLY, never for a shipped model")
        crops, info = collect_clips(args, estimator)
    if len(crops) < args.count:
        LOG.warning("only %d of %d crops collected", len(crops), args.count)
    arrays = crops.arrays()
    meta = {
        "format": FORMAT,
        "source": args.source,
        "debug_only": args.source != "synth",
        "seed": args.seed if args.source == "synth" else None,
        "count": len(crops),
        "crops_sha256": crops_sha256(arrays),
        "recipe": {
            "synth_recipe_version": SYNTH_RECIPE_VERSION if args.source == "synth" else None,
            "mix": args.mix if args.source == "synth" else None,
            "track_passes": args.track_passes,
            "detect_share": args.detect_share if args.source == "synth" else 0.0,
            "min_flag": args.min_flag,
            **(
                {
                    "clip_every": args.clip_every,
                    "clip_per_clip": args.clip_per_clip,
                    "views": "all but side",
                }
                if args.source == "clips"
                else {}
            ),
        },
        "pipeline": {
            "detector": models[0].spec.name,
            "landmarks": models[1].spec.name,
            "landmarks_sha256": models[1].spec.sha256,
        },
        "kinds": {
            str(k): int(v)
            for k, v in zip(*np.unique(arrays["kinds"], return_counts=True), strict=True)
        },
        "info": info,
        "tools": tool_versions(),
        "code": code,
        "command": "python -m research.int8.calibration_crops " + " ".join(argv or sys.argv[1:]),
    }
    mix = f"-{args.mix}" if args.source == "synth" and args.mix != "general" else ""
    out = args.out or DEFAULT_DIR / f"{args.source}{mix}-n{args.count}-s{args.seed}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, meta=np.str_(json.dumps(meta, sort_keys=True)), **arrays)
    LOG.info(
        "wrote %s: %d crops (%s), crops sha256 %s, %.0f s",
        out,
        len(crops),
        meta["kinds"],
        meta["crops_sha256"][:16],
        time.monotonic() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
