"""Rendered clips of the synthetic athlete, with a ground-truth file beside them.

`render_clip` renders a `MotionSpec` frame by frame into an mp4 and writes
`<name>.truth.json`: the set's rep times, injected faults, exercise, view, body, camera,
and per frame the 33 landmarks in pixels and metres with their visibility. The same
seed gives the same truth, byte for byte (the video's bytes depend on the encoder).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.errors import EdgeError
from edge.synth.appearance import Appearance
from edge.synth.camera import Camera, Lens
from edge.synth.kinematics import forward_kinematics
from edge.synth.motion import MotionSpec, plan, sample
from edge.synth.renderer import render
from edge.synth.scene import Scene
from edge.synth.shape import BodyShape

logger = logging.getLogger(__name__)
TRUTH_FORMAT = "hinge-edge.truth/1"
DEFAULT_LOAD = {
    "rdl": "barbell",
    "deadlift": "barbell",
    "swing": "kettlebell",
    "single_leg_rdl": "kettlebell",
    "good_morning": "none",
    "squat": "none",
}


@dataclass(frozen=True)
class ClipCamera:
    """Where the camera stands and what it records.

    Attributes:
        view: side_left, side_right, oblique_left, oblique_right or front.
        distance_m: Horizontal distance to the athlete.
        height_m: Camera height.
        width_px: Frame width.
        height_px: Frame height.
        focal_px: Focal length at this frame size.
        fps: Frames per second.
    """

    view: str = "side_left"
    distance_m: float = 3.5
    height_m: float = 1.2
    width_px: int = 1280
    height_px: int = 720
    focal_px: float = 900.0
    fps: float = 30.0


def truth_path(video: Path) -> Path:
    """`OUT.mp4` -> `OUT.truth.json`."""
    return video.with_name(video.stem + ".truth.json")


def render_clip(
    spec: MotionSpec, cam: ClipCamera, out: Path, seed: int = 0, load: str | None = None
) -> dict[str, Any]:
    """Renders a set to `out` (mp4) and its truth beside it; returns the truth.

    Raises:
        EdgeError: The video cannot be written there.
    """
    rng = np.random.default_rng(seed)
    shape, appearance = BodyShape.sample(rng), Appearance.sample(rng)
    scene = Scene.sample(rng, load=load or DEFAULT_LOAD[spec.exercise])
    phases, reps = plan(spec)
    times, postures = sample(phases, cam.fps)
    lens = Lens(cam.width_px, cam.height_px, cam.focal_px)
    target = forward_kinematics(shape, postures[0]).pelvis_m
    camera = Camera.looking_at(target, cam.view, spec.yaw_deg, cam.distance_m, cam.height_m, lens)
    writer = cv2.VideoWriter(
        str(out), cv2.VideoWriter_fourcc(*"mp4v"), cam.fps, (cam.width_px, cam.height_px)
    )
    if not writer.isOpened():
        raise EdgeError(f"cannot write a video to {out} (folder missing or not writable?)")
    frames = []
    try:
        for i, posture in enumerate(postures):
            frame = render(shape, posture, camera, appearance, scene, rng)
            writer.write(frame.image)
            frames.append(_frame_truth(times[i], frame))
            if i % 100 == 0:
                logger.info("%s: frame %d of %d", out.name, i + 1, len(postures))
    finally:
        writer.release()
    truth = _truth(spec, cam, seed, shape, reps, frames)
    truth_path(out).write_text(json.dumps(truth, separators=(",", ":")) + "\n", encoding="utf-8")
    return truth


def _frame_truth(t_s: float, frame: Any) -> dict[str, Any]:
    return {
        "t_s": round(t_s, 4),
        "xy_px": np.round(frame.landmarks_px, 2).tolist(),
        "xyz_m": np.round(frame.skeleton.landmarks_m, 4).tolist(),
        "visible": frame.visible.astype(int).tolist(),
    }


def _truth(
    spec: MotionSpec, cam: ClipCamera, seed: int, shape: BodyShape, reps: list, frames: list
) -> dict[str, Any]:
    return {
        "format": TRUTH_FORMAT,
        "exercise": spec.exercise,
        "faults": dict(sorted(spec.faults.items())),
        "view": cam.view,
        "seed": seed,
        "fps": cam.fps,
        "frame_size": [cam.width_px, cam.height_px],
        "start": spec.start_order,
        "reps": [{k: round(v, 4) for k, v in asdict(r).items()} for r in reps],
        "motion": {k: v for k, v in asdict(spec).items() if k != "faults"},
        "camera": asdict(cam),
        "body": {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(shape).items()},
        "frames": frames,
    }
