"""The `hinge-edge` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from edge import __version__
from edge.config import PoseConfig
from edge.errors import EdgeError
from edge.log import setup_logging

logger = logging.getLogger("edge.cli")


def _parse_zone(text: str) -> list[tuple[float, float]]:
    """Parses `x,y;x,y;x,y...` (relative coordinates) into vertices."""
    try:
        return [tuple(float(v) for v in pair.split(",")) for pair in text.split(";")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"zone must look like 0.2,0.1;0.8,0.1;0.8,0.9 ({err})"
        ) from err


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hinge-edge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hinge-edge {__version__}")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="run the pipeline over a video file")
    replay.add_argument("video", type=Path, help="video file (mp4, mov, avi, ...)")
    replay.add_argument(
        "--keypoints",
        type=Path,
        metavar="OUT.npz",
        help="write per-frame landmarks (see docs/keypoints.md)",
    )
    replay.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="landmark model by manifest name (default: blazepose_full_fp32)",
    )
    replay.add_argument(
        "--models-dir", type=Path, default=None, help="folder with the models and manifest.json"
    )
    replay.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    replay.add_argument(
        "--zone",
        type=_parse_zone,
        default=None,
        metavar="X,Y;X,Y;...",
        help="platform zone, relative coordinates (default: whole frame)",
    )
    replay.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    return parser


def _run_replay(args: argparse.Namespace) -> int:
    from edge.pose import PoseEstimator
    from edge.replay import replay_keypoints
    from edge.zone import Zone

    if args.keypoints is None:
        raise EdgeError("replay needs an output: --keypoints OUT.npz")
    overrides = {"threads": args.threads, "models_dir": args.models_dir}
    if args.model:
        overrides["landmark_model"] = args.model
    config = PoseConfig(**overrides)
    try:
        zone = Zone(args.zone) if args.zone else None
    except ValueError as err:
        raise EdgeError(f"--zone: {err}") from err
    estimator = PoseEstimator(config, zone)
    track, summary = replay_keypoints(args.video, estimator, args.max_frames)
    track.save(args.keypoints)
    fps = summary.frames / max(summary.seconds, 1e-9)
    print(
        f"{args.video.name}: {summary.frames} frames, pose on {summary.frames_with_pose}, "
        f"detector ran {summary.detector_runs}x, {fps:.1f} fps -> {args.keypoints}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the process exit code."""
    args = _build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        if args.command == "replay":
            return _run_replay(args)
    except EdgeError as err:
        logger.error("%s", err)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
