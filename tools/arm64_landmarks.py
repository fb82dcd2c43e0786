"""Issue 8: do the landmark models answer the same on arm64 as on x86, same crops?

One file, three steps, so the middle one can run inside the arm64 image under qemu with
the image's own Python and installed packages (numpy, onnxruntime, `edge`):

    .venv/bin/python -m tools.arm64_landmarks write DIR        # host: crops, models, x86 outputs
    python3 DIR/arm64_landmarks.py run DIR                     # arm64 (emulated): same crops
    .venv/bin/python -m tools.arm64_landmarks compare DIR      # host: the differences

``write`` renders synthetic athletes (`edge.synth`, seeded), takes the exact crops our
FP32 pipeline feeds the landmark model (detector, ROI, tracking: the INT8 research's
`research/int8/calibration_crops.py`), copies every landmark model of the manifest with
its sha256 into ``DIR/models`` and runs each on the crops (onnxruntime, one thread).
``run`` does the same on whatever machine it runs on, refusing a model whose bytes differ
from the recorded sha256. ``compare`` reports per model the largest differences between
the two machines: landmarks in 256-px crop pixels, pose flag, heatmap, world landmarks
(metres). `tools/arm64_proof.sh` runs all three.

FP32 must agree to float rounding (0.01 px). The INT8 models cannot: onnxruntime's
integer kernels (x86 AVX-512 VNNI vs arm64 NEON) requantize every layer's int32 sums
with their own rounding, one-LSB differences that add up over fifty layers (measured:
0.5-0.6 px on average, several px on a few points; docs/int8.md). They must stay under
``--int8-mean-px`` on average, which catches a broken kernel, not rounding.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.pose.manifest import sha256_file

ROOT = Path(__file__).resolve().parents[1]
BODY = 33


def run_models(folder: Path) -> Path:
    """Runs every model of `folder/models.json` on `folder/crops.npy`; writes the outputs."""
    listing = json.loads((folder / "models.json").read_text())
    crops = np.load(folder / "crops.npy")
    machine = platform.machine().lower()
    outputs: dict[str, np.ndarray] = {}
    for name, info in listing.items():
        path = folder / "models" / info["file"]
        if sha256_file(path) != info["sha256"]:
            raise SystemExit(f"error: {path} is not the file recorded for {name} (sha256)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        runs = [session.run(names, {"image": x[None]}) for x in crops]
        for i, out in enumerate(names):
            outputs[f"{name}/{out}"] = np.concatenate([r[i] for r in runs])
    out_file = folder / f"outputs-{machine}.npz"
    np.savez(out_file, **outputs)
    print(f"{machine}: {len(listing)} models x {len(crops)} crops, onnxruntime {ort.__version__}")
    return out_file


def write(folder: Path, count: int, seed: int) -> None:
    """Host side: crops of rendered athletes, the models, and their x86 outputs."""
    # Imported here: `run` works in the image, which has `edge` but neither this
    # checkout's research/ nor a renderer's dependencies.
    from edge.pose import load_pose_models
    from edge.pose.config import PoseConfig
    from edge.pose.manifest import load_manifest
    from research.int8.calibration_crops import RecordingEstimator, record_frame, sample_scene

    config = PoseConfig(threads=1)
    estimator = RecordingEstimator(config, load_pose_models(config))
    rng = np.random.default_rng(seed)
    crops = []
    while len(crops) < count:
        frame, _label, _params = sample_scene(rng)
        tracked = [c for c in record_frame(estimator, frame, 2) if c[0] == "track"]
        if tracked:
            crops.append(tracked[-1][2][0])
    (folder / "models").mkdir(parents=True, exist_ok=True)
    np.save(folder / "crops.npy", np.stack(crops).astype(np.float32))
    listing = {}
    for name, spec in sorted(load_manifest(ROOT / "models").items()):
        if spec.role != "landmarks":
            continue
        shutil.copyfile(ROOT / "models" / spec.file, folder / "models" / spec.file)
        listing[name] = {"file": spec.file, "sha256": spec.sha256, "precision": spec.precision}
    (folder / "models.json").write_text(json.dumps(listing, indent=1) + "\n")
    shutil.copyfile(__file__, folder / Path(__file__).name)
    run_models(folder)


def compare(folder: Path) -> dict:
    """Largest differences between the x86 and arm64 outputs, per model."""
    x86 = np.load(folder / "outputs-x86_64.npz")
    arm = np.load(folder / "outputs-aarch64.npz")
    listing = json.loads((folder / "models.json").read_text())
    report = {}
    for name, info in listing.items():
        a, b = x86[f"{name}/landmarks"], arm[f"{name}/landmarks"]
        shift = a.reshape(-1, 39, 5)[:, :BODY, :2] - b.reshape(-1, 39, 5)[:, :BODY, :2]
        xy = np.linalg.norm(shift, axis=-1)  # per body landmark, 256-px crop pixels
        report[name] = {
            "precision": info["precision"],
            "crops": int(a.shape[0]),
            "landmarks_px_max": float(xy.max()),
            "landmarks_px_mean": float(xy.mean()),
            "pose_flag_max": float(
                np.abs(x86[f"{name}/pose_flag"] - arm[f"{name}/pose_flag"]).max()
            ),
            "heatmap_logit_max": float(
                np.abs(x86[f"{name}/heatmap"] - arm[f"{name}/heatmap"]).max()
            ),
            "world_m_max": float(
                np.abs(x86[f"{name}/world_landmarks"] - arm[f"{name}/world_landmarks"]).max()
            ),
            "identical": all(
                np.array_equal(x86[k], arm[k]) for k in x86.files if k.startswith(f"{name}/")
            ),
        }
    (folder / "compare.json").write_text(json.dumps(report, indent=1) + "\n")
    print("| model | crops | landmarks max / mean (px, 256 crop) | flag max | world max (m) |")
    print("|---|---|---|---|---|")
    for name, r in report.items():
        print(
            f"| {name} | {r['crops']} | {r['landmarks_px_max']:.4f} / {r['landmarks_px_mean']:.5f}"
            f" | {r['pose_flag_max']:.2e} | {r['world_m_max']:.2e} |"
            + (" bit-identical" if r["identical"] else "")
        )
    return report


def main(argv: list[str] | None = None) -> int:
    """Dispatches the step."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("write", "run", "compare"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=12, help="write: crops to render")
    parser.add_argument("--seed", type=int, default=0, help="write: scene seed")
    parser.add_argument(
        "--fp32-max-px",
        type=float,
        default=0.01,
        help="compare: largest FP32 landmark difference allowed (float rounding only)",
    )
    parser.add_argument(
        "--int8-mean-px",
        type=float,
        default=1.0,
        help="compare: largest mean INT8 landmark difference allowed (a broken kernel, not "
        "rounding: the integer kernels requantize differently per instruction set)",
    )
    args = parser.parse_args(argv)
    if args.step == "write":
        write(args.folder, args.count, args.seed)
    elif args.step == "run":
        run_models(args.folder)
    else:
        failed = []
        for name, r in compare(args.folder).items():
            if r["precision"] != "int8" and r["landmarks_px_max"] > args.fp32_max_px:
                failed.append(f"{name}: up to {r['landmarks_px_max']:.4f} px")
            if r["precision"] == "int8" and r["landmarks_px_mean"] > args.int8_mean_px:
                failed.append(f"{name}: {r['landmarks_px_mean']:.3f} px on average")
        if failed:
            print("error: arm64 and x86 disagree beyond tolerance: " + "; ".join(failed))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
