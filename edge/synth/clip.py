"""Rendered clips of the synthetic athlete, with a ground-truth file beside them.

`render_clip` renders a `MotionSpec` frame by frame into an mp4 and writes
`<name>.truth.json`: the set's rep times, injected faults, exercise, view, body, camera,
and per frame the 33 landmarks in pixels and metres with their visibility. The same
seed gives the same truth, byte for byte (the video's bytes depend on the encoder).

With `extras` (passers-by, a second athlete) the truth also has `others`, describing
each other person, and per frame `others`: each one's landmarks in pixels, their
visibility and the pixel box of their visible body. The truth stays the athlete's; their
visibility accounts for anyone standing in front of them. Without extras the truth is
byte for byte what it was before extras existed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.errors import EdgeError
from edge.synth.appearance import Appearance
from edge.synth.camera import Camera, Lens
from edge.synth.crowd import Crowd, Extras, cast_crowd
from edge.synth.kinematics import forward_kinematics
from edge.synth.motion import MotionSpec, plan, sample
from edge.synth.person import DEFAULT_LOAD, Person
from edge.synth.placement import Stage
from edge.synth.renderer import Rendered, render_people
from edge.synth.scene import Scene
from edge.synth.shape import BodyShape

__all__ = [
    "DEFAULT_FOV_DEG",
    "DEFAULT_LOAD",
    "FOV_RANGE_DEG",
    "LENS_FOV_DEG",
    "TRUTH_FORMAT",
    "ClipCamera",
    "focal_for_fov",
    "render_clip",
    "truth_path",
]
logger = logging.getLogger(__name__)
TRUTH_FORMAT = "hinge-edge.truth/1"
DEFAULT_FOV_DEG = math.degrees(2.0 * math.atan(640.0 / 900.0))
"""Horizontal field of view of the default lens (f = 900 px at 1280 wide): about 70.8 deg."""
FOV_RANGE_DEG = (20.0, 120.0)
"""Horizontal fields of view a pinhole lens is offered with (no distortion is modelled)."""
LENS_FOV_DEG = {"wide": 100.0, "standard": DEFAULT_FOV_DEG, "narrow": 55.0, "tele": 40.0}
"""Named lenses by horizontal field of view: wide is a 2.8 mm CCTV lens, standard a
phone's main camera (today's default), narrow a 6 mm and tele an 8 mm CCTV lens."""


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

    @property
    def fov_deg(self) -> float:
        """Horizontal field of view, degrees."""
        return math.degrees(2.0 * math.atan(0.5 * self.width_px / self.focal_px))


def focal_for_fov(width_px: int, fov_deg: float) -> float:
    """Focal length (pixels, rounded to 0.001) giving a horizontal field of view.

    Raises:
        ValueError: The field of view is outside `FOV_RANGE_DEG`.
    """
    lo, hi = FOV_RANGE_DEG
    if not lo <= fov_deg <= hi:
        raise ValueError(f"field of view must be {lo:g}-{hi:g} degrees, got {fov_deg:g}")
    return round(0.5 * width_px / math.tan(math.radians(0.5 * fov_deg)), 3)


def truth_path(video: Path) -> Path:
    """`OUT.mp4` -> `OUT.truth.json`."""
    return video.with_name(video.stem + ".truth.json")


def render_clip(
    spec: MotionSpec,
    cam: ClipCamera,
    out: Path,
    seed: int = 0,
    load: str | None = None,
    *,
    extras: Extras | None = None,
) -> dict[str, Any]:
    """Renders a set to `out` (mp4) and its truth beside it; returns the truth.

    Args:
        spec: The athlete's set.
        cam: Where the camera stands and what it records.
        out: The video to write.
        seed: Draws the athlete's body and clothes, the gym, the sensor noise and (from
            a separate stream, so the athlete's draws do not change) the extras.
        load: What the athlete holds; None: the exercise's usual load.
        extras: Passers-by and / or a second athlete; None for the athlete alone.

    Raises:
        EdgeError: The video cannot be written there.
        ValueError: An explicit extra is placed where they would walk through someone.
    """
    rng = np.random.default_rng(seed)
    shape, appearance = BodyShape.sample(rng), Appearance.sample(rng)
    scene = Scene.sample(rng, load=load or DEFAULT_LOAD[spec.exercise])
    phases, reps = plan(spec)
    times, postures = sample(phases, cam.fps)
    lens = Lens(cam.width_px, cam.height_px, cam.focal_px)
    target = forward_kinematics(shape, postures[0]).pelvis_m
    camera = Camera.looking_at(target, cam.view, spec.yaw_deg, cam.distance_m, cam.height_m, lens)
    crowd = None
    if extras is not None and extras.wanted:
        stage = Stage(camera, target[[0, 2]], spec.yaw_deg, scene.load, spec.exercise, times)
        crowd = cast_crowd(extras, stage, np.random.default_rng([seed, 1]))
        scene = dataclasses.replace(scene, wall_gap_m=max(scene.wall_gap_m, crowd.wall_gap_m))
    athletes = [Person.posed(shape, p, appearance, scene.load) for p in postures]
    frames = _render_frames(out, cam, camera, (athletes, times, crowd), scene, rng)
    truth = _truth(spec, cam, seed, shape, reps, frames)
    if crowd is not None:
        truth["others"] = crowd.describe()
    truth_path(out).write_text(json.dumps(truth, separators=(",", ":")) + "\n", encoding="utf-8")
    return truth


def _render_frames(
    out: Path,
    cam: ClipCamera,
    camera: Camera,
    cast: tuple[list[Person], list[float], Crowd | None],
    scene: Scene,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Writes the video frame by frame; returns the per-frame truth."""
    athletes, times, crowd = cast
    writer = cv2.VideoWriter(
        str(out), cv2.VideoWriter_fourcc(*"mp4v"), cam.fps, (cam.width_px, cam.height_px)
    )
    if not writer.isOpened():
        raise EdgeError(f"cannot write a video to {out} (folder missing or not writable?)")
    frames = []
    try:
        for i, athlete in enumerate(athletes):
            others = crowd.people_at(i, times[i]) if crowd is not None else []
            frame = render_people(athlete, camera, others, scene, rng)
            writer.write(frame.image)
            frames.append(_frame_truth(times[i], frame, crowd is not None))
            if i % 100 == 0:
                logger.info("%s: frame %d of %d", out.name, i + 1, len(athletes))
    finally:
        writer.release()
    return frames


def _frame_truth(t_s: float, frame: Rendered, with_others: bool = False) -> dict[str, Any]:
    truth: dict[str, Any] = {
        "t_s": round(t_s, 4),
        "xy_px": np.round(frame.landmarks_px, 2).tolist(),
        "xyz_m": np.round(frame.skeleton.landmarks_m, 4).tolist(),
        "visible": frame.visible.astype(int).tolist(),
    }
    if with_others:
        truth["others"] = [
            {
                "xy_px": np.round(view.landmarks_px, 2).tolist(),
                "visible": view.visible.astype(int).tolist(),
                "box_px": list(view.box_px) if view.box_px is not None else None,
            }
            for view in frame.others
        ]
    return truth


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
