"""The labelled dev clips of `../shared/data`: their labels, and their landmarks, cached.

Test and measurement material only: nothing here copies a clip into the project. Tracks
(the pose stage's landmarks of every frame) are cached under `.cache/tracks/<key>/`, keyed
by the pose code and the models, so the hinge engine can be re-scored in seconds.

    .venv/bin/python -m tools.devclips extract [--jobs 2] [--perturb NAME ...] [--model NAME]
                                               [--back] [--fps F]
    .venv/bin/python -m tools.devclips rekey OLD_KEY    # after a change that moves no landmark

A perturbation (see `PERTURBATIONS`) re-delivers a clip as another camera would (scaled
down, re-encoded, trimmed, another frame rate, slight noise) with ffmpeg, then runs the
real pose stage over it, so the stability check sees what a user's camera would give.

`--fps F` tracks a clip as a daemon analysing F frames a second does (`replay`'s `fps`):
the pose tracker sees only those frames, and with `--back` the mask model runs on the
frames the engine asks for at that rate. `tools.eval_real --fps F` scores such tracks
where they are cached.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge.pose.config import PoseConfig
from edge.pose.manifest import landmark_code_digest, mask_frames_digest

if TYPE_CHECKING:
    from edge.pose.runtime import OnnxModel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / ".cache" / "tracks"

# name -> ffmpeg video filter / options. Each is something a real camera or a phone does
# to the same scene: a smaller substream, a harsher encoder, a clip cut a little later,
# a lower frame rate, sensor noise.
PERTURBATIONS: dict[str, list[str]] = {
    "half": ["-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2", "-crf", "23"],
    "crf35": ["-crf", "35"],
    "trim": ["-ss", "0.2", "-crf", "18"],
    "fps15": ["-vf", "fps=15", "-crf", "18"],
    "noise": ["-vf", "noise=alls=4:allf=t", "-crf", "18"],
}
# `--model NAME+qdq-float`: an INT8 model's arithmetic run in float (`run_qdq_in_float`)
QDQ_FLOAT = "qdq-float"


@dataclass(frozen=True)
class Clip:
    """One labelled video of `labels.csv`."""

    path: str  # relative to the data folder
    exercise: str
    view: str
    reps: int
    labels: str
    trust: str

    @property
    def source(self) -> str:
        """The public repository the clip came from (the leave-one-out unit)."""
        return self.path.split("/", 1)[0]

    @property
    def name(self) -> str:
        """A short name: the file's stem, with its repository's owner where stems repeat."""
        stem = Path(self.path).stem
        generic = {"deadlift", "squat", "rdl", "video"}
        return f"{self.source.split('__')[0]}/{stem}" if stem.lower() in generic else stem


def load_clips(data: Path = DATA) -> list[Clip]:
    """The labelled videos, in `labels.csv` order.

    Raises:
        FileNotFoundError: The data folder (and its labels.csv) is absent.
    """
    with (data / "labels.csv").open(newline="") as handle:
        return [
            Clip(
                row["path"],
                row["exercise"],
                row["view"],
                int(row["reps"]),
                row["labels"],
                row["label_trust"],
            )
            for row in csv.DictReader(handle)
        ]


def pose_key() -> str:
    """The landmark caches' key (pose code and model manifest), short."""
    return landmark_code_digest(ROOT / "models")[:16]


def track_path(clip: Clip, perturb: str = "", model: str = "", fps: float = 0.0) -> Path:
    """Where the cached track of a clip (as delivered by `perturb`) lives.

    `model` is a landmark model's manifest name; '' and the config's default name are the
    same landmarks, cached once (under ''). `fps`: tracked at that analysis rate (0: every
    frame).
    """
    if model == PoseConfig().landmark_model:
        model = ""
    rate = f"|{fps:g}fps" if fps > 0 else ""
    key = hashlib.sha256(f"{clip.path}|{perturb}|{model}{rate}".encode()).hexdigest()[:16]
    return CACHE / pose_key() / f"{key}.npz"


def load_track(
    clip: Clip, perturb: str = "", model: str = "", fps: float = 0.0
) -> dict[str, np.ndarray]:
    """The cached landmarks of a clip (run `extract` first), with its back outlines if cached.

    `back` (F, 4), where `extract --back` ran: the outline on the frames the engine asked
    the mask model for (NaN rows elsewhere); absent otherwise.

    Raises:
        FileNotFoundError: Not extracted yet.
    """
    path = track_path(clip, perturb, model, fps)
    with np.load(path) as data:
        track = {k: data[k] for k in ("t", "xy", "visibility", "world", "fps", "frame_size")}
    back = back_path(clip, perturb, model, fps)
    if back.exists():
        with np.load(back) as data:
            track["back"] = data["back"]
    return track


def back_path(clip: Clip, perturb: str = "", model: str = "", fps: float = 0.0) -> Path:
    """Where a clip's back outlines (`extract --back`) are cached, beside its track."""
    tag = mask_frames_digest()[:8]  # the engine that chose the masked frames
    return track_path(clip, perturb, model, fps).with_suffix(f".back-{tag}.npz")


def perturbed_video(video: Path, perturb: str, out_dir: Path) -> Path:
    """The video re-encoded with ffmpeg as `PERTURBATIONS[perturb]` says."""
    out = out_dir / f"{video.stem}.{perturb}.mp4"
    command = ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-an", "-c:v", "libx264"]
    command += ["-preset", "veryfast", *PERTURBATIONS[perturb], "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(command, check=True)
    return out


def run_qdq_in_float(model: OnnxModel) -> None:
    """Re-opens an INT8 (QDQ) model's session with graph optimisation off.

    onnxruntime then runs each DequantizeLinear and the float operator after it instead of
    fusing them into integer kernels: the quantized model's own arithmetic, in float, the
    same on every CPU. The integer kernels differ by CPU: x86 without VNNI (AVX2 `u8s8`,
    this box) lands far from it, x86 with VNNI and arm64 within about half a pixel
    (docs/int8.md, arm64 against x86). It stands in for those CPUs; it is not one.
    """
    import onnxruntime as ort

    from edge.pose.manifest import default_models_dir

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    path = str(default_models_dir() / model.spec.file)
    # the model object's session is swapped in place: its checks and warm-up already ran
    model._session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def extract_one(job: tuple[Clip, str, str, bool, float]) -> str:
    """Runs the pose stage over one clip (perturbed if asked) and caches its track.

    With `back`, the scorer runs along and the mask model sees the frames it asks for
    (as in replay and the daemon); their outlines are cached beside the track. With an
    `fps`, the clip is analysed at that rate (the track holds those frames only).
    """
    from edge.hinge import HingeScorer
    from edge.pose import PoseEstimator, load_mask_model
    from edge.replay import replay

    clip, perturb, model, back, fps = job
    out = back_path(clip, perturb, model, fps) if back else track_path(clip, perturb, model, fps)
    if out.exists():
        return f"cached  {clip.name} {perturb}"
    out.parent.mkdir(parents=True, exist_ok=True)
    name, _, variant = model.partition("+")
    config = PoseConfig(landmark_model=name) if name else PoseConfig()
    mask = load_mask_model(config) if back else None
    estimator = PoseEstimator(config, mask_model=mask)
    if variant == QDQ_FLOAT:
        run_qdq_in_float(estimator.landmark_model)
    with tempfile.TemporaryDirectory() as tmp:
        video = DATA / clip.path
        if perturb:
            video = perturbed_video(video, perturb, Path(tmp))
        scorer = HingeScorer() if back else None
        result = replay(video, estimator, scorer, fps=fps)
        partial = out.with_suffix(".part.npz")
        if back:
            np.savez_compressed(partial, t=result.track.t, back=result.outline_rows())
        else:
            result.track.save(partial)
        partial.rename(out)
    return f"done    {clip.name} {perturb} ({result.frames} frames, {result.seconds:.0f} s)"


def extract(
    clips: Iterable[Clip],
    perturbs: list[str],
    jobs: int,
    model: str = "",
    back: bool = False,
    fps: float = 0.0,
) -> None:
    """Extracts every (clip, perturbation) track (or back outlines) not cached yet."""
    work = [(c, p, model, back, fps) for p in perturbs for c in clips]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for line in pool.map(extract_one, work):
            print(line, flush=True)


def rekey(old_key: str, clips: list[Clip], check: int = 3) -> str:
    """Carries the caches of an older pose key over to this one, once proven the same.

    A change to the pose code that cannot move a landmark (a config field's description, a
    daemon-only setting) still changes the key. The `check` shortest clips are extracted
    afresh under the new key and must match the old tracks bit for bit; then every old file
    not already there is hard-linked into the new key's folder.

    Returns:
        What was done, or why nothing was (a mismatch names the clip).
    """
    old, new = CACHE / old_key, CACHE / pose_key()
    if old == new:
        return f"{old_key} is already the key"
    if not old.is_dir():
        return f"no cache at {old}"
    cached = [c for c in clips if (old / track_path(c).name).exists()]
    probes = sorted(cached, key=lambda c: (old / track_path(c).name).stat().st_size)
    for clip in probes[:check]:
        extract_one((clip, "", "", False, 0.0))
        with np.load(old / track_path(clip).name) as a, np.load(track_path(clip)) as b:
            for name in a.files:
                floats = a[name].dtype.kind == "f"  # NaN: nobody found, in both
                if not np.array_equal(a[name], b[name], equal_nan=floats):
                    return f"{clip.name}: {name} differs from {old_key}; extract afresh"
    linked = 0
    for path in old.iterdir():
        if path.suffix == ".npz" and not (new / path.name).exists():
            (new / path.name).hardlink_to(path)
            linked += 1
    return (
        f"{len(probes[:check])} clips identical; {linked} files of {old_key} linked into {new.name}"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: `extract`, `rekey`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="cache the landmarks of every labelled clip")
    ex.add_argument("--jobs", type=int, default=2)
    ex.add_argument(
        "--perturb",
        nargs="*",
        default=[""],
        help=f"'' (as it is) and/or {', '.join(PERTURBATIONS)}; 'all' for every one",
    )
    ex.add_argument(
        "--model",
        default="",
        help=f"landmark model name (default: the config's); NAME+{QDQ_FLOAT}: an INT8 model "
        "run in float, as VNNI and arm64 CPUs come near",
    )
    ex.add_argument(
        "--back",
        action="store_true",
        help="the back outlines instead: the mask model on the frames the engine asks for",
    )
    ex.add_argument(
        "--fps",
        type=float,
        default=0.0,
        help="track as a daemon analysing this many frames a second (default: every frame)",
    )
    rk = sub.add_parser("rekey", help="carry an older pose key's caches over, once proven same")
    rk.add_argument("old_key", help="the folder name under .cache/tracks/")
    rk.add_argument("--check", type=int, default=3, help="clips re-extracted and compared")
    args = parser.parse_args(argv)
    if not (DATA / "labels.csv").exists():
        print(f"no labelled data at {DATA}", file=sys.stderr)
        return 2
    if args.command == "rekey":
        message = rekey(args.old_key, load_clips(), args.check)
        print(message)
        return 0 if "linked" in message else 1
    perturbs = ["", *PERTURBATIONS] if args.perturb == ["all"] else args.perturb
    extract(load_clips(), perturbs, args.jobs, args.model, args.back, args.fps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
