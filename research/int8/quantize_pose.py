"""Quantize the BlazePose landmark model to static INT8 (QDQ) and register it in models/.

Recipe (onnxruntime.quantization, static, QDQ format):

1. `quant_pre_process` (ONNX shape inference + onnxruntime basic graph optimisation,
   which folds the explicit Pad nodes into their convolutions; symbolic shape inference
   is skipped: every shape in this CNN is static and it would need sympy).
2. Calibration over the crops of `research/int8/calibration_crops.py` (the exact tensors our
   FP32 pipeline feeds the landmark model), fed in fixed chunks so histogram methods fit
   in memory; the calibration session runs on `--threads` threads (1 by default: the
   machine is shared, and one thread keeps float reductions in a fixed order).
3. `quantize_static`: per-channel QInt8 weights, QUInt8 activations, the chosen
   calibration method (MinMax / Percentile / Entropy), optional nodes kept in float.
4. Canonical metadata (producer, no doc strings), so the same crops and options give the
   same file, byte for byte (checked by `--check-determinism`, which quantizes twice).

The model goes to ``models/pose_landmark_full_int8.onnx`` with a manifest entry
``blazepose_full_int8`` (merged by name; every other entry is kept as it is), carrying
the recipe in ``quantization``; ``figures`` is filled by `research/int8/eval_int8.py`. Crops made
from the real clips (``--source clips``: unlicensed, debug only) are refused for
``models/``: write those models elsewhere with ``--out`` and ``--no-manifest``.

Usage:
    python -m research.int8.quantize_pose --crops .cache/calibration/synth-n500-s0.npz \
        --method percentile --percentile 99.99 --exclude-preset fieldnotes
    python -m research.int8.quantize_pose --crops ... --out /tmp/x.onnx --no-manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge.pose.manifest import sha256_file

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "models"
MANIFEST = MODELS_DIR / "manifest.json"
FP32_NAME = "blazepose_full_fp32"
INT8_NAME = "blazepose_full_int8"
INT8_FILE = "pose_landmark_full_int8.onnx"
# The old path on purpose: the name is part of the shipped file's bytes (and its sha256).
PRODUCER_NAME = "hinge-edge tools/quantize_pose.py"
PRODUCER_VERSION = "1"

LOG = logging.getLogger("quantize_pose")

# Node names of models/pose_landmark_full.onnx (canonical names from tools/build_models.py).
STEM_CONVS = ("Conv_0002", "Conv_0004", "Conv_0006")
HEAD_CONVS = ("Conv_0155", "Conv_0157", "Conv_0182", "Conv_0184")  # landmarks, flag, heatmap, world
# The pose flag stays float after its conv. Quantized, its logit gets a range calibrated
# on crops that all hold a person (min >= 0, zero point 0) and the probability comes out
# in 1/255 steps, so every negative logit reads exactly 127/255 = 0.498: the "collapsed"
# flag of FIELD-NOTES. The logit going negative is the quantized backbone's doing (see
# LOW_RES_TAIL); keeping the Sigmoid float costs nothing and keeps the flag a probability.
FLAG_TAIL = ("Sigmoid_0158",)
LAST_BACKBONE_CONVS = (  # the last three residual blocks before the heads (dw 3x3 + pw 1x1 each)
    "Conv_0140",
    "Conv_0142",
    "Conv_0145",
    "Conv_0147",
    "Conv_0150",
    "Conv_0152",
)
HEATMAP_BRANCH_CONVS = (  # the upsampling path that feeds the heatmap head
    "Conv_0160",
    "Conv_0162",
    "Conv_0165",
    "Conv_0167",
    "Conv_0171",
    "Conv_0173",
    "Conv_0177",
    "Conv_0179",
)
# Whole regions, as ranges of the node index in the canonical names (`Conv_0098` -> 98):
# keeping only a region's convs in float does not help, because the QDQ pairs left on its
# adds and clips still round the residual stream to 8 bits; the region must go whole.
LOW_RES_TAIL = (98, 154)  # the 288-channel blocks at 8x8 that end in the heads' input
MID_BLOCK = (90, 97)
STEM = (0, 18)  # the input convolution and the first blocks, at 128x128 and 64x64
STAGE2 = (19, 30)  # the next 64x64 blocks  # the block before them (864 -> 288 channels)
EXCLUDE_PRESETS: dict[str, tuple[tuple[str, ...], tuple[tuple[int, int], ...]]] = {
    "none": ((), ()),
    "flag": (FLAG_TAIL, ()),
    "heads": (HEAD_CONVS + FLAG_TAIL, ()),
    # FIELD-NOTES' best PTQ recipe: first 3 convs, the 4 heads, last 6 backbone convs.
    "fieldnotes": (STEM_CONVS + HEAD_CONVS + FLAG_TAIL + LAST_BACKBONE_CONVS, ()),
    "fieldnotes+heatmap": (
        STEM_CONVS + HEAD_CONVS + FLAG_TAIL + LAST_BACKBONE_CONVS + HEATMAP_BRANCH_CONVS,
        (),
    ),
    # First 3 convs, the whole low-resolution tail, the heads and the flag.
    "stem3+tail": (STEM_CONVS + HEAD_CONVS + FLAG_TAIL, (LOW_RES_TAIL,)),
    "stem3+mid+tail": (STEM_CONVS + HEAD_CONVS + FLAG_TAIL, (MID_BLOCK, LOW_RES_TAIL)),
    "stem4+tail": ((*STEM_CONVS, "Conv_0007", *HEAD_CONVS, *FLAG_TAIL), (LOW_RES_TAIL,)),
    # The whole 128x128 stem too (quantized alone it costs more than any later stage).
    "stem+tail": (HEAD_CONVS + FLAG_TAIL, (STEM, LOW_RES_TAIL)),
    "stem+mid+tail": (HEAD_CONVS + FLAG_TAIL, (STEM, MID_BLOCK, LOW_RES_TAIL)),
    "stem+s2+mid+tail": (HEAD_CONVS + FLAG_TAIL, (STEM, STAGE2, MID_BLOCK, LOW_RES_TAIL)),
}


def resolve_preset(name: str, node_names: list[str]) -> list[str]:
    """The node names a preset keeps in float, ranges expanded against the model's nodes."""
    names, ranges = EXCLUDE_PRESETS[name]
    chosen = set(names)
    for lo, hi in ranges:
        chosen |= {n for n in node_names if lo <= int(n.rsplit("_", 1)[-1]) <= hi}
    return sorted(chosen)


# ------------------------------------------------------------------ calibration data


def load_crops(path: Path, count: int | None) -> tuple[np.ndarray, dict[str, Any]]:
    """Loads the calibration crops and their metadata.

    Returns:
        (N, 256, 256, 3) uint8 crops (the first `count` if given) and the file's meta.
    """
    with np.load(path) as data:
        crops = data["crops"]
        meta = json.loads(str(data["meta"]))
    if count is not None:
        if count > len(crops):
            raise SystemExit(f"error: {path} holds {len(crops)} crops, {count} asked")
        crops = crops[:count]
    return crops, meta


class CropReader:
    """A `CalibrationDataReader` over uint8 crops.

    It also has the range interface of onnxruntime's chunked calibration
    (`CalibStridedMinMax`): `__len__` and `set_range`.
    """

    def __init__(self, crops: np.ndarray, input_name: str = "image") -> None:
        self.crops = crops
        self.input_name = input_name
        self.start, self.end = 0, len(crops)
        self.index = 0

    def __len__(self) -> int:
        return len(self.crops)

    def set_range(self, start_index: int, end_index: int) -> None:
        """Restricts the next pass to crops [start_index, end_index)."""
        self.start, self.end = start_index, min(end_index, len(self.crops))
        self.index = self.start

    def get_next(self) -> dict[str, np.ndarray] | None:
        """Returns the next input exactly as `PoseEstimator` builds it, or None at the end."""
        if self.index >= self.end:
            return None
        crop = self.crops[self.index]
        self.index += 1
        return {self.input_name: crop[None].astype(np.float32) * np.float32(1 / 255)}

    def rewind(self) -> None:
        """Starts over at the beginning of the current range."""
        self.index = self.start


def chunk_size(total: int, most: int) -> int:
    """The largest divisor of `total` not above `most` (onnxruntime needs equal chunks)."""
    return max(d for d in range(1, min(total, most) + 1) if total % d == 0)


class _SingleThreadCalibration:
    """Makes onnxruntime's calibration sessions use a fixed number of intra-op threads.

    onnxruntime builds the calibration session itself with default options (all cores);
    on a shared 2-core machine that is rude, and a fixed thread count keeps the float
    reductions in one order from run to run.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._saved: Any = None

    def __enter__(self) -> None:
        import onnxruntime
        from onnxruntime.quantization import calibrate

        self._saved = calibrate.CalibraterBase.create_inference_session
        threads = self.threads

        def create_inference_session(calibrater: Any) -> None:
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            calibrater.infer_session = onnxruntime.InferenceSession(
                calibrater.augmented_model_path,
                sess_options=options,
                providers=calibrater.execution_providers,
            )

        calibrate.CalibraterBase.create_inference_session = create_inference_session

    def __exit__(self, *exc: object) -> None:
        from onnxruntime.quantization import calibrate

        calibrate.CalibraterBase.create_inference_session = self._saved


# ------------------------------------------------------------------ quantization


def calibration_method(name: str) -> Any:
    """Maps the command-line method name to onnxruntime's enum."""
    from onnxruntime.quantization import CalibrationMethod

    return {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[name]


def recipe_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The quantization recipe as recorded in the manifest."""
    import onnx

    node_names = [node.name for node in onnx.load(str(args.fp32)).graph.node]
    excluded = sorted(set(resolve_preset(args.exclude_preset, node_names)) | set(args.exclude))
    recipe: dict[str, Any] = {
        "format": "QDQ",
        "mode": "static",
        "per_channel": True,
        "activations": "QUInt8",
        "weights": "QInt8",
        "method": args.method,
        "preprocess": not args.no_preprocess,
        "exclude_preset": args.exclude_preset,
        "nodes_excluded": excluded,
        "calibration_chunk": args.chunk,
    }
    if args.method == "percentile":
        recipe["percentile"] = args.percentile
        recipe["symmetric"] = args.symmetric
        recipe["num_bins"] = args.num_bins
    if args.method == "entropy":
        recipe["num_bins"] = args.num_bins
    return recipe


def calibration_cache_file(folder: Path, crops: np.ndarray, recipe: dict[str, Any]) -> Path:
    """Where the tensor ranges of these crops under this calibration recipe are cached.

    The ranges do not depend on which nodes are kept in float, so sweeps over exclusion
    sets calibrate once.
    """
    keys = ("method", "preprocess", "calibration_chunk", "percentile", "symmetric", "num_bins")
    digest = hashlib.sha256(np.ascontiguousarray(crops).tobytes())
    digest.update(json.dumps({k: recipe.get(k) for k in keys}, sort_keys=True).encode())
    return folder / f"ranges-{digest.hexdigest()[:20]}.json"


def quantize(
    fp32: Path,
    out: Path,
    crops: np.ndarray,
    recipe: dict[str, Any],
    threads: int,
    cache: Path | None = None,
) -> None:
    """Writes the INT8 model quantized from `fp32` with `recipe` over `crops`.

    `cache`: a folder for calibration ranges to reuse (sweeps only; the shipped model is
    calibrated from scratch).
    """
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="quantize_pose.") as tmp:
        source = fp32
        if recipe["preprocess"]:
            source = Path(tmp) / "preprocessed.onnx"
            quant_pre_process(str(fp32), str(source), skip_symbolic_shape=True)
        names = {node.name for node in onnx.load(str(source)).graph.node}
        # Pre-processing folds the Pads into their convolutions: a region may name them.
        missing = sorted(
            n for n in set(recipe["nodes_excluded"]) - names if not n.startswith("Pad_")
        )
        if missing:
            raise SystemExit(f"error: nodes to exclude not in the model: {missing}")
        extra: dict[str, Any] = {
            "CalibStridedMinMax": chunk_size(len(crops), recipe["calibration_chunk"]),
        }
        if recipe["method"] == "percentile":
            extra.update(
                CalibPercentile=recipe["percentile"],
                CalibTensorRangeSymmetric=recipe["symmetric"],
                CalibNumBins=recipe["num_bins"],
            )
        if recipe["method"] == "entropy":
            extra.update(CalibNumBins=recipe["num_bins"])
        raw = Path(tmp) / "quantized.onnx"
        with _SingleThreadCalibration(threads):
            quantize_static(
                str(source),
                str(raw),
                CropReader(crops),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=calibration_method(recipe["method"]),
                nodes_to_exclude=sorted(set(recipe["nodes_excluded"]) & names),
                extra_options=extra,
                calibration_cache_path=(
                    calibration_cache_file(cache, crops, recipe) if cache else None
                ),
            )
        model = onnx.load(str(raw))
    canonicalize_metadata(model)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(f".{out.name}.tmp")
    tmp_out.write_bytes(model.SerializeToString(deterministic=True))
    os.replace(tmp_out, out)


def canonicalize_metadata(model: Any) -> None:
    """Fixes everything in the file that is not the graph itself (producer, doc strings)."""
    model.producer_name = PRODUCER_NAME
    model.producer_version = PRODUCER_VERSION
    model.doc_string = ""
    model.graph.doc_string = ""
    model.graph.name = "blazepose_full_int8"
    del model.metadata_props[:]
    for node in model.graph.node:
        node.doc_string = ""
    for value in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        value.doc_string = ""


# ------------------------------------------------------------------ manifest


def read_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    """Reads models/manifest.json."""
    return json.loads(path.read_text(encoding="utf-8"))


def merge_entry(entry: dict[str, Any], path: Path = MANIFEST) -> None:
    """Adds or replaces one entry by name; other entries are kept byte for byte.

    Writes the format of tools/build_models.py: entries sorted by name, keys sorted,
    indent 2, trailing newline.
    """
    document = read_manifest(path)
    models = {e["name"]: e for e in document.get("models", [])}
    models[entry["name"]] = entry
    document["models"] = [models[name] for name in sorted(models)]
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def tool_versions() -> dict[str, str]:
    """Versions of everything that shapes the quantized bytes."""
    import onnx
    import onnxruntime

    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
        "numpy": np.__version__,
    }


def manifest_entry(
    out: Path, recipe: dict[str, Any], crops_meta: dict[str, Any], count: int, command: str
) -> dict[str, Any]:
    """The manifest entry of the INT8 model, built from the FP32 entry it derives from."""
    fp32 = {e["name"]: e for e in read_manifest()["models"]}[FP32_NAME]
    previous = {e["name"]: e for e in read_manifest()["models"]}.get(INT8_NAME, {})
    sha = sha256_file(out)
    figures = previous.get("figures", {}) if previous.get("sha256") == sha else {}
    return {
        "name": INT8_NAME,
        "file": out.name,
        "role": "landmarks",
        "precision": "int8",
        "sha256": sha,
        "bytes": out.stat().st_size,
        "inputs": fp32["inputs"],
        "outputs": fp32["outputs"],
        "license": fp32["license"],
        "source": fp32["source"],
        "build": command,
        "quantization": {
            **recipe,
            "base_model": {"name": FP32_NAME, "file": fp32["file"], "sha256": fp32["sha256"]},
            "calibration": {
                "source": crops_meta["source"],
                "seed": crops_meta.get("seed"),
                "crops": count,
                "crops_sha256": _crops_digest(crops_meta, count),
                "recipe": crops_meta.get("recipe", {}),
                "command": crops_meta.get("command", ""),
                # Crops are reproducible from the seed only with the same renderer and pose
                # code: the state they were made with.
                "code": crops_meta.get("code", {}),
                "tools": crops_meta.get("tools", {}),
            },
            "tools": tool_versions(),
        },
        "figures": figures,
    }


def _crops_digest(meta: dict[str, Any], count: int) -> str:
    if count == meta["count"]:
        return meta["crops_sha256"]
    return f"first {count} of {meta['crops_sha256']}"


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crops", type=Path, required=True, help="calibration .npz")
    parser.add_argument("--count", type=int, default=None, help="use the first N crops")
    parser.add_argument(
        "--method", choices=("minmax", "percentile", "entropy"), default="percentile"
    )
    parser.add_argument("--percentile", type=float, default=99.99)
    parser.add_argument(
        "--symmetric",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="percentile: clip |x| (onnxruntime's default) or each tail",
    )
    parser.add_argument("--num-bins", type=int, default=2048, help="histogram methods")
    parser.add_argument("--exclude-preset", choices=sorted(EXCLUDE_PRESETS), default="fieldnotes")
    parser.add_argument(
        "--exclude",
        type=lambda s: [n for n in s.split(",") if n],
        default=[],
        help="more node names to keep in float, comma-separated",
    )
    parser.add_argument("--no-preprocess", action="store_true")
    parser.add_argument("--chunk", type=int, default=50, help="crops per calibration chunk")
    parser.add_argument("--threads", type=int, default=1, help="calibration threads")
    parser.add_argument(
        "--calib-cache",
        type=Path,
        default=None,
        help="folder to cache calibration ranges in (for sweeps)",
    )
    parser.add_argument("--fp32", type=Path, default=MODELS_DIR / "pose_landmark_full.onnx")
    parser.add_argument("--out", type=Path, default=MODELS_DIR / INT8_FILE)
    parser.add_argument(
        "--no-manifest", action="store_true", help="do not write the manifest entry"
    )
    parser.add_argument(
        "--check-determinism",
        action="store_true",
        help="quantize twice and fail unless both files are identical",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Quantizes, checks, and registers the model."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    crops, meta = load_crops(args.crops, args.count)
    into_models = args.out.resolve().parent == MODELS_DIR.resolve()
    if meta.get("debug_only") and (into_models or not args.no_manifest):
        raise SystemExit(
            f"error: {args.crops} was made from {meta['source']!r} (real, unlicensed footage: "
            "debug only); write the model outside models/ with --out and --no-manifest"
        )
    if args.calib_cache and not args.no_manifest:
        raise SystemExit(
            "error: --calib-cache is for sweeps; the registered model is calibrated from scratch"
        )
    if not into_models and not args.no_manifest:
        raise SystemExit("error: a manifest entry needs the model inside models/")
    recipe = recipe_from_args(args)
    command = "python -m research.int8.quantize_pose " + shlex.join(
        str(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    LOG.info(
        "quantizing with %s over %d crops (%s, seed %s)",
        json.dumps(recipe),
        len(crops),
        meta["source"],
        meta.get("seed"),
    )
    start = time.monotonic()
    quantize(args.fp32, args.out, crops, recipe, args.threads, args.calib_cache)
    sha = sha256_file(args.out)
    LOG.info(
        "wrote %s: %d bytes, sha256 %s (%.0f s)",
        args.out,
        args.out.stat().st_size,
        sha,
        time.monotonic() - start,
    )
    if args.check_determinism:
        again = args.out.with_name(f".{args.out.stem}.again.onnx")
        try:
            quantize(args.fp32, again, crops, recipe, args.threads)
            sha_again = sha256_file(again)
        finally:
            again.unlink(missing_ok=True)
        if sha_again != sha:
            raise SystemExit(f"error: not deterministic: {sha} then {sha_again}")
        LOG.info("deterministic: a second run gave the same sha256")
    if not args.no_manifest:
        merge_entry(manifest_entry(args.out, recipe, meta, len(crops), command))
        LOG.info("manifest entry %s written", INT8_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
