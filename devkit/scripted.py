"""The pose stage scripted for tests that are not about pose: no ONNX model loads.

`truth_keypoints` writes a rendered clip's true landmarks as a keypoints file; run as
`python -m devkit.scripted KEYPOINTS CLIP ARGS...`, this module is `hinge-edge ARGS` with
every camera's pose stage a `ScriptedPoseEstimator` replaying KEYPOINTS, each frame found
by its picture in CLIP (the daemon tests' child process).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from edge.keypoints import KeypointTrack
from edge.types import NUM_LANDMARKS, Poses

HIDDEN_VISIBILITY = 0.5
"""The visibility given to a landmark the truth has hidden (the far side in a side view):
BlazePose places those too, with a middling visibility, and the scorer reads the view
from both shoulders and hips (at 0 every side view would read as a front view)."""


def truth_poses(frame: dict[str, Any]) -> Poses:
    """A rendered frame's true athlete (`render_clip`'s truth) as one person, 2-D only."""
    xy = np.asarray(frame["xy_px"], np.float32)[None]
    visible = np.asarray(frame["visible"], bool)[None]
    k = NUM_LANDMARKS
    return Poses(
        xy=xy,
        z=np.zeros((1, k), np.float32),
        visibility=np.where(visible, 1.0, HIDDEN_VISIBILITY).astype(np.float32),
        presence=np.ones((1, k), np.float32),
        world=np.full((1, k, 3), np.nan, np.float32),  # none: the scorer works in 2-D
        score=np.ones(1, np.float32),
        roi=np.full((1, 4), np.nan, np.float32),
    )


def truth_keypoints(clip: Path, truth: dict[str, Any], out: Path) -> Path:
    """Writes the clip's true landmarks as the keypoints file `out`; returns `out`."""
    track = KeypointTrack(
        frame_size=tuple(truth["frame_size"]), fps=truth["fps"], source=clip.name, model="truth"
    )
    for frame in truth["frames"]:
        track.append(frame["t_s"], truth_poses(frame))
    track.save(out)
    return out


def main(argv: list[str]) -> int:
    """`hinge-edge ARGV[2:]` with the daemon's pose stage replaying ARGV[0] on clip ARGV[1]."""
    import edge.daemon.app as app
    from edge.cli import main as edge_main
    from edge.pose.scripted import ScriptedPoseEstimator

    keypoints, clip, *args = argv
    script = ScriptedPoseEstimator.from_file(Path(keypoints), Path(clip))

    def scripted(config, zone=None, models=None, mask_model=None) -> ScriptedPoseEstimator:
        return ScriptedPoseEstimator(script.track, config, zone, script.prints)

    app.load_pose_models = lambda config: ()
    app.load_mask_model = lambda config: None  # no back check: the script has no masks
    app.PoseEstimator = scripted
    return edge_main(args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
