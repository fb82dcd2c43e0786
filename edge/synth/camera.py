"""A pinhole camera for the synthetic scene (pure NumPy).

Camera frame: x right, y down, z forward (OpenCV). Image coordinates are continuous
pixels: pixel column i spans [i, i + 1), so the principal point of a W x H image is
(W / 2, H / 2) and pixel (i, j) is sampled at its centre (i + 0.5, j + 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from edge.synth.geometry import Vec, unit

View = Literal["side_left", "side_right", "oblique_left", "oblique_right", "front"]

VIEW_AZIMUTH_DEG: dict[str, float] = {
    "front": 0.0,
    "oblique_left": 45.0,
    "side_left": 90.0,
    "oblique_right": -45.0,
    "side_right": -90.0,
}
"""Camera azimuth around the athlete for each named view: 0 in front of them, +90 on
their left (their LEFT side faces the camera), -90 on their right."""


@dataclass(frozen=True)
class Lens:
    """Image size and focal length of a camera.

    Attributes:
        width_px: Image width, pixels.
        height_px: Image height, pixels.
        focal_px: Focal length, pixels (square pixels, principal point at the centre).
    """

    width_px: int = 1280
    height_px: int = 720
    focal_px: float = 900.0


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera placed in the world (metres; world y up, floor at y = 0).

    Attributes:
        lens: Image size and focal length.
        position_m: (3,) optical centre in the world frame.
        rotation: (3, 3) world-to-camera rotation: rows are the camera's right, down and
            forward axes expressed in the world frame.
    """

    lens: Lens
    position_m: Vec
    rotation: Vec

    @property
    def width_px(self) -> int:
        """Image width, pixels."""
        return self.lens.width_px

    @property
    def height_px(self) -> int:
        """Image height, pixels."""
        return self.lens.height_px

    @property
    def focal_px(self) -> float:
        """Focal length, pixels."""
        return self.lens.focal_px

    @classmethod
    def look_at(cls, position_m: npt.ArrayLike, target_m: npt.ArrayLike, lens: Lens) -> Camera:
        """A level camera (no roll) at `position_m` whose optical axis passes through `target_m`."""
        position = np.asarray(position_m, dtype=np.float64)
        forward = unit(np.asarray(target_m, dtype=np.float64) - position)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        if np.linalg.norm(right) < 1e-9:
            raise ValueError("the camera cannot look straight up or down")
        right = unit(right)
        down = np.cross(forward, right)
        return cls(lens, position, np.stack([right, down, forward]))

    @classmethod
    def looking_at(
        cls,
        target_m: npt.ArrayLike,
        view: View | float = "side_left",
        athlete_yaw_deg: float = 0.0,
        distance_m: float = 3.5,
        height_m: float = 1.2,
        lens: Lens | None = None,
    ) -> Camera:
        """A camera around an athlete, aimed at `target_m`.

        Args:
            target_m: (3,) world point the camera aims at (e.g. the pelvis).
            view: Which side of the athlete the camera sees ("side_left": their left side
                faces the camera), or an azimuth in degrees (`VIEW_AZIMUTH_DEG`).
            athlete_yaw_deg: The athlete's facing yaw (`Posture.yaw_deg`).
            distance_m: Horizontal distance from the target, metres.
            height_m: Height of the camera above the floor, metres.
            lens: Image size and focal length; default 1280 x 720, f = 900 px.

        Returns:
            The camera.
        """
        azimuth = VIEW_AZIMUTH_DEG[view] if isinstance(view, str) else float(view)
        angle = np.radians(athlete_yaw_deg + azimuth)
        # Azimuth 0 is along the athlete's facing direction, +90 along their left.
        direction = np.array([np.sin(angle), 0.0, np.cos(angle)])
        target = np.asarray(target_m, dtype=np.float64)
        position = target + distance_m * direction
        position[1] = height_m
        return cls.look_at(position, target, lens or Lens())

    def to_camera(self, points_m: npt.ArrayLike) -> Vec:
        """World points (N, 3) -> camera-frame points (N, 3) (x right, y down, z forward)."""
        return (np.asarray(points_m, dtype=np.float64) - self.position_m) @ self.rotation.T

    def project(self, points_m: npt.ArrayLike) -> tuple[Vec, Vec]:
        """Projects world points into the image.

        Args:
            points_m: (N, 3) world points, metres.

        Returns:
            `(xy_px, depth_m)`: (N, 2) continuous pixel coordinates (y down) and (N,) depth
            along the optical axis in metres (<= 0 for points behind the camera, whose
            pixel coordinates are meaningless).
        """
        cam = self.to_camera(points_m)
        depth = cam[:, 2]
        safe = np.where(np.abs(depth) < 1e-9, 1e-9, depth)
        centre = np.array([self.width_px / 2.0, self.height_px / 2.0])
        return self.focal_px * cam[:, :2] / safe[:, None] + centre, depth

    def rays(self, x_px: npt.ArrayLike, y_px: npt.ArrayLike) -> Vec:
        """Unit world-frame ray directions through image points.

        Args:
            x_px: Continuous image x coordinates, any shape S.
            y_px: Continuous image y coordinates, shape S.

        Returns:
            (*S, 3) unit directions from `position_m`.
        """
        x = (np.asarray(x_px, dtype=np.float64) - self.width_px / 2.0) / self.focal_px
        y = (np.asarray(y_px, dtype=np.float64) - self.height_px / 2.0) / self.focal_px
        cam = np.stack([x, y, np.ones_like(x)], axis=-1)
        return unit(cam @ self.rotation)
