"""A synthetic athlete: a NumPy body model, pinhole camera and ray-cast gym renderer.

The body model (`body`, `camera`) is pure NumPy so the hinge engine can use it to make
landmark sequences with known ground truth; the renderer (`renderer`) also uses OpenCV
for shadows and sensor artefacts, and makes frames for calibrating and testing the pose
model. `render` and `Rendered` are imported on first use, so importing this package (or
`edge.synth.body`) does not load OpenCV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edge.synth.appearance import Appearance, Material
from edge.synth.body import BodyShape, LegPose, Posture, Skeleton, forward_kinematics
from edge.synth.camera import VIEW_AZIMUTH_DEG, Camera, Lens, View
from edge.synth.poses import reach_height, with_grip_width
from edge.synth.scene import Scene, Sensor

if TYPE_CHECKING:
    from edge.synth.renderer import Rendered, render

__all__ = [
    "VIEW_AZIMUTH_DEG",
    "Appearance",
    "BodyShape",
    "Camera",
    "LegPose",
    "Lens",
    "Material",
    "Posture",
    "Rendered",
    "Scene",
    "Sensor",
    "Skeleton",
    "View",
    "forward_kinematics",
    "reach_height",
    "render",
    "with_grip_width",
]


def __getattr__(name: str) -> Any:
    """Imports the renderer on first use (it needs OpenCV; the body model does not)."""
    if name in ("render", "Rendered"):
        renderer = importlib.import_module("edge.synth.renderer")
        return getattr(renderer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
