"""Shared data containers passed between pipeline stages (no logic beyond validation)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUM_LANDMARKS = 33
"""BlazePose landmarks per person (0 nose ... 32 right foot index; odd = left side)."""


def _check_shape(name: str, array: np.ndarray, shape: tuple[int | None, ...]) -> None:
    ok = array.ndim == len(shape) and all(
        want is None or want == got for want, got in zip(shape, array.shape, strict=True)
    )
    if not ok:
        want_txt = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want_txt}, got {tuple(array.shape)}")


@dataclass(frozen=True)
class Roi:
    """A square, rotated region of interest in image pixels.

    Attributes:
        cx: Centre x in image pixels (continuous coordinates: pixel i spans [i, i+1)).
        cy: Centre y in image pixels.
        size: Side length in image pixels.
        rotation: Rotation in radians; 0 means the body is upright in the crop, positive
            turns the crop clockwise on screen (MediaPipe's convention).
    """

    cx: float
    cy: float
    size: float
    rotation: float

    def as_array(self) -> npt.NDArray[np.float32]:
        """Returns `[cx, cy, size, rotation]` as float32."""
        return np.array([self.cx, self.cy, self.size, self.rotation], dtype=np.float32)


@dataclass(frozen=True)
class Poses:
    """Landmarks of N people in one frame (N is 0 or more).

    Attributes:
        xy: (N, 33, 2) float32 image pixels, continuous coordinates.
        z: (N, 33) float32 relative depth in image-pixel scale (smaller = nearer the camera),
            origin at the hips; as unreliable as any monocular depth.
        visibility: (N, 33) float32 in [0, 1]: the landmark is in view and not occluded.
        presence: (N, 33) float32 in [0, 1]: the landmark is inside the frame.
        world: (N, 33, 3) float32 metres, origin between the hips, y down (MediaPipe's world
            landmarks rotated back to the image's frame).
        score: (N,) float32 pose-presence probability from the landmark model.
        roi: (N, 4) float32 `[cx, cy, size, rotation]` of the crop the landmarks came from.
    """

    xy: npt.NDArray[np.float32]
    z: npt.NDArray[np.float32]
    visibility: npt.NDArray[np.float32]
    presence: npt.NDArray[np.float32]
    world: npt.NDArray[np.float32]
    score: npt.NDArray[np.float32]
    roi: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        k = NUM_LANDMARKS
        _check_shape("xy", self.xy, (None, k, 2))
        n = self.xy.shape[0]
        _check_shape("z", self.z, (n, k))
        _check_shape("visibility", self.visibility, (n, k))
        _check_shape("presence", self.presence, (n, k))
        _check_shape("world", self.world, (n, k, 3))
        _check_shape("score", self.score, (n,))
        _check_shape("roi", self.roi, (n, 4))

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @classmethod
    def empty(cls) -> Poses:
        """Returns a container holding nobody."""
        k = NUM_LANDMARKS
        f = np.float32
        return cls(
            xy=np.zeros((0, k, 2), f),
            z=np.zeros((0, k), f),
            visibility=np.zeros((0, k), f),
            presence=np.zeros((0, k), f),
            world=np.zeros((0, k, 3), f),
            score=np.zeros((0,), f),
            roi=np.zeros((0, 4), f),
        )
