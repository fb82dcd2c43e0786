"""Renders a contact sheet of example postures: `python -m edge.synth.sheet OUT.png`."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time

import cv2
import numpy as np

from edge.synth import poses
from edge.synth.appearance import Appearance
from edge.synth.camera import Camera, View
from edge.synth.posture import Posture
from edge.synth.renderer import Rendered, render
from edge.synth.scene import Load, Scene, Sensor
from edge.synth.shape import BodyShape

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Panel:
    """One cell of the sheet.

    Attributes:
        title: Caption.
        posture: What the athlete does.
        view: Where the camera stands.
        load: What the athlete holds.
    """

    title: str
    posture: Posture
    view: View
    load: Load = "none"


def default_panels(shape: BodyShape) -> list[Panel]:
    """The nine standard panels: standing, hinge variants, squat, faults and other views."""
    floor = poses.reach_height(shape, poses.DEADLIFT_FLOOR, 0.225)
    swing = dataclasses.replace(poses.RDL_BOTTOM, hip_flex_deg=60.0)
    kettlebell = poses.with_grip_width(shape, swing, 0.1)
    return [
        Panel("standing", poses.STANDING, "side_left"),
        Panel("RDL bottom", poses.RDL_BOTTOM, "side_left", "barbell"),
        Panel("deadlift floor", floor, "side_right", "barbell"),
        Panel("squat bottom", poses.SQUAT_BOTTOM, "side_left"),
        Panel("rounded back", poses.ROUNDED_BACK, "side_left", "barbell"),
        Panel("head up", poses.HEAD_UP, "side_left", "barbell"),
        Panel("front, RDL", poses.RDL_BOTTOM, "front", "barbell"),
        Panel(
            "oblique, hinge",
            kettlebell,
            "oblique_left",
            "kettlebell",
        ),
        Panel("single-leg RDL", poses.SINGLE_LEG_RDL, "side_left"),
    ]


def render_panel(panel: Panel, shape: BodyShape, look: Appearance, scene: Scene) -> Rendered:
    """Renders one panel at 1280 x 720 with the default camera (3.5 m, 1.2 m high)."""
    target = np.array([panel.posture.root_x_m, 0.85, panel.posture.root_z_m])
    camera = Camera.looking_at(target, panel.view, panel.posture.yaw_deg)
    return render(shape, panel.posture, camera, look, dataclasses.replace(scene, load=panel.load))


def contact_sheet(frames: list[tuple[str, Rendered]], width_px: int = 960) -> np.ndarray:
    """Tiles frames 3 to a row, each cropped to its central 2/3 width and captioned."""
    tiles = []
    for title, frame in frames:
        image = frame.image.copy()
        for (x, y), seen in zip(frame.landmarks_px, frame.visible, strict=True):
            colour = (0, 255, 0) if seen else (0, 0, 255)
            cv2.circle(image, (int(x), int(y)), 3, colour, -1, cv2.LINE_AA)
        h, w = image.shape[:2]
        image = image[h // 10 :, w // 6 : w - w // 6]
        cv2.putText(image, title, (12, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 255, 255), 3)
        tiles.append(image)
    rows = [np.hstack(tiles[i : i + 3]) for i in range(0, len(tiles), 3)]
    sheet = np.vstack(rows)
    scale = width_px / sheet.shape[1]
    return cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=None, help="random look and gym")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    shape, look, scene = BodyShape(), Appearance(), Scene(sensor=Sensor(supersample=2))
    if args.seed is not None:
        rng = np.random.default_rng(args.seed)
        shape, look, scene = BodyShape.sample(rng), Appearance.sample(rng), Scene.sample(rng)
    frames = []
    for panel in default_panels(shape):
        start = time.perf_counter()
        frames.append((panel.title, render_panel(panel, shape, look, scene)))
        logger.info("%s: %.3f s", panel.title, time.perf_counter() - start)
    cv2.imwrite(args.out, contact_sheet(frames), [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()
