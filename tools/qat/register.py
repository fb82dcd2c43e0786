"""Finish a QAT run: canonical file, proof it is quantized, and (only if it passes) models/.

Runs in the project venv (`.venv`), not in `.venv-qat`: it needs only onnx, onnxruntime
and the project's own tools.

``export`` takes one checkpoint's ONNX from `tools/qat/train.py` and writes it with
canonical metadata and deterministic serialization (so equal weights give equal bytes),
then checks that it is really quantized: QuantizeLinear/DequantizeLinear in the file,
QLinearConv/QLinearAdd after onnxruntime's graph optimisation.

``ship`` copies it into ``models/`` as ``blazepose_full_int8_qat`` with its manifest
entry, and only if the `tools/eval_int8.py` report for exactly that file (same sha256)
meets the whole bar: every angle median <= 2 deg and p95 <= 5 deg on the same crops and
in the pipeline, unchanged rep counts and fault codes on every clip, pose-flag agreement
>= 99% in both modes.

Usage:
    .venv/bin/python tools/qat/register.py export .cache/qat/qat-step00700.onnx
    .venv/bin/python tools/eval_int8.py --model .cache/qat/pose_landmark_full_int8_qat.onnx \
        --json .cache/qat/eval.json
    .venv/bin/python tools/qat/register.py ship --eval .cache/qat/eval.json
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from eval_int8 import figures_entry  # noqa: E402
from quantize_pose import FP32_NAME, INT8_NAME, merge_entry, read_manifest, tool_versions  # noqa: E402

from edge.pose.manifest import sha256_file  # noqa: E402

QAT_NAME = "blazepose_full_int8_qat"
QAT_FILE = "pose_landmark_full_int8_qat.onnx"
STAGING = ROOT / ".cache" / "qat" / QAT_FILE
FLAG_BAR = 0.99


def canonical_bytes(model: onnx.ModelProto) -> bytes:
    """The model with fixed producer/doc fields, serialized deterministically."""
    model.producer_name = "hinge-edge tools/qat"
    model.producer_version = "1"
    model.doc_string = ""
    model.graph.doc_string = ""
    model.graph.name = QAT_NAME
    del model.metadata_props[:]
    for node in model.graph.node:
        node.doc_string = ""
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


def quantized_ops(path: Path) -> dict[str, dict[str, int]]:
    """Op counts in the file and in onnxruntime's optimised graph (1 thread)."""
    in_file = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(str(path), options)
        optimized = collections.Counter(
            n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node
        )
    return {"file": dict(sorted(in_file.items())), "optimized": dict(sorted(optimized.items()))}


def check_quantized(ops: dict[str, dict[str, int]]) -> None:
    """Raises SystemExit unless the model carries QDQ pairs that onnxruntime fuses."""
    file_ops, optimized = ops["file"], ops["optimized"]
    if not file_ops.get("QuantizeLinear") or not file_ops.get("DequantizeLinear"):
        raise SystemExit("error: no QuantizeLinear/DequantizeLinear nodes: not a QDQ model")
    if not optimized.get("QLinearConv", 0) + optimized.get("ConvInteger", 0):
        raise SystemExit("error: onnxruntime fused no integer convolution: not quantized")


def cmd_export(args: argparse.Namespace) -> int:
    """Writes the canonical staging file and prints its op counts."""
    data = canonical_bytes(onnx.load(args.model))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    ops = quantized_ops(args.out)
    check_quantized(ops)
    print(json.dumps({"file": str(args.out), "sha256": sha256_file(args.out), **ops}, indent=1))
    return 0


def bar_failures(report: dict[str, Any]) -> list[str]:
    """What the evaluation report misses of the bar (empty when it passes)."""
    failures = []
    for mode in ("same_crops", "pipeline"):
        if not report[mode]["meets_bar"]:
            failures.append(f"{mode}: angles {report[mode]['angles_deg']}")
        if report[mode]["flag_agreement"] < FLAG_BAR:
            failures.append(f"{mode}: pose-flag agreement {report[mode]['flag_agreement']}")
    reps = report["reps"]
    if not reps["unchanged"]:
        failures.append(f"rep counts differ on {reps['clips_differing']}")
    if reps["paired_reps_same_faults"] != reps["paired_reps"]:
        failures.append(
            f"fault codes differ: {reps['paired_reps_same_faults']}/{reps['paired_reps']} same"
        )
    return failures


def manifest_entry(path: Path, report: dict, recipe: dict, ops: dict) -> dict[str, Any]:
    """The manifest entry of the QAT model."""
    entries = {e["name"]: e for e in read_manifest()["models"]}
    fp32, ptq = entries[FP32_NAME], entries[INT8_NAME]
    figures = figures_entry(report)
    figures["pose_flag_bar"] = FLAG_BAR
    return {
        "name": QAT_NAME,
        "file": QAT_FILE,
        "role": "landmarks",
        "precision": "int8",
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "inputs": fp32["inputs"],
        "outputs": fp32["outputs"],
        "license": fp32["license"],
        "source": fp32["source"],
        "build": "make qat",
        "quantization": {
            "format": "QDQ",
            "method": "quantization-aware distillation (tools/qat/train.py)",
            "structure_from": {"name": INT8_NAME, "sha256": ptq["sha256"]},
            "base_model": {"name": FP32_NAME, "file": fp32["file"], "sha256": fp32["sha256"]},
            "training": recipe,
            "ops": ops,
            "tools": tool_versions(),
        },
        "figures": figures,
    }


def cmd_ship(args: argparse.Namespace) -> int:
    """Copies the staging file into models/ and registers it, if it passed."""
    report = json.loads(args.eval.read_text())
    sha = sha256_file(args.staging)
    if report["model_sha256"] != sha:
        raise SystemExit(f"error: {args.eval} evaluated another file than {args.staging}")
    failures = bar_failures(report)
    if failures:
        raise SystemExit("error: the bar is not met; nothing shipped:\n  " + "\n  ".join(failures))
    ops = quantized_ops(args.staging)
    check_quantized(ops)
    recipe = json.loads(args.recipe.read_text())
    target = ROOT / "models" / QAT_FILE
    shutil.copyfile(args.staging, target)
    merge_entry(manifest_entry(target, report, recipe, ops))
    print(f"shipped {target} ({sha[:16]}...) as {QAT_NAME}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="canonical staging file + quantization check")
    export.add_argument("model", type=Path, help="a qat-stepNNNNN.onnx from train.py")
    export.add_argument("--out", type=Path, default=STAGING)
    ship = sub.add_parser("ship", help="into models/ if the evaluation meets the bar")
    ship.add_argument("--eval", type=Path, required=True, help="tools/eval_int8.py --json")
    ship.add_argument("--staging", type=Path, default=STAGING)
    ship.add_argument("--recipe", type=Path, default=ROOT / ".cache" / "qat" / "recipe.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Dispatches the subcommand."""
    args = parse_args(argv)
    return cmd_export(args) if args.command == "export" else cmd_ship(args)


if __name__ == "__main__":
    sys.exit(main())
