"""The kinematic generator: landmark sequences of a synthetic set, with known truth.

`generate` poses the body model through a `MotionSpec`, projects the 33 landmarks with a
camera, and degrades them the way a pose model does: pixel noise (more on the far side),
lower visibility for landmarks behind the body, dropped landmarks and dropped frames.
The truth says when every rep happened, which faults were injected and from where the
camera looked. Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from edge.synth.camera import Camera, Lens
from edge.synth.kinematics import forward_kinematics
from edge.synth.motion import MotionSpec, RepTruth, plan, sample
from edge.synth.shape import BodyShape

_FAR_M = 0.06  # landmarks this much further than the pelvis (along the view) are "far side"


_WORLD_NOISE_M = 0.015  # the pose model's 3-D landmarks scatter about this much, near side


@dataclass(frozen=True)
class CaptureSpec:
    """How the camera sees the set and how noisy the landmarks are.

    Attributes:
        view: side_left, side_right, oblique_left, oblique_right, front (or an azimuth).
        distance_m: Camera distance from the athlete.
        height_m: Camera height above the floor.
        fps: Frames per second.
        noise_px: Pixel noise (standard deviation) on visible landmarks.
        drop_landmark_p: Chance that a landmark is missing on a frame.
        drop_frame_p: Chance that a whole frame has no pose.
        lens: Image size and focal length.
    """

    view: str | float = "side_left"
    distance_m: float = 3.5
    height_m: float = 1.2
    fps: float = 30.0
    noise_px: float = 1.0
    drop_landmark_p: float = 0.0
    drop_frame_p: float = 0.0
    lens: Lens = field(default_factory=Lens)


@dataclass(frozen=True)
class Sequence:
    """A generated set.

    Attributes:
        t: (T,) seconds.
        xy: (T, 33, 2) float32 image pixels, NaN where dropped.
        visibility: (T, 33) float32.
        truth_xy: (T, 33, 2) float32 noiseless projections.
        world: (T, 33, 3) float32 metres about the pelvis in the camera's axes (x right,
            y down), as the pose model's 3-D output, with noise of that model's size, NaN
            where the picture's point was dropped.
        reps: When each rep happened.
        spec: The motion performed.
        capture: How it was seen.
    """

    t: npt.NDArray[np.float64]
    xy: npt.NDArray[np.float32]
    visibility: npt.NDArray[np.float32]
    truth_xy: npt.NDArray[np.float32]
    world: npt.NDArray[np.float32]
    reps: list[RepTruth]
    spec: MotionSpec
    capture: CaptureSpec


def generate(
    spec: MotionSpec, shape: BodyShape, capture: CaptureSpec, rng: np.random.Generator
) -> Sequence:
    """Generates one set as seen by one camera."""
    phases, reps = plan(spec)
    times, postures = sample(phases, capture.fps)
    skeletons = [forward_kinematics(shape, p) for p in postures]
    target = skeletons[0].pelvis_m
    camera = Camera.looking_at(
        target, capture.view, spec.yaw_deg, capture.distance_m, capture.height_m, capture.lens
    )
    points = np.stack([s.landmarks_m for s in skeletons])  # (T, 33, 3)
    pelvis = np.stack([s.pelvis_m for s in skeletons])
    flat, depth = camera.project(points.reshape(-1, 3))
    truth = flat.reshape(len(times), 33, 2).astype(np.float32)
    far = depth.reshape(len(times), 33) > camera.to_camera(pelvis)[:, 2:3] + _FAR_M
    xy = _noisy(truth, far, capture, rng)
    sigma = np.where(far, 2 * _WORLD_NOISE_M, _WORLD_NOISE_M)[..., None]
    # Its own generator, seeded from the set: `rng` draws the same stream as before.
    noise = np.random.default_rng(int(np.float64(truth.sum()).view(np.uint64)))
    # As the pose model gives them: about the pelvis, in the camera's axes (x right, y down).
    rel = (points - pelvis[:, None, :]).reshape(-1, 3) @ camera.rotation.T
    world = rel.reshape(points.shape) + noise.normal(0.0, 1.0, points.shape) * sigma
    world[np.isnan(xy[..., 0])] = np.nan
    return Sequence(
        t=np.asarray(times),
        xy=xy,
        visibility=_visibility(far, rng),
        truth_xy=truth,
        world=world.astype(np.float32),
        reps=reps,
        spec=spec,
        capture=capture,
    )


def _noisy(
    truth: np.ndarray, far: np.ndarray, capture: CaptureSpec, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    sigma = np.where(far, 2.5, 1.0)[..., None] * capture.noise_px
    xy = truth + rng.normal(0.0, 1.0, truth.shape) * sigma
    dropped = rng.random(truth.shape[:2]) < capture.drop_landmark_p
    frames = rng.random(truth.shape[0]) < capture.drop_frame_p
    xy[dropped | frames[:, None]] = np.nan
    return xy.astype(np.float32)


def _visibility(far: np.ndarray, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    near = rng.uniform(0.9, 1.0, far.shape)
    hidden = rng.uniform(0.45, 0.75, far.shape)
    return np.where(far, hidden, near).astype(np.float32)


SIDE_VIEWS = ("side_left", "side_right")


def random_set(
    exercise: str,
    faults: dict[str, float],
    rng: np.random.Generator,
    views: tuple[str, ...] = SIDE_VIEWS,
    reps: int | None = None,
) -> Sequence:
    """A set with a random body, tempo, depth, camera and landmark noise.

    The ranges are those a gym camera sees: 1.5-2.0 m adults, tempo 0.7-1.4x the
    exercise's default, depth 0.9-1.1x, camera 2.8-5 m away at 0.8-1.6 m, 0.5-2.5 px noise,
    up to 3% dropped landmarks and 3% dropped frames.
    """
    spec = MotionSpec(
        exercise=exercise,
        reps=int(rng.integers(2, 7)) if reps is None else reps,
        faults=faults,
        speed=float(rng.uniform(0.7, 1.4)),
        depth=float(rng.uniform(0.9, 1.1)),
        lead_in_s=float(rng.uniform(0.6, 2.0)),
        yaw_deg=float(rng.uniform(-10, 10)),
        squat_style=str(rng.choice(["air", "back", "goblet"])),
    )
    capture = CaptureSpec(
        view=str(rng.choice(views)),
        distance_m=float(rng.uniform(2.8, 5.0)),
        height_m=float(rng.uniform(0.8, 1.6)),
        fps=float(rng.choice([15.0, 25.0, 30.0])),
        noise_px=float(rng.uniform(0.5, 2.5)),
        drop_landmark_p=float(rng.uniform(0, 0.03)),
        drop_frame_p=float(rng.uniform(0, 0.03)),
    )
    return generate(spec, BodyShape.sample(rng), capture, rng)
