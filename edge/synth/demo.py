"""The embedded default: a rendered athlete as the camera, for `hinge-edge run` alone.

The clip is rendered once (about half a minute) into the user's cache folder and reused:
the same seed gives the same athlete and the same truth, so every fresh machine shows the
same demo. Nothing is downloaded.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from edge.synth.clip import ClipCamera, render_clip, truth_path
from edge.synth.motion import MotionSpec

logger = logging.getLogger(__name__)

DEMO_SPEC = MotionSpec(
    exercise="rdl", reps=5, faults={"head_extension": 0.8}, lead_in_s=1.0, tail_s=13.0
)
"""Five RDLs looking up (at the mirror), then standing long enough (13 s) for the set to end.

Not a knee-dominant RDL any more: the renderer's knee-dominant RDL bends the knees as far
as a deadlift while its hips still lead (hip/knee flexion ratio 1.3-1.7), and the engine
names it a deadlift, which a demo should not have to explain.
"""
DEMO_CAMERA = ClipCamera(width_px=640, height_px=360, focal_px=450.0, fps=15.0)
DEMO_SEED = 1
DEMO_CLIP_NAME = "demo-rdl-head.mp4"


def home() -> Path:
    """Where the demo keeps its clip and spool: `$XDG_CACHE_HOME/hinge-edge` (or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hinge-edge"


def ensure_demo_clip(folder: Path | None = None) -> Path:
    """Renders the demo clip unless it is already there; returns its path."""
    folder = folder or home()
    clip = folder / DEMO_CLIP_NAME
    if clip.is_file() and truth_path(clip).is_file():
        return clip
    folder.mkdir(parents=True, exist_ok=True)
    logger.info("rendering the demo athlete into %s (once; about half a minute)", clip)
    render_clip(DEMO_SPEC, DEMO_CAMERA, clip, seed=DEMO_SEED)
    return clip
