"""The `hinge-edge` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from edge import __version__
from edge.config import PoseConfig
from edge.errors import EdgeError
from edge.hinge.config import HINGE_EXERCISES
from edge.log import setup_logging

logger = logging.getLogger("edge.cli")
EXERCISES = (*HINGE_EXERCISES, "squat")


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
    _add_replay(commands.add_parser("replay", help="run the pipeline over a video file"))
    return parser


def _add_replay(replay: argparse.ArgumentParser) -> None:
    replay.add_argument("video", type=Path, help="video file (mp4, mov, avi, ...)")
    replay.add_argument(
        "--keypoints",
        type=Path,
        metavar="OUT.npz",
        help="write per-frame landmarks (see docs/keypoints.md)",
    )
    replay.add_argument(
        "--events",
        type=Path,
        metavar="OUT.jsonl",
        help="write rep and set events, one JSON object per line (see docs/events.md)",
    )
    replay.add_argument(
        "--exercise",
        default=None,
        choices=list(EXERCISES),
        help="fix the exercise instead of recognising it",
    )
    replay.add_argument(
        "--camera-id",
        default=None,
        help="camera name in events and their ids (default: the file name)",
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


def _run_replay(args: argparse.Namespace) -> int:
    from edge.events import to_json
    from edge.hinge import HingeConfig, HingeScorer
    from edge.pose import PoseEstimator
    from edge.replay import replay
    from edge.zone import Zone

    if args.keypoints is None and args.events is None:
        raise EdgeError("replay needs an output: --keypoints OUT.npz and/or --events OUT.jsonl")
    overrides = {"threads": args.threads, "models_dir": args.models_dir}
    if args.model:
        overrides["landmark_model"] = args.model
    try:
        zone = Zone(args.zone) if args.zone else None
    except ValueError as err:
        raise EdgeError(f"--zone: {err}") from err
    estimator = PoseEstimator(PoseConfig(**overrides), zone)
    camera = args.camera_id or args.video.stem
    scorer = None
    if args.events is not None:
        scorer = HingeScorer(HingeConfig(exercise=args.exercise), session_id=camera)
    result = replay(args.video, estimator, scorer, args.max_frames, camera)
    if args.keypoints is not None:
        result.track.save(args.keypoints)
    if args.events is not None:
        lines = [to_json(event) + "\n" for event in result.events]
        args.events.write_text("".join(lines), encoding="utf-8")
    reps = sum(1 for e in result.events if e["event"] == "rep")
    fps = result.frames / max(result.seconds, 1e-9)
    print(
        f"{args.video.name}: {result.frames} frames, pose on {result.frames_with_pose}, "
        f"detector ran {result.detector_runs}x, {fps:.1f} fps"
        + (f", {reps} reps" if scorer is not None else "")
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
