"""End-to-end suite on the synthetic athlete: render -> pose -> hinge -> events, scored.

A suite is a deterministic list of clips (`suite_clips`): a plan (every applicable fault
of every hinge from the side, clean sets of every exercise from the side, obliquely and
from the front, squats) and a grid (clean sets of every exercise, from the side,
obliquely and from the front, each with a low, a mid-height and a high camera). Each clip
is rendered once (cached beside its truth) and its landmarks found once by the real pose
pipeline (cached beside the video, `landmarks_path`, keyed by the pose code, the model
manifest, the pose settings and the video: re-scoring after a hinge-engine change needs no
pose inference). The hinge engine then scores the landmarks twice, the exercise fixed (as
a camera at that platform is set up) and recognised, and `run_clip` returns both next to
the ground truth with the pose stage's per-landmark and angle errors (`pose_errors`).
`python -m tools.synthsuite` runs the whole suite into `docs/synth-suite.md`;
`tests/synth/test_suite.py` runs a small one in CI.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from edge.contract import AnyEvent, RepEvent, RepUpdate, SetEvent
from edge.errors import EdgeError
from edge.hinge import FAULT_CODES, HingeConfig, score_track
from edge.hinge.layout import JOINTS as LAYOUT_JOINTS
from edge.hinge.layout import joint_indices
from edge.keypoints import load_keypoints
from edge.pose import PoseEstimator
from edge.pose.config import PoseConfig
from edge.pose.manifest import default_models_dir, landmark_code_digest, sha256_file
from edge.replay import replay
from edge.synth.clip import ClipCamera, render_clip, truth_path
from edge.synth.motion import MotionSpec

logger = logging.getLogger(__name__)

HINGES = ("rdl", "deadlift", "good_morning", "swing", "single_leg_rdl")
EXERCISES = (*HINGES, "squat")
_FLOOR_ONLY = {"hips_rise_first"}  # docs/hinge.md: a fault of lifting from the floor
NOT_FOR: dict[str, set[str]] = {
    "rdl": _FLOOR_ONLY,
    "good_morning": _FLOOR_ONLY,
    "single_leg_rdl": _FLOOR_ONLY,
    "swing": {"rushed_eccentric", *_FLOOR_ONLY},  # explosive by design
    "deadlift": {"chest_first"},  # a floor-start set's descent is the previous rep's lowering
}
"""Faults that do not apply to an exercise, by design (see docs/hinge.md)."""
VIEW_LABEL = {
    "side_left": "side_left",
    "side_right": "side_right",
    "oblique_left": "oblique",
    "oblique_right": "oblique",
    "front": "front",
}
"""The view a rendered camera should be reported as (the events' `view` values)."""
HEIGHTS: dict[str, tuple[float, float]] = {
    "low": (0.4, 0.5),
    "mid": (1.1, 1.3),
    "high": (2.6, 2.8),
}
"""Camera heights of the grid (metres, drawn in this range): low on the floor or a bench
looking up at the athlete, mid at chest height, high a corner camera looking down."""
GRID_DISTANCE: dict[str, tuple[float, float]] = {
    "low": (3.4, 4.0),
    "mid": (3.3, 3.9),
    "high": (3.6, 4.2),
}
"""Horizontal camera distances of the grid by height (metres). The camera aims at the
athlete's pelvis as the set starts (`Camera.looking_at`; low for a deadlift from the
floor); at these distances the default lens (70.8 x 43.6 deg at 16:9) keeps a 2.0 m
athlete whole in the picture through every rep, with at least 0.13 m to spare."""
TUNING_VIEWS = ("side", "oblique")
"""Views the hinge engine is tuned on (with a camera at mid height)."""
_LEFT, _RIGHT = joint_indices("blazepose33")
JOINTS: dict[str, tuple[int, ...]] = {
    "nose": (0,),
    **{name: (left, right) for name, left, right in zip(LAYOUT_JOINTS, _LEFT, _RIGHT, strict=True)},
}
"""Landmark groups the suite reports, the hinge engine's joints (BlazePose indices)."""
ANGLES = ("trunk", "hip", "knee")


@dataclass(frozen=True)
class SuiteClip:
    """One clip of a suite: what is performed, how it is filmed, and the random seed.

    Attributes:
        name: Unique, stable name (also the file name of its video).
        spec: The set performed.
        camera: Where the camera stands and what it records.
        seed: Draws the athlete, the gym and the noise.
        height: The camera's height band (`HEIGHTS`); the plan's cameras (0.9-1.5 m) are mid.
        grid: A cell of the grid (every exercise x view x camera height, clean form).
    """

    name: str
    spec: MotionSpec
    camera: ClipCamera
    seed: int
    height: str = "mid"
    grid: bool = False

    @property
    def view_group(self) -> str:
        """side, oblique or front."""
        return self.camera.view.split("_")[0]

    @property
    def held_out(self) -> bool:
        """Filmed where the engine was not tuned: a low or high camera, or from the front."""
        return self.height != "mid" or self.view_group not in TUNING_VIEWS

    @property
    def split(self) -> str:
        """`tuning` (side or oblique, mid height: what the engine is tuned on) or `held_out`."""
        return "held_out" if self.held_out else "tuning"


class Cell(NamedTuple):
    """What a clip shows (its random draws come from `draw_clip`)."""

    exercise: str
    faults: dict[str, float]
    view: str
    height: str = "mid"
    grid: bool = False


def faults_for(exercise: str) -> list[str]:
    """The fault codes that apply to an exercise (none for a squat: it is not scored)."""
    if exercise not in HINGES:
        return []
    return [c for c in FAULT_CODES if c not in NOT_FOR.get(exercise, set())]


def suite_clips(
    size: tuple[int, int] = (640, 360), fps: float = 15.0, seed: int = 0, reps: int = 3
) -> list[SuiteClip]:
    """The full suite of clips, the same for the same arguments.

    First the plan: every applicable fault of every hinge (side views), clean sets of
    every exercise from the side, obliquely and from the front, and squats; cameras
    2.8-4.5 m away at 0.9-1.5 m. Then the grid: a clean set of every exercise (`EXERCISES`)
    from the side, obliquely and from the front, each with a low, a mid and a high camera
    (`HEIGHTS`, `GRID_DISTANCE`), named `NN-exercise-clean-view-height`.

    Bodies, clothes, gyms, tempos (0.8-1.25x), depths, camera distance and height vary
    with the seed. The grid draws after the plan, so the plan's clips are what they were
    before the grid existed.
    """
    rng = np.random.default_rng(seed)
    lens = ClipCamera(width_px=size[0], height_px=size[1], focal_px=900.0 * size[0] / 1280, fps=fps)
    clips: list[SuiteClip] = []
    for cell in (*_plan(), *_grid()):
        clips.append(draw_clip(rng, cell, lens, reps, len(clips)))
    return clips


def _plan() -> list[Cell]:
    plan: list[Cell] = []
    for i, exercise in enumerate(HINGES):
        for j, code in enumerate(faults_for(exercise)):
            plan.append(Cell(exercise, {code: 0.8}, ("side_left", "side_right")[(i + j) % 2]))
        sides = (("side_left", "oblique_right"), ("side_right", "oblique_left"))[i % 2]
        plan += [Cell(exercise, {}, view) for view in (*sides, "front")]
    return [*plan, Cell("squat", {}, "side_right"), Cell("squat", {}, "oblique_left")]


def _grid() -> list[Cell]:
    cells = []
    for i, exercise in enumerate(EXERCISES):
        side, oblique = (("side_left", "oblique_right"), ("side_right", "oblique_left"))[i % 2]
        for view in (side, oblique, "front"):
            cells += [Cell(exercise, {}, view, height, grid=True) for height in HEIGHTS]
    return cells


def draw_clip(
    rng: np.random.Generator, cell: Cell, lens: ClipCamera, reps: int, number: int
) -> SuiteClip:
    """One clip of a cell, its random draws in the order the suite has always used."""
    clip_seed = int(rng.integers(1 << 30))
    spec = MotionSpec(
        exercise=cell.exercise,
        reps=reps,
        faults=cell.faults,
        speed=float(rng.uniform(0.8, 1.25)),
        depth=float(rng.uniform(0.95, 1.05)),
        lead_in_s=float(rng.uniform(0.8, 1.5)),
        yaw_deg=float(rng.uniform(-8, 8)),
        squat_style=str(rng.choice(["air", "back", "goblet"])),
    )
    near, far = GRID_DISTANCE[cell.height] if cell.grid else (2.8, 4.5)
    low, high = HEIGHTS[cell.height] if cell.grid else (0.9, 1.5)
    camera = replace(
        lens,
        view=cell.view,
        distance_m=float(rng.uniform(near, far)),
        height_m=float(rng.uniform(low, high)),
    )
    fault = "-".join(cell.faults) or "clean"
    name = f"{number:02d}-{cell.exercise}-{fault}-{cell.view}"
    name += f"-{cell.height}" if cell.grid else ""
    return SuiteClip(name, spec, camera, clip_seed, cell.height, cell.grid)


def is_rendered(clip: SuiteClip, folder: Path) -> bool:
    """Whether `folder` holds the clip's video with a truth of this very clip."""
    video = folder / f"{clip.name}.mp4"
    truth = truth_path(video)
    if not (video.is_file() and truth.is_file()):
        return False
    old = json.loads(truth.read_text(encoding="utf-8"))
    same_motion = old.get("motion") == json.loads(json.dumps(_motion(clip.spec)))
    return bool(
        old.get("seed") == clip.seed and same_motion and old.get("camera") == asdict(clip.camera)
    )


def render_cached(clip: SuiteClip, folder: Path) -> Path:
    """Renders a clip into `folder`, or reuses the one there if its truth matches."""
    video = folder / f"{clip.name}.mp4"
    if is_rendered(clip, folder):
        return video
    folder.mkdir(parents=True, exist_ok=True)
    render_clip(clip.spec, clip.camera, video, seed=clip.seed)
    return video


def _motion(spec: MotionSpec) -> dict[str, Any]:
    return {k: v for k, v in asdict(spec).items() if k != "faults"}


# ----------------------------------------------------------------- landmark cache
def landmarks_path(video: Path) -> Path:
    """`OUT.mp4` -> `OUT.landmarks.npz`: its cached landmarks (a keypoints file + its key)."""
    return video.with_name(video.stem + ".landmarks.npz")


def landmarks_key(video: Path, config: PoseConfig | None = None) -> str:
    """What a video's landmarks depend on: the pose code, models, settings and the video.

    Args:
        video: The clip.
        config: The pose settings (threads and workers aside); default `PoseConfig()`.
    """
    config = config or PoseConfig()
    models = config.models_dir or default_models_dir()
    settings = config.model_dump_json(exclude={"threads", "workers", "models_dir"})
    digest = hashlib.sha256()
    for part in (landmark_code_digest(models), settings, sha256_file(video)):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def cached_landmarks(video: Path, key: str) -> dict[str, np.ndarray] | None:
    """The landmarks cached beside a video under this key, or None (absent or stale)."""
    path = landmarks_path(video)
    if not path.is_file():
        return None
    try:
        data = load_keypoints(path)
    except EdgeError:
        return None
    return data if str(data.get("cache_key", "")) == key else None


def has_landmarks(clip: SuiteClip, folder: Path, config: PoseConfig | None = None) -> bool:
    """Whether the clip's video and its landmarks are cached and current in `folder`."""
    if not is_rendered(clip, folder):
        return False
    video = folder / f"{clip.name}.mp4"
    return cached_landmarks(video, landmarks_key(video, config)) is not None


def find_landmarks(video: Path, estimator: PoseEstimator, key: str) -> dict[str, np.ndarray]:
    """Runs the pose pipeline over a video and caches its landmarks beside it.

    Returns:
        The keypoints file's arrays, plus `pose_seconds` (the pose stage's wall time).
    """
    estimator.reset()
    result = replay(video, estimator, camera_id=video.stem)
    data = {
        **result.track.arrays(),
        "cache_key": np.str_(key),
        "pose_seconds": np.float64(result.seconds),
    }
    path = landmarks_path(video)
    partial = path.with_name(path.stem + f".{os.getpid()}.tmp.npz")
    np.savez_compressed(partial, **data)
    partial.replace(path)  # never a half-written cache, even if interrupted
    return data


class LandmarksMissing(EdgeError):
    """A clip's landmarks are not cached (or stale) and no pose estimator was given."""


# ----------------------------------------------------------------- scoring
@dataclass
class ClipResult:
    """What the pipeline made of one clip, next to its truth.

    Attributes:
        clip: The clip.
        truth: Its ground truth (the `.truth.json` content).
        reps: Rep events with the exercise fixed (as a camera at that platform is set up),
            each carrying the fault codes found (its own and its `rep_update`'s).
        guessed: Per rep, the exercise recognised in a second pass on the same landmarks.
        recognised: The rep events of that second pass (with their `codes` likewise).
        sets: The set events of that second pass (each names the set's exercise).
        xy: (F, 33, 2) landmarks found, NaN where no pose.
        seconds: Wall time of pose (when the landmarks were found) + hinge (both passes).
        hinge_seconds: Wall time of the two hinge passes.
        rendered: The clip was rendered by this call (not cached).
        render_seconds: Wall time of that rendering (0 when cached).
        inferred: Its landmarks were found by this call (not cached).
    """

    clip: SuiteClip
    truth: dict[str, Any]
    reps: list[dict[str, Any]] = field(default_factory=list)
    guessed: list[str | None] = field(default_factory=list)
    recognised: list[dict[str, Any]] = field(default_factory=list)
    sets: list[SetEvent] = field(default_factory=list)
    xy: np.ndarray | None = None
    seconds: float = 0.0
    hinge_seconds: float = 0.0
    rendered: bool = False
    render_seconds: float = 0.0
    inferred: bool = False


def run_clip(clip: SuiteClip, folder: Path, estimator: PoseEstimator | None = None) -> ClipResult:
    """Renders (or reuses) a clip, finds (or reuses) its landmarks, and scores them.

    Args:
        clip: The clip.
        folder: Where its video, truth and landmarks are cached.
        estimator: Finds the landmarks when none are cached for this video, pose code,
            models and settings (its config keys the cache); None: use the cache only.

    Raises:
        LandmarksMissing: No current landmarks are cached and no estimator was given.
    """
    rendered = not is_rendered(clip, folder)
    start = time.monotonic()
    video = render_cached(clip, folder)
    render_s = time.monotonic() - start if rendered else 0.0
    truth = json.loads(truth_path(video).read_text(encoding="utf-8"))
    key = landmarks_key(video, estimator.config if estimator is not None else None)
    data = cached_landmarks(video, key)
    inferred = data is None
    if data is None:
        if estimator is None:
            raise LandmarksMissing(f"{video}: no current landmarks cached and no pose estimator")
        data = find_landmarks(video, estimator, key)
    start = time.monotonic()
    fixed = score(data, clip.spec.exercise, clip.name)
    free = score(data, None, clip.name)
    hinge_s = time.monotonic() - start
    recognised = with_codes(free)
    return ClipResult(
        clip,
        truth,
        reps=with_codes(fixed),
        guessed=[rep["exercise"] for rep in recognised],
        recognised=recognised,
        sets=[e for e in free if isinstance(e, SetEvent)],
        xy=data["xy"],
        seconds=float(data["pose_seconds"]) + hinge_s,
        hinge_seconds=hinge_s,
        rendered=rendered,
        render_seconds=render_s,
        inferred=inferred,
    )


def score(data: dict[str, np.ndarray], exercise: str | None, session_id: str) -> list[AnyEvent]:
    """The hinge engine's events on cached landmarks, the exercise fixed or (None) recognised.

    Frame by frame, pixels and 3-D (world) landmarks, as `edge.replay` and the daemon feed
    it (`edge.hinge.score_track`).
    """
    config = HingeConfig(exercise=exercise)
    return score_track(
        data["t"], data["xy"], data["visibility"], config, session_id, world=data["world"]
    )


def with_codes(events: list[AnyEvent]) -> list[dict[str, Any]]:
    """The rep events' wire form, each with `codes`: its fault codes and its update's, sorted."""
    updates = {e.rep_id: e for e in events if isinstance(e, RepUpdate)}
    reps = []
    for rep in (e for e in events if isinstance(e, RepEvent)):
        update = updates.get(rep.id)
        faults = rep.faults + (update.faults if update is not None else ())
        reps.append({**rep.to_dict(), "codes": sorted({f.code for f in faults})})
    return reps


def grid_cell(result: ClipResult) -> dict[str, Any]:
    """One grid cell's outcome, the exercise recognised: reps counted and exercise named.

    The exercise named is each set's (`set` events); it is right when at least one set
    was found and every set names the true exercise.
    """
    clip = result.clip
    named = [s.exercise for s in result.sets]
    truth_reps = len(result.truth["reps"])
    return {
        "name": clip.name,
        "exercise": clip.spec.exercise,
        "view": clip.camera.view,
        "view_group": clip.view_group,
        "height": clip.height,
        "camera_height_m": round(clip.camera.height_m, 2),
        "distance_m": round(clip.camera.distance_m, 2),
        "split": clip.split,
        "truth_reps": truth_reps,
        "reps": len(result.recognised),
        "named": named,
        "reps_exact": len(result.recognised) == truth_reps,
        "exercise_right": bool(named) and all(n == clip.spec.exercise for n in named),
    }


def in_frame(truth: dict[str, Any]) -> float:
    """Share of frames with all 33 true landmarks inside the picture."""
    xy = np.array([f["xy_px"] for f in truth["frames"]], np.float64)
    width, height = truth["frame_size"]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < width) & (xy[..., 1] >= 0) & (xy[..., 1] < height)
    return float(inside.all(axis=1).mean()) if len(xy) else 0.0


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Interior angle at b, degrees, per frame ((F, 2) points)."""
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def angles(xy: np.ndarray, side: int) -> dict[str, np.ndarray]:
    """Trunk inclination, hip and knee angles (degrees) of one side in the image.

    Args:
        xy: (F, 33, 2) landmarks.
        side: 0 for the left side, 1 for the right.
    """
    sh, hip, knee, ankle = (xy[:, k + side] for k in (11, 23, 25, 27))
    trunk = sh - hip
    return {
        "trunk": np.degrees(np.arctan2(np.abs(trunk[:, 0]), -trunk[:, 1])),
        "hip": _angle(sh, hip, knee),
        "knee": _angle(hip, knee, ankle),
    }


def pose_errors(result: ClipResult) -> dict[str, Any]:
    """Per-landmark error (in standing torso lengths) and angle error (degrees).

    Only landmarks the truth marks visible, on frames where a pose was found; angles
    on the body side nearer the camera (left for a front view), on frames where its
    shoulder, hip, knee and ankle are all visible.
    """
    frames = result.truth["frames"]
    true_xy = np.array([f["xy_px"] for f in frames], np.float64)
    visible = np.array([f["visible"] for f in frames], bool)
    found = result.xy[: len(frames)].astype(np.float64)
    seen = ~np.isnan(found[:, 0, 0])
    # The standing torso (its longest projection): a fold towards the camera shortens
    # the projected torso, not the body's scale in the picture.
    torso = np.linalg.norm(
        true_xy[:, [11, 12]].mean(axis=1) - true_xy[:, [23, 24]].mean(axis=1), axis=1
    ).max()
    error = np.linalg.norm(found - true_xy, axis=2) / torso
    joints = {}
    for name, idx in JOINTS.items():
        sel = visible[:, idx] & seen[:, None]
        joints[name] = error[:, idx][sel].tolist()
    side = 1 if result.clip.camera.view.endswith("right") else 0
    chain = [k + side for k in (11, 23, 25, 27)]
    ok = seen & visible[:, chain].all(axis=1)
    truth_angles, found_angles = angles(true_xy[ok], side), angles(found[ok], side)
    diffs = {a: np.abs(found_angles[a] - truth_angles[a]).tolist() for a in ANGLES}
    return {"joints": joints, "angles": diffs, "frames": len(frames), "found": int(seen.sum())}
