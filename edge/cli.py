"""The `hinge-edge` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from edge import __version__, cli_users
from edge.errors import EdgeError
from edge.hinge.config import FAULT_CODES, HINGE_EXERCISES
from edge.log import setup_logging

if TYPE_CHECKING:
    from edge.synth.clip import ClipCamera

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
    _add_synth(commands.add_parser("synth", help="render a synthetic athlete doing a set"))
    check = commands.add_parser("check-config", help="validate a config file and summarise it")
    check.add_argument("config", type=Path, help="YAML config file (see docs/config.md)")
    run = commands.add_parser(
        "run", help="run the daemon: cameras in, rep events out over MQTT (SIGTERM stops)"
    )
    run.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config file (see docs/config.md); default: a rendered demo camera and a "
        "local broker",
    )
    hub = commands.add_parser(
        "hub",
        help="the chain's hub: central broker -> PostgreSQL, and the chain dashboard "
        "(needs the hub extra; SIGTERM stops)",
    )
    hub.add_argument("--config", type=Path, required=True, help="the hub's YAML (docs/chain.md)")
    hub.add_argument("--no-web", action="store_true", help="ingest only, no dashboard")
    cli_users.add_commands(commands)
    return parser


def _parse_fault(text: str) -> tuple[str, float]:
    """`code` or `code=severity` (severity in [0, 1], default 0.8)."""
    code, _, value = text.partition("=")
    if code not in FAULT_CODES:
        raise argparse.ArgumentTypeError(f"unknown fault {code!r}; known: {', '.join(FAULT_CODES)}")
    try:
        severity = float(value) if value else 0.8
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text}: severity must be a number") from err
    if not 0 <= severity <= 1:
        raise argparse.ArgumentTypeError(f"{text}: severity must lie in [0, 1]")
    return code, severity


def _add_synth(synth: argparse.ArgumentParser) -> None:
    synth.add_argument("out", type=Path, help="video to write (.mp4); truth goes to .truth.json")
    synth.add_argument("--exercise", default="rdl", choices=list(EXERCISES))
    synth.add_argument("--reps", type=int, default=5)
    synth.add_argument(
        "--fault",
        type=_parse_fault,
        action="append",
        default=[],
        metavar="CODE[=SEVERITY]",
        help="inject a fault (repeatable)",
    )
    synth.add_argument(
        "--view",
        default="side_left",
        choices=["side_left", "side_right", "oblique_left", "oblique_right", "front"],
    )
    synth.add_argument("--seed", type=int, default=0, help="body, clothes, gym and noise")
    synth.add_argument("--speed", type=float, default=1.0, help="tempo factor (0.5: 2x fast)")
    synth.add_argument("--start", choices=["top", "floor"], default=None)
    synth.add_argument("--distance", type=float, default=3.5, help="camera distance, metres")
    synth.add_argument("--camera-height", type=float, default=1.2, help="metres")
    synth.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    synth.add_argument("--fps", type=float, default=30.0)
    lens = synth.add_mutually_exclusive_group()
    lens.add_argument(
        "--fov",
        type=_parse_fov,
        default=None,
        metavar="DEG",
        help="horizontal field of view, 20-120 degrees (default 70.8: f = 900 px at 1280 wide)",
    )
    lens.add_argument(
        "--lens",
        choices=["wide", "standard", "narrow", "tele"],
        default=None,
        help="named lens: wide 100 deg (2.8 mm CCTV), standard 70.8, narrow 55, tele 40",
    )
    synth.add_argument(
        "--passers-by",
        type=_parse_passers_by,
        default=0,
        metavar="N",
        help="people walking across the picture, 0-6, placed from --seed",
    )
    synth.add_argument(
        "--second-athlete",
        action="store_true",
        help="someone doing their own set on a neighbouring platform, placed from --seed",
    )


def _parse_fov(text: str) -> float:
    """A horizontal field of view in degrees, within the range the renderer offers."""
    from edge.synth.clip import FOV_RANGE_DEG

    lo, hi = FOV_RANGE_DEG
    try:
        fov = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"must be a number of degrees, got {text!r}") from err
    if not lo <= fov <= hi:
        raise argparse.ArgumentTypeError(
            f"must be {lo:g}-{hi:g} degrees (a pinhole lens, no distortion), got {text}"
        )
    return fov


def _parse_passers_by(text: str) -> int:
    """How many passers-by: a whole number within the renderer's limit."""
    from edge.synth.crowd import MAX_PASSERS_BY

    try:
        count = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"must be a whole number 0-{MAX_PASSERS_BY}, got {text!r}"
        ) from err
    if not 0 <= count <= MAX_PASSERS_BY:
        raise argparse.ArgumentTypeError(f"must be a whole number 0-{MAX_PASSERS_BY}, got {text}")
    return count


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
        "--no-back-check",
        action="store_true",
        help="skip the back's outline (the mask model on a few frames a rep: docs/back.md)",
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
    replay.add_argument(
        "--fps",
        type=float,
        default=0.0,
        help="analyse at most this many frames a second, as a camera's analysis_fps does "
        "(default: every frame)",
    )
    replay.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write an HTML report into DIR: angle traces, a rep table, key frames and an "
        "annotated video (see docs/report.md). It shows the person filmed: keep it private",
    )


def _run_replay(args: argparse.Namespace) -> int:
    from edge.capture.video import probe_video
    from edge.contract import RepEvent
    from edge.hinge import HingeConfig, HingeScorer
    from edge.pose import PoseConfig, PoseEstimator, load_mask_model
    from edge.replay import replay
    from edge.zone import Zone

    if args.keypoints is None and args.events is None and args.report is None:
        raise EdgeError(
            "replay needs an output: --keypoints OUT.npz, --events OUT.jsonl and/or --report DIR"
        )
    if not args.fps >= 0:  # NaN too
        raise EdgeError(f"--fps must be 0 (every frame) or more, not {args.fps:g}")
    probe_video(args.video)  # before the models load: a wrong path is told at once
    overrides = {"threads": args.threads, "models_dir": args.models_dir}
    if args.model:
        overrides["landmark_model"] = args.model
    try:
        zone = Zone(args.zone) if args.zone else None
    except ValueError as err:
        raise EdgeError(f"--zone: {err}") from err
    pose = PoseConfig(**overrides)
    scoring = args.events is not None or args.report is not None
    back = scoring and not args.no_back_check
    estimator = PoseEstimator(pose, zone, mask_model=load_mask_model(pose) if back else None)
    camera = args.camera_id or args.video.stem
    scorer = recorder = None
    if scoring:
        config = HingeConfig(exercise=args.exercise, back={"enabled": back})
        scorer = HingeScorer(config, session_id=camera)
    if args.report is not None:
        from edge.report import TraceRecorder

        recorder = TraceRecorder(scorer)
    result = replay(args.video, estimator, scorer, args.max_frames, camera, recorder, args.fps)
    if args.keypoints is not None:
        result.track.save(args.keypoints)
    if args.events is not None:
        lines = [event.to_json() + "\n" for event in result.events]
        args.events.write_text("".join(lines), encoding="utf-8")
    reps = sum(1 for e in result.events if isinstance(e, RepEvent))
    fps = result.frames / max(result.seconds, 1e-9)
    print(
        f"{args.video.name}: {result.frames} frames, pose on {result.frames_with_pose}, "
        f"detector ran {result.detector_runs}x, back seen on {result.frames_masked}, "
        f"{fps:.1f} fps" + (f", {reps} reps" if scorer is not None else "")
    )
    if recorder is not None:
        from edge.report import write_report

        trace = recorder.trace(result.events, result.outlines)
        page = write_report(args.report, args.video, trace, result.events, camera, args.exercise)
        print(f"report: {page} (shows the person filmed: keep it private)")
    return 0


def _run_synth(args: argparse.Namespace) -> int:
    from edge.synth.clip import render_clip, truth_path
    from edge.synth.crowd import Extras
    from edge.synth.motion import MotionSpec

    spec = MotionSpec(
        exercise=args.exercise,
        reps=args.reps,
        faults=dict(args.fault),
        speed=args.speed,
        start=args.start,
    )
    extras = Extras(passers_by=args.passers_by, second_athlete=args.second_athlete)
    truth = render_clip(
        spec, _synth_camera(args), args.out, args.seed, extras=extras if extras.wanted else None
    )
    others = [o["kind"].replace("_", "-") for o in truth.get("others", [])]
    print(
        f"{args.out}: {len(truth['frames'])} frames, {len(truth['reps'])} reps of "
        f"{args.exercise}, faults {truth['faults'] or 'none'}"
        + (f", with {', '.join(others)}" if others else "")
        + f" -> {truth_path(args.out)}"
    )
    return 0


def _synth_camera(args: argparse.Namespace) -> ClipCamera:
    """The `synth` camera from --view, --distance, --camera-height, --size, --fov / --lens."""
    from edge.synth.clip import LENS_FOV_DEG, ClipCamera, focal_for_fov

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError as err:
        raise EdgeError(f"--size must look like 1280x720, got {args.size!r}") from err
    fov = LENS_FOV_DEG[args.lens] if args.lens not in (None, "standard") else args.fov
    return ClipCamera(
        view=args.view,
        distance_m=args.distance,
        height_m=args.camera_height,
        width_px=width,
        height_px=height,
        focal_px=900.0 * width / 1280 if fov is None else focal_for_fov(width, fov),
        fps=args.fps,
    )


def _run_check_config(args: argparse.Namespace) -> int:
    """Prints each problem as `key.path: message` (exit 1), or a summary (exit 0)."""
    from edge.errors import ConfigError
    from edge.settings import load_settings, summarize

    try:
        settings = load_settings(args.config)
    except ConfigError as err:
        count = f"{len(err.issues)} problem{'s' if len(err.issues) != 1 else ''}"
        print(f"{args.config}: invalid configuration ({count})", file=sys.stderr)
        for issue in err.issues:
            print(issue, file=sys.stderr)
        return 1
    print("\n".join(summarize(settings, args.config)))
    return 0


def _run_daemon(args: argparse.Namespace) -> int:
    """Loads the config (or the embedded demo), runs until SIGTERM / SIGINT."""
    import signal

    from edge.daemon.app import Daemon
    from edge.errors import ConfigError
    from edge.settings import default_settings, load_settings
    from edge.synth.demo import DEMO_CLIP_NAME, ensure_demo_clip, home

    try:
        if args.config is None:
            # Environment overrides are checked before the clip is rendered (half a minute).
            settings = default_settings(home() / DEMO_CLIP_NAME, home() / "spool")
            ensure_demo_clip()
        else:
            settings = load_settings(args.config)
    except ConfigError as err:
        where = args.config or "the embedded default (with HINGE_EDGE_* overrides)"
        print(f"{where}: invalid configuration, not starting", file=sys.stderr)
        for issue in err.issues or [str(err)]:
            print(issue, file=sys.stderr)
        return 1
    setup_logging(settings.log.level, settings.log.format)
    daemon = Daemon(settings)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: daemon.request_stop())
    daemon.run()
    return 0


def _run_hub(args: argparse.Namespace) -> int:
    """The hub, if its PostgreSQL driver is installed."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print(
            "hinge-edge hub needs PostgreSQL's driver: pip install 'hinge-edge[hub]'",
            file=sys.stderr,
        )
        return 1
    from edge.hub.app import run_hub

    return run_hub(args.config, web=not args.no_web)


def _quiet_opencv() -> None:
    """Keeps OpenCV's and FFmpeg's own stderr lines out of the output.

    A file that is not a video gets "[ WARN:0@0.2] global cap.cpp:212 open VIDEOIO(FFMPEG):
    ... can't be used to capture by name" and "[mov,mp4,...] moov atom not found" before
    our error, which says it better (the daemon's camera errors too). Both levels are read
    once, at the first capture opened: this runs before any. Variables the user set win
    (for debugging OpenCV itself).
    """
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the process exit code."""
    args = _build_parser().parse_args(argv)
    if args.log_level != "debug":
        _quiet_opencv()
    setup_logging(args.log_level)
    try:
        if args.command == "replay":
            return _run_replay(args)
        if args.command == "synth":
            return _run_synth(args)
        if args.command == "check-config":
            return _run_check_config(args)
        if args.command == "run":
            return _run_daemon(args)
        if args.command == "hub":
            return _run_hub(args)
        if args.command in ("users", "display-token", "scrape-token"):
            return cli_users.run(args)
    except EdgeError as err:
        logger.error("%s", err)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
