"""Small rotation helpers shared by the body model, the camera and the renderer (pure NumPy).

Body-local frames are (x = the body's left, y = up, z = forward); a 3x3 frame matrix
holds those three unit axes as its columns, so `frame @ offset` maps a local offset
(left, up, forward) into the parent frame.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vec = npt.NDArray[np.float64]


def pitch_matrix(angle_deg: float) -> Vec:
    """Rotation about the left (x) axis that tips up (y) towards forward (z) by the angle."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def roll_matrix(angle_deg: float) -> Vec:
    """Rotation about the forward (z) axis that tips down (-y) towards left (+x) by the angle."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def yaw_matrix(angle_deg: float) -> Vec:
    """Rotation about the up (y) axis that turns forward (+z) towards +x by the angle."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def inclined(angle_deg: float, length_m: float) -> Vec:
    """A sagittal vector of the given length, tilted forward from straight up by the angle."""
    a = np.radians(angle_deg)
    return length_m * np.array([0.0, np.cos(a), np.sin(a)])


def unit(v: npt.ArrayLike) -> Vec:
    """Returns v scaled to unit length along its last axis."""
    arr = np.asarray(v, dtype=np.float64)
    return arr / np.linalg.norm(arr, axis=-1, keepdims=True)
