"""Inputs for the report tests."""

from __future__ import annotations

import numpy as np

from edge.hinge.signals import BackShape
from edge.pose.back import BackOutline
from edge.types import NUM_LANDMARKS, Poses


def truth_poses(frame: dict) -> Poses:
    """The rendered athlete's true landmarks as a `Poses` of one person."""
    xy = np.asarray(frame["xy_px"], np.float32)[None]
    vis = np.asarray(frame["visible"], np.float32)[None]
    zeros = np.zeros((1, NUM_LANDMARKS), np.float32)
    world = np.zeros((1, NUM_LANDMARKS, 3), np.float32)
    return Poses(xy, zeros, vis, vis, world, np.ones(1, np.float32), np.zeros((1, 4), np.float32))


def bent_outline(bulge: float, y: float = 40.0) -> BackOutline:
    """A back from (40, y) to (160, y), bowed up (behind) by `bulge` torso lengths."""
    t = np.linspace(0.0, 1.0, 17)
    signed = bulge * 4 * t * (1 - t)
    edge = np.stack([40 + 120 * t, y - 120 * signed], axis=1)
    return BackOutline(BackShape(bulge, bulge, bulge, 0.0), edge, signed)
