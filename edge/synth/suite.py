"""End-to-end suite on the synthetic athlete: render -> pose -> hinge -> events, scored.

A suite is a deterministic list of clips spanning exercises, faults, views, bodies and
tempos (`suite_clips`). Each clip is rendered once (cached beside its truth), run through
the real pose pipeline and the hinge engine as a camera at that platform would run them,
and compared with its ground truth (`run_clip`): rep counts, faults, exercise, view, and
the pose stage's per-landmark and angle errors. `tools/synth_suite.py` renders the whole
suite into `docs/synth-suite.md`; `tests/synth/test_suite.py` runs a small one in CI.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.hinge import FAULT_CODES, HingeConfig, HingeScorer, score_track
from edge.hinge.layout import JOINTS as LAYOUT_JOINTS
from edge.hinge.layout import joint_indices
from edge.pose import PoseEstimator
from edge.replay import replay
from edge.synth.clip import ClipCamera, render_clip, truth_path
from edge.synth.motion import MotionSpec

logger = logging.getLogger(__name__)

HINGES = ("rdl", "deadlift", "good_morning", "swing", "single_leg_rdl")
_FLOOR_ONLY = {"hips_rise_first"}  # HINGE.md: "lifting from the floor"
NOT_FOR: dict[str, set[str]] = {
    "rdl": _FLOOR_ONLY,
    "good_morning": _FLOOR_ONLY,
    "single_leg_rdl": _FLOOR_ONLY,
    "swing": {"rushed_eccentric", *_FLOOR_ONLY},  # explosive by design
    "deadlift": {"chest_first"},  # a floor-start set's descent is the previous rep's lowering
}
"""Faults that do not apply to an exercise, by design (see HINGE.md)."""
VIEW_LABEL = {
    "side_left": "side_left",
    "side_right": "side_right",
    "oblique_left": "oblique",
    "oblique_right": "oblique",
    "front": "front",
}
"""The view a rendered camera should be reported as (the events' `view` values)."""
_LEFT, _RIGHT = joint_indices("blazepose33")
JOINTS: dict[str, tuple[int, ...]] = {
    "nose": (0,),
    **{name: (left, right) for name, left, right in zip(LAYOUT_JOINTS, _LEFT, _RIGHT, strict=True)},
}
"""Landmark groups the suite reports, the hinge engine's joints (BlazePose indices)."""
ANGLES = ("trunk", "hip", "knee")


@dataclass(frozen=True)
class SuiteClip:
    """One clip of a suite: what is performed, how it is filmed, and the random seed."""

    name: str
    spec: MotionSpec
    camera: ClipCamera
    seed: int


def faults_for(exercise: str) -> list[str]:
    """The fault codes that apply to an exercise (none for a squat: it is not scored)."""
    if exercise not in HINGES:
        return []
    return [c for c in FAULT_CODES if c not in NOT_FOR.get(exercise, set())]


def suite_clips(
    size: tuple[int, int] = (640, 360), fps: float = 15.0, seed: int = 0, reps: int = 3
) -> list[SuiteClip]:
    """The full suite of clips, the same for the same arguments.

    Every applicable fault of every hinge (side views), clean sets of every exercise from
    the side, obliquely and from the front, and squats.

    Bodies, clothes, gyms, tempos (0.8-1.25x), depths, camera distance (2.8-4.5 m) and
    height (0.9-1.5 m) vary with the seed.
    """
    rng = np.random.default_rng(seed)
    plan: list[tuple[str, dict[str, float], str]] = []
    for i, exercise in enumerate(HINGES):
        for j, code in enumerate(faults_for(exercise)):
            plan.append((exercise, {code: 0.8}, ("side_left", "side_right")[(i + j) % 2]))
        sides = (("side_left", "oblique_right"), ("side_right", "oblique_left"))[i % 2]
        plan += [(exercise, {}, view) for view in (*sides, "front")]
    plan += [("squat", {}, "side_right"), ("squat", {}, "oblique_left")]
    clips = []
    for exercise, faults, view in plan:
        clip_seed = int(rng.integers(1 << 30))
        spec = MotionSpec(
            exercise=exercise,
            reps=reps,
            faults=faults,
            speed=float(rng.uniform(0.8, 1.25)),
            depth=float(rng.uniform(0.95, 1.05)),
            lead_in_s=float(rng.uniform(0.8, 1.5)),
            yaw_deg=float(rng.uniform(-8, 8)),
            squat_style=str(rng.choice(["air", "back", "goblet"])),
        )
        camera = ClipCamera(
            view=view,
            distance_m=float(rng.uniform(2.8, 4.5)),
            height_m=float(rng.uniform(0.9, 1.5)),
            width_px=size[0],
            height_px=size[1],
            focal_px=900.0 * size[0] / 1280,
            fps=fps,
        )
        fault = "-".join(faults) or "clean"
        name = f"{len(clips):02d}-{exercise}-{fault}-{view}"
        clips.append(SuiteClip(name, spec, camera, clip_seed))
    return clips


def render_cached(clip: SuiteClip, folder: Path) -> Path:
    """Renders a clip into `folder`, or reuses the one there if its truth matches."""
    video = folder / f"{clip.name}.mp4"
    truth = truth_path(video)
    if video.is_file() and truth.is_file():
        old = json.loads(truth.read_text(encoding="utf-8"))
        same_motion = old.get("motion") == json.loads(json.dumps(_motion(clip.spec)))
        if (
            old.get("seed") == clip.seed
            and same_motion
            and old.get("camera") == asdict(clip.camera)
        ):
            return video
    folder.mkdir(parents=True, exist_ok=True)
    render_clip(clip.spec, clip.camera, video, seed=clip.seed)
    return video


def _motion(spec: MotionSpec) -> dict[str, Any]:
    return {k: v for k, v in asdict(spec).items() if k != "faults"}


@dataclass
class ClipResult:
    """What the pipeline made of one clip, next to its truth.

    Attributes:
        clip: The clip.
        truth: Its ground truth (the `.truth.json` content).
        reps: Rep events with the exercise fixed (as a camera at that platform is set up),
            each carrying the fault codes found (its own and its `rep_update`'s).
        guessed: Per rep, the exercise recognised in a second pass on the same landmarks.
        xy: (F, 33, 2) landmarks found, NaN where no pose.
        seconds: Wall time of pose + hinge.
    """

    clip: SuiteClip
    truth: dict[str, Any]
    reps: list[dict[str, Any]] = field(default_factory=list)
    guessed: list[str | None] = field(default_factory=list)
    xy: np.ndarray | None = None
    seconds: float = 0.0


def run_clip(clip: SuiteClip, folder: Path, estimator: PoseEstimator) -> ClipResult:
    """Renders (or reuses) a clip and runs pose + hinge over it."""
    video = render_cached(clip, folder)
    truth = json.loads(truth_path(video).read_text(encoding="utf-8"))
    estimator.reset()
    exercise = clip.spec.exercise
    scorer = HingeScorer(HingeConfig(exercise=exercise), session_id=clip.name)
    result = replay(video, estimator, scorer, camera_id=clip.name)
    arrays = result.track.arrays()
    updates = {e["rep_id"]: e for e in result.events if e["event"] == "rep_update"}
    reps = []
    for rep in (e for e in result.events if e["event"] == "rep"):
        codes = {f["code"] for f in rep["faults"]}
        codes |= {f["code"] for f in updates.get(rep["id"], {}).get("faults", [])}
        reps.append({**rep, "codes": sorted(codes)})
    second = score_track(arrays["t"], arrays["xy"], arrays["visibility"])
    guessed = [e["exercise"] for e in second if e["event"] == "rep"]
    return ClipResult(clip, truth, reps, guessed, arrays["xy"], result.seconds)


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
