"""Inputs for the report tests."""

from __future__ import annotations

import numpy as np

from edge.types import NUM_LANDMARKS, Poses


def truth_poses(frame: dict) -> Poses:
    """The rendered athlete's true landmarks as a `Poses` of one person."""
    xy = np.asarray(frame["xy_px"], np.float32)[None]
    vis = np.asarray(frame["visible"], np.float32)[None]
    zeros = np.zeros((1, NUM_LANDMARKS), np.float32)
    world = np.zeros((1, NUM_LANDMARKS, 3), np.float32)
    return Poses(xy, zeros, vis, vis, world, np.ones(1, np.float32), np.zeros((1, 4), np.float32))
