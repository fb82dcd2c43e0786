"""Build the BlazePose ONNX models in ``models/`` from the pinned MediaPipe wheel.

Reproducible, offline-after-download build of the three float32 models the runtime
uses:

* ``pose_detector.onnx``: BlazePose person detector (input ``image``
  [1,224,224,3] NHWC RGB in [-1, 1]; outputs ``boxes`` [1,2254,12] and score
  logits ``scores`` [1,2254,1]).
* ``pose_landmark_full.onnx``: BlazePose GHUM "full" landmark model with the
  segmentation head removed (input ``image`` [1,256,256,3] NHWC RGB in [0, 1];
  outputs ``landmarks`` [1,195], ``pose_flag`` [1,1], ``heatmap`` [1,64,64,39]
  and ``world_landmarks`` [1,117]).
* ``pose_landmark_full_seg.onnx``: the same landmark model unpruned, with the
  person segmentation logits as a fifth output ``segmentation`` [1,256,256,1]
  (in crop pixels); the pose stage runs it instead of the pruned model only on
  the frames where the back's outline is wanted (``edge/pose/back.py``).

Steps: download ``mediapipe==0.10.14`` with ``pip download --no-deps`` and check
its sha256, extract the two ``.tflite`` files and the licence, make the
detector's sparse (DENSIFY) weights dense, convert with tf2onnx (opset 17),
rename the graph inputs/outputs, prune the segmentation head, canonicalise the
graph so that two builds are byte-identical, verify against the TFLite
interpreter, and write the models, ``LICENSE``, ``NOTICE`` and
``manifest.json``.

Run it through ``tools/build_models.sh``, which sets up the build-only venv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

LOG = logging.getLogger("build_models")

MEDIAPIPE_VERSION = "0.10.14"
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"
LICENSE_MEMBER = "mediapipe-0.10.14.dist-info/LICENSE"
# Fetch exactly the cp311 manylinux x86_64 wheel, whatever Python runs the build.
PIP_DOWNLOAD_ARGS = (
    "--no-deps",
    "--quiet",
    "--disable-pip-version-check",
    "--only-binary=:all:",
    "--platform=manylinux_2_17_x86_64",
    "--python-version=3.11",
    "--implementation=cp",
    "--abi=cp311",
)

OPSET = 17
PRODUCER_NAME = "hinge-edge tools/build_models.py"
PRODUCER_VERSION = "1"
BUILD_COMMAND = "tools/build_models.sh"
SEED = 20240508
# Allowed |ONNX - TFLite| per output, relative to max(1, max |TFLite output|).
TFLITE_RTOL = 1e-4
# Allowed |pruned - unpruned| for the outputs the pruned model keeps.
PRUNE_ATOL = 1e-6
# Allowed |sigmoid(ONNX) - sigmoid(TFLite)| for outputs that are logits of a probability
# (the person mask). Their raw values reach about 1.7e3, where float32 reordering moves
# them by up to 1.7 (1e-3 relative), which is meaningless once squashed; measured: 1.1e-3
# on the build's random image, at most 4.7e-3 on real crops, where the masks at 0.5
# differed by at most 1 pixel in 65536.
SIGMOID_ATOL = 1e-2
# BlazePose detector SSD anchors (SsdAnchorsCalculator options in MediaPipe).
DETECTOR_STRIDES = (8, 16, 32, 32, 32)
DETECTOR_INPUT = 224

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ModelSpec:
    """What to build from one ``.tflite`` member of the wheel.

    Attributes:
        name: Manifest name.
        file: Output file name inside the output directory.
        role: Manifest role ("detector", "landmarks" or "landmark_mask").
        member: Path of the ``.tflite`` inside the wheel.
        input_shape: Shape of the single input, renamed to ``image``.
        input_range: (low, high) of the input values, used for the random test.
        outputs: New output name -> shape; original outputs are matched by shape.
        dropped: Outputs (name -> shape) present in the TFLite model but pruned.
        densify: Whether DENSIFY ops must be folded before conversion.
        sigmoid_outputs: Outputs that are logits, compared with TFLite after a sigmoid.
    """

    name: str
    file: str
    role: str
    member: str
    input_shape: Shape
    input_range: tuple[float, float]
    outputs: dict[str, Shape]
    dropped: dict[str, Shape] = field(default_factory=dict)
    densify: bool = False
    sigmoid_outputs: tuple[str, ...] = ()


# The landmark model's outputs we keep, and the person mask that only the mask model keeps.
_LANDMARK_OUTPUTS: dict[str, Shape] = {
    "landmarks": (1, 195),
    "pose_flag": (1, 1),
    "heatmap": (1, 64, 64, 39),
    "world_landmarks": (1, 117),
}
_MASK_OUTPUT: dict[str, Shape] = {"segmentation": (1, 256, 256, 1)}

SPECS = (
    ModelSpec(
        name="blazepose_detector",
        file="pose_detector.onnx",
        role="detector",
        member="mediapipe/modules/pose_detection/pose_detection.tflite",
        input_shape=(1, 224, 224, 3),
        input_range=(-1.0, 1.0),
        outputs={"boxes": (1, 2254, 12), "scores": (1, 2254, 1)},
        densify=True,
    ),
    ModelSpec(
        name="blazepose_full_fp32",
        file="pose_landmark_full.onnx",
        role="landmarks",
        member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        input_shape=(1, 256, 256, 3),
        input_range=(0.0, 1.0),
        outputs=_LANDMARK_OUTPUTS,
        dropped=_MASK_OUTPUT,
    ),
    # The same member again, nothing pruned: the mask costs about twice the pruned
    # model's time, so it is a second file that the pose stage runs only on demand.
    ModelSpec(
        name="blazepose_full_seg_fp32",
        file="pose_landmark_full_seg.onnx",
        role="landmark_mask",
        member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        input_shape=(1, 256, 256, 3),
        input_range=(0.0, 1.0),
        outputs={**_LANDMARK_OUTPUTS, **_MASK_OUTPUT},
        sigmoid_outputs=("segmentation",),
    ),
)

NOTICE_TEXT = """\
hinge-edge pose models
======================

pose_detector.onnx and pose_landmark_full.onnx are derived from the MediaPipe
BlazePose models (pose detector and BlazePose GHUM "full" landmark model) by
Google LLC, distributed in the mediapipe 0.10.14 Python wheel as
mediapipe/modules/pose_detection/pose_detection.tflite and
mediapipe/modules/pose_landmark/pose_landmark_full.tflite, under the Apache
License, Version 2.0 (see LICENSE, copied verbatim from that wheel).

Modifications made by hinge-edge (tools/build_models.py):
- the detector's sparse (DENSIFY) weights were expanded to dense constants;
- both models were converted from TensorFlow Lite to ONNX (opset 17, float32)
  with tf2onnx;
- the landmark model's segmentation output and every node only it needed were
  removed;
- graph inputs and outputs were renamed (image; boxes, scores; landmarks,
  pose_flag, heatmap, world_landmarks) and internal names were renumbered.

The weights themselves are unchanged. manifest.json records the wheel, the
members and the sha256 of every input and output of the build.

pose_landmark_full_seg.onnx is the same landmark model converted the same way
but with nothing removed: it keeps the segmentation output (renamed
segmentation) next to the four outputs above.

pose_landmark_full_int8.onnx is derived from pose_landmark_full.onnx by static
INT8 quantization with onnxruntime (research/int8/quantize_pose.py), calibrated on
images the project renders itself; its manifest entry records the recipe.
"""


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- wheel


def fetch_wheel(cache: Path, local: Path | None) -> Path:
    """Return the verified MediaPipe wheel, downloading it into ``cache`` if needed.

    Args:
        cache: Download cache directory.
        local: Optional path of an already downloaded wheel to use instead.

    Returns:
        Path of the wheel whose sha256 equals ``WHEEL_SHA256``.

    Raises:
        SystemExit: If the download fails or the sha256 does not match.
    """
    wheel = local if local is not None else cache / WHEEL_NAME
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        LOG.info("downloading mediapipe==%s into %s", MEDIAPIPE_VERSION, cache)
        cmd = [sys.executable, "-m", "pip", "download", *PIP_DOWNLOAD_ARGS]
        cmd += ["--dest", str(cache), f"mediapipe=={MEDIAPIPE_VERSION}"]
        if subprocess.run(cmd, check=False).returncode != 0 or not wheel.exists():
            raise SystemExit(f"error: could not download {WHEEL_NAME} with pip")
    actual = sha256_file(wheel)
    if actual != WHEEL_SHA256:
        raise SystemExit(
            f"error: sha256 mismatch for {wheel}\n  expected {WHEEL_SHA256}\n"
            f"  actual   {actual}\nDelete the file and run again; if it still "
            "differs, the upstream wheel changed and must be reviewed."
        )
    LOG.info("wheel %s sha256 ok", wheel.name)
    return wheel


def read_members(wheel: Path, members: Iterable[str]) -> dict[str, bytes]:
    """Read ``members`` out of the wheel (a zip file).

    Args:
        wheel: Path of the wheel.
        members: Archive member names.

    Returns:
        Member name -> content.
    """
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in members}


# ------------------------------------------------------------------------ densify


def dense_weights(tflite_path: Path) -> dict[int, np.ndarray]:
    """Run the TFLite interpreter once and read the output of every DENSIFY op.

    Args:
        tflite_path: Model containing DENSIFY ops with constant inputs.

    Returns:
        DENSIFY output tensor index -> dense value.
    """
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(
        model_path=str(tflite_path),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=(
            tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        ),
    )
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], np.float32))
    interpreter.invoke()
    # _get_ops_details() is the only way the Python API lists ops.
    ops = interpreter._get_ops_details()
    return {
        int(op["outputs"][0]): np.ascontiguousarray(interpreter.get_tensor(int(op["outputs"][0])))
        for op in ops
        if op["op_name"] == "DENSIFY"
    }


def densify_tflite(src: Path, dst: Path) -> int:
    """Write a copy of ``src`` whose DENSIFY ops are replaced by dense constants.

    Each DENSIFY output tensor gets a new buffer holding the dense value read
    from the interpreter; the sparse input tensor loses its buffer and sparsity
    (it is left unused, so tensor indices stay valid) and the op is removed.

    Args:
        src: Original TFLite model.
        dst: Where to write the rewritten model.

    Returns:
        Number of DENSIFY ops removed.
    """
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    dense = dense_weights(src)
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(src.read_bytes(), 0))
    graph = model.subgraphs[0]
    kept = []
    for op in graph.operators:
        out_index = int(op.outputs[0])
        if out_index not in dense:
            kept.append(op)
            continue
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(dense[out_index].tobytes(), np.uint8)
        model.buffers.append(buffer)
        graph.tensors[out_index].buffer = len(model.buffers) - 1
        sparse = graph.tensors[int(op.inputs[0])]
        model.buffers[sparse.buffer].data = None
        sparse.buffer, sparse.sparsity = 0, None
    graph.operators = kept
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dst.write_bytes(bytes(builder.Output()))
    return len(dense)


# ------------------------------------------------------------------ ONNX graph ops


def convert_tflite(path: Path) -> Any:
    """Convert a TFLite model to an ONNX ModelProto with tf2onnx (opset 17).

    Args:
        path: TFLite model file.

    Returns:
        The ONNX ModelProto.
    """
    import tf2onnx

    logging.getLogger("tf2onnx").setLevel(logging.WARNING)
    model, _ = tf2onnx.convert.from_tflite(str(path), opset=OPSET)
    return model


def value_shape(value: Any) -> Shape:
    """Return the static shape of a ValueInfoProto (unknown dims become -1)."""
    dims = value.type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else -1 for d in dims)


def rename_value(graph: Any, old: str, new: str) -> None:
    """Rename tensor ``old`` to ``new`` everywhere in ``graph``."""
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.name == old:
            value.name = new


def rename_io(model: Any, spec: ModelSpec) -> None:
    """Rename the graph input to ``image`` and each output by its shape.

    Args:
        model: ONNX ModelProto straight from tf2onnx (modified in place).
        spec: Expected input shape and output names/shapes.

    Raises:
        SystemExit: If an input or output does not match the spec exactly.
    """
    graph = model.graph
    wanted = {**spec.outputs, **spec.dropped}
    by_shape = {shape: name for name, shape in wanted.items()}
    if len(graph.input) != 1 or value_shape(graph.input[0]) != spec.input_shape:
        raise SystemExit(f"error: {spec.member}: unexpected inputs {graph.input}")
    found = {value_shape(out): out.name for out in graph.output}
    unique = len(by_shape) == len(wanted) and len(found) == len(graph.output)
    if not unique or set(found) != set(by_shape):
        raise SystemExit(f"error: {spec.member}: outputs {found}, want {wanted}")
    rename_value(graph, graph.input[0].name, "image")
    for shape, old in found.items():
        LOG.info("  %s %s -> %s", old, list(shape), by_shape[shape])
        rename_value(graph, old, by_shape[shape])


def topo_order(graph: Any) -> list[Any]:
    """Order the nodes needed by the graph outputs by a post-order walk.

    The order depends only on the graph structure (outputs in order, each
    node's inputs in order), never on names, so it is stable across builds.
    Nodes that no output needs are left out.

    Args:
        graph: ONNX GraphProto.

    Returns:
        The needed nodes, producers before consumers.
    """
    producer = {name: node for node in graph.node for name in node.output}
    ordered: list[Any] = []
    done: set[int] = set()
    stack = [(producer[out.name], False) for out in reversed(graph.output) if out.name in producer]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            ordered.append(node)
            continue
        stack.append((node, True))
        for name in reversed(node.input):
            parent = producer.get(name)
            if parent is not None and id(parent) not in done:
                stack.append((parent, False))
    return ordered


def prune(model: Any, keep: Sequence[str]) -> Any:
    """Return a copy of ``model`` with only the outputs ``keep`` and their nodes.

    Args:
        model: ONNX ModelProto with renamed outputs.
        keep: Output names to keep, in the order they should appear.

    Returns:
        The pruned ModelProto (the input is not modified).
    """
    import onnx

    pruned = onnx.ModelProto()
    pruned.CopyFrom(model)
    graph = pruned.graph
    outputs = {out.name: out for out in graph.output}
    kept_outputs = [outputs[name] for name in keep]
    del graph.output[:]
    graph.output.extend(kept_outputs)
    nodes = topo_order(graph)
    used = {name for node in nodes for name in node.input}
    initializers = [init for init in graph.initializer if init.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.value_info[:]
    return pruned


def canonical_names(graph: Any, nodes: list[Any]) -> dict[str, str]:
    """Map every internal tensor name to a name derived from the node order.

    Args:
        graph: ONNX GraphProto.
        nodes: The graph's nodes in canonical order.

    Returns:
        Old name -> new name for initializers and intermediate tensors; graph
        inputs and outputs keep their names.
    """
    fixed = {value.name for value in [*graph.input, *graph.output]}
    initializers = {init.name for init in graph.initializer}
    mapping: dict[str, str] = {}
    for index, node in enumerate(nodes):
        for name in node.input:
            if name in initializers and name not in mapping:
                mapping[name] = f"const_{len(mapping):04d}"
        for slot, name in enumerate(node.output):
            if name and name not in fixed:
                mapping[name] = f"{node.op_type.lower()}_{index:04d}_{slot}"
    return mapping


def canonicalize(model: Any, graph_name: str) -> None:
    """Make ``model`` deterministic: ordered nodes, renumbered names, no metadata.

    Args:
        model: ONNX ModelProto (modified in place).
        graph_name: Fixed graph name to record.
    """
    graph = model.graph
    nodes = topo_order(graph)
    mapping = canonical_names(graph, nodes)
    for index, node in enumerate(nodes):
        node.name = f"{node.op_type}_{index:04d}"
        node.input[:] = [mapping.get(name, name) for name in node.input]
        node.output[:] = [mapping.get(name, name) for name in node.output]
        node.doc_string = ""
        for attr in node.attribute:
            if attr.HasField("t"):
                attr.t.name = ""
    initializers = sorted(
        (init for init in graph.initializer if init.name in mapping),
        key=lambda init: mapping[init.name],
    )
    for init in initializers:
        init.name = mapping[init.name]
        init.doc_string = ""
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.value_info[:]
    clean_metadata(model, graph_name)


def clean_metadata(model: Any, graph_name: str) -> None:
    """Replace producer, names, doc strings and opset imports by fixed values.

    Args:
        model: ONNX ModelProto (modified in place).
        graph_name: Fixed graph name to record.
    """
    graph = model.graph
    model.producer_name = PRODUCER_NAME
    model.producer_version = PRODUCER_VERSION
    model.domain = ""
    model.model_version = 1
    model.doc_string = ""
    del model.metadata_props[:]
    graph.name = graph_name
    graph.doc_string = ""
    for value in [*graph.input, *graph.output]:
        value.doc_string = ""
    domains = {node.domain for node in graph.node}
    opsets = sorted((op.domain, op.version) for op in model.opset_import if op.domain in domains)
    del model.opset_import[:]
    for domain, version in opsets:
        entry = model.opset_import.add()
        entry.domain, entry.version = domain, version


# -------------------------------------------------------------------------- MACs


def count_macs(model: Any) -> int:
    """Count multiply-accumulates of Conv, ConvTranspose, MatMul and Gemm nodes.

    Depthwise convolutions are Conv nodes with ``group`` = channels and are
    covered by the Conv formula (weight shape [M, C/group, kH, kW]).

    Args:
        model: ONNX ModelProto with static shapes.

    Returns:
        Multiply-accumulates for one inference.
    """
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    graph = inferred.graph
    shapes = {v.name: value_shape(v) for v in [*graph.input, *graph.output]}
    shapes.update({v.name: value_shape(v) for v in graph.value_info})
    shapes.update({i.name: tuple(i.dims) for i in graph.initializer})
    total = 0
    for node in graph.node:
        if node.op_type == "Conv":
            total += prod(shapes[node.output[0]]) * prod(shapes[node.input[1]][1:])
        elif node.op_type == "ConvTranspose":
            total += prod(shapes[node.input[0]]) * prod(shapes[node.input[1]][1:])
        elif node.op_type in ("MatMul", "Gemm"):
            total += prod(shapes[node.output[0]]) * gemm_depth(node, shapes)
    return total


def gemm_depth(node: Any, shapes: dict[str, Shape]) -> int:
    """Return the reduction length K of a MatMul or Gemm node."""
    shape_a = shapes[node.input[0]]
    trans_a = any(a.name == "transA" and a.i for a in node.attribute)
    return shape_a[-2] if trans_a else shape_a[-1]


def prod(values: Iterable[int]) -> int:
    """Return the product of ``values`` as a Python int."""
    result = 1
    for value in values:
        result *= int(value)
    return result


def anchor_count(strides: Sequence[int], size: int) -> int:
    """Count SSD anchors as MediaPipe's SsdAnchorsCalculator generates them.

    Consecutive layers with the same stride share one feature map; each layer
    adds 2 anchors per cell (aspect ratio 1.0 plus the interpolated scale).

    Args:
        strides: Stride of each anchor layer.
        size: Square input size in pixels.

    Returns:
        Number of anchors.
    """
    total, layer = 0, 0
    while layer < len(strides):
        same = 1
        while layer + same < len(strides) and strides[layer + same] == strides[layer]:
            same += 1
        cells = -(-size // strides[layer])
        total += cells * cells * 2 * same
        layer += same
    return total


# ------------------------------------------------------------------ verification


def run_tflite(path: Path, image: np.ndarray) -> list[np.ndarray]:
    """Run the TFLite interpreter (default XNNPACK delegate, as MediaPipe does).

    Args:
        path: TFLite model file.
        image: Input batch.

    Returns:
        Outputs in the model's output order.
    """
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def ort_session(model: Any, threads: int = 1) -> Any:
    """Create an onnxruntime CPU session for an in-memory ModelProto."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def run_onnx(model: Any, image: np.ndarray) -> dict[str, np.ndarray]:
    """Run ``model`` on ``image`` with onnxruntime; return outputs by name."""
    session = ort_session(model)
    names = [out.name for out in session.get_outputs()]
    return dict(zip(names, session.run(names, {"image": image}), strict=True))


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Return the logistic function of ``logits`` in float64 (no overflow warning)."""
    return 0.5 * (1.0 + np.tanh(0.5 * logits.astype(np.float64)))


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Return max |a - b| in float64."""
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def verify(tflite: Path, spec: ModelSpec, full: Any, final: Any) -> dict[str, dict[str, float]]:
    """Compare the final ONNX with TFLite and with the unpruned ONNX.

    Args:
        tflite: The original TFLite model from the wheel.
        spec: Model spec (input shape/range, output names).
        full: Unpruned ONNX with renamed outputs.
        final: Pruned, canonical ONNX that will be written.

    Returns:
        Output name -> {"tflite": max abs diff, "unpruned": max abs diff}.

    Raises:
        SystemExit: If a difference exceeds its tolerance.
    """
    rng = np.random.default_rng(SEED)
    low, high = spec.input_range
    image = rng.uniform(low, high, spec.input_shape).astype(np.float32)
    reference = run_tflite(tflite, image)
    by_shape = {tuple(ref.shape): ref for ref in reference}
    ours, unpruned = run_onnx(final, image), run_onnx(full, image)
    report = {}
    for name, shape in spec.outputs.items():
        ref = by_shape[shape]
        diffs = {
            "tflite": max_diff(ours[name], ref),
            "unpruned": max_diff(ours[name], unpruned[name]),
            "tflite_max_abs": float(np.max(np.abs(ref))),
        }
        LOG.info(
            "  %-16s |onnx-tflite| %.3g  |pruned-full| %.3g",
            name,
            diffs["tflite"],
            diffs["unpruned"],
        )
        tolerance = TFLITE_RTOL * max(1.0, diffs["tflite_max_abs"])
        too_far = diffs["tflite"] > tolerance
        if name in spec.sigmoid_outputs:
            diffs["tflite_sigmoid"] = max_diff(sigmoid(ours[name]), sigmoid(ref))
            LOG.info("  %-16s |sigmoid(onnx)-sigmoid(tflite)| %.3g", name, diffs["tflite_sigmoid"])
            too_far = diffs["tflite_sigmoid"] > SIGMOID_ATOL
        if too_far or diffs["unpruned"] > PRUNE_ATOL:
            raise SystemExit(f"error: {spec.file}:{name} differs too much: {diffs}")
        report[name] = diffs
    return report


def bench(model: Any, shape: Shape, runs: int) -> float:
    """Return the median latency in ms of ``runs`` single-thread inferences."""
    session = ort_session(model, threads=1)
    image = np.random.default_rng(SEED).uniform(0, 1, shape).astype(np.float32)
    session.run(None, {"image": image})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {"image": image})
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


# ------------------------------------------------------------------------ build


@dataclass
class Built:
    """One built model, ready to be written.

    Attributes:
        spec: The spec it was built from.
        data: Serialised ONNX bytes.
        macs: Multiply-accumulates per inference.
        member_sha256: sha256 of the source ``.tflite``.
        diffs: Verification report from :func:`verify`.
        bench_ms: Median ms (pruned, unpruned) when benchmarked, else None.
    """

    spec: ModelSpec
    data: bytes
    macs: int
    member_sha256: str
    diffs: dict[str, dict[str, float]]
    bench_ms: tuple[float, float] | None = None


def build_one(spec: ModelSpec, tflite_bytes: bytes, work: Path, bench_runs: int) -> Built:
    """Convert, prune, canonicalise and verify one model.

    Args:
        spec: What to build.
        tflite_bytes: The ``.tflite`` member from the wheel.
        work: Scratch directory.
        bench_runs: Timed inferences for the pruned/unpruned benchmark (0: skip).

    Returns:
        The built model.
    """
    import onnx

    LOG.info("building %s from %s", spec.file, spec.member)
    source = work / Path(spec.member).name
    source.write_bytes(tflite_bytes)
    convertible = source
    if spec.densify:
        convertible = work / f"dense_{source.name}"
        LOG.info("  densified %d sparse weights", densify_tflite(source, convertible))
    full = convert_tflite(convertible)
    rename_io(full, spec)
    final = prune(full, list(spec.outputs))
    canonicalize(final, Path(spec.file).stem)
    onnx.checker.check_model(final, full_check=True)
    diffs = verify(source, spec, full, final)
    timing = None
    if bench_runs > 0:
        timing = (
            bench(final, spec.input_shape, bench_runs),
            bench(full, spec.input_shape, bench_runs),
        )
        LOG.info("  1-thread median: %.1f ms (unpruned %.1f ms)", *timing)
    return Built(
        spec=spec,
        data=final.SerializeToString(),
        macs=count_macs(final),
        member_sha256=sha256_bytes(tflite_bytes),
        diffs=diffs,
        bench_ms=timing,
    )


def manifest_entry(built: Built) -> dict[str, Any]:
    """Return the manifest.json entry for a built model."""
    spec = built.spec
    return {
        "name": spec.name,
        "file": spec.file,
        "role": spec.role,
        "precision": "fp32",
        "sha256": sha256_bytes(built.data),
        "bytes": len(built.data),
        "license": "Apache-2.0",
        "source": {
            "wheel": WHEEL_NAME,
            "wheel_sha256": WHEEL_SHA256,
            "member": spec.member,
            "member_sha256": built.member_sha256,
        },
        "inputs": {"image": list(spec.input_shape)},
        "outputs": {name: list(shape) for name, shape in spec.outputs.items()},
        "macs": built.macs,
        "build": BUILD_COMMAND,
    }


def merge_manifest(path: Path, entries: list[dict[str, Any]]) -> str:
    """Merge ``entries`` into the manifest at ``path`` by name.

    Entries of other names (e.g. INT8 models written by other tools) are kept.

    Args:
        path: Existing manifest.json (may be missing).
        entries: Entries to add or replace.

    Returns:
        Deterministic JSON text (sorted by name and keys, indent 2, newline).
    """
    models: dict[str, dict[str, Any]] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"error: {path} is not valid JSON: {exc}") from exc
        models = {entry["name"]: entry for entry in existing.get("models", [])}
    models.update({entry["name"]: entry for entry in entries})
    manifest = {"schema_version": 1, "models": [models[k] for k in sorted(models)]}
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_outputs(out: Path, models: list[Built], license_text: bytes) -> None:
    """Write the ONNX files, LICENSE, NOTICE and the merged manifest.json.

    Args:
        out: Output directory.
        models: Built models.
        license_text: The licence file from the wheel.
    """
    out.mkdir(parents=True, exist_ok=True)
    for built in models:
        write_atomic(out / built.spec.file, built.data)
    write_atomic(out / "LICENSE", license_text)
    write_atomic(out / "NOTICE", NOTICE_TEXT.encode())
    manifest = merge_manifest(out / "manifest.json", [manifest_entry(b) for b in models])
    write_atomic(out / "manifest.json", manifest.encode())


def summary(out: Path, models: list[Built], seconds: float) -> str:
    """Return the human-readable build summary."""
    lines = [f"built {len(models)} models into {out} in {seconds:.1f} s"]
    for built in models:
        lines.append(
            f"  {built.spec.file}: {len(built.data)} bytes, "
            f"sha256 {sha256_bytes(built.data)}, {built.macs / 1e6:.1f} MMACs"
        )
        for name, diff in built.diffs.items():
            lines.append(
                f"    {name:<16} max|onnx-tflite| {diff['tflite']:.3g}  "
                f"max|pruned-unpruned| {diff['unpruned']:.3g}"
            )
        if built.bench_ms is not None:
            pruned_ms, full_ms = built.bench_ms
            lines.append(f"    1 thread: {pruned_ms:.1f} ms (unpruned {full_ms:.1f} ms)")
    for name in ("LICENSE", "NOTICE", "manifest.json"):
        lines.append(f"  {name}: sha256 {sha256_file(out / name)}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("models"),
        help="output directory (default: models)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".cache/models"),
        help="wheel download cache (default: .cache/models)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        default=None,
        help="use this local mediapipe wheel (still sha256-checked)",
    )
    parser.add_argument(
        "--bench",
        type=int,
        default=0,
        metavar="N",
        help="time N single-thread inferences, pruned vs unpruned",
    )
    return parser.parse_args(argv)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ logs and the tf.lite deprecation warning."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")


def main(argv: Sequence[str] | None = None) -> int:
    """Build every model in ``SPECS`` and write them with their manifest."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    quiet_tensorflow()
    args = parse_args(argv)
    start = time.perf_counter()
    expected = anchor_count(DETECTOR_STRIDES, DETECTOR_INPUT)
    if expected != SPECS[0].outputs["boxes"][1]:
        raise SystemExit(f"error: {expected} anchors, detector has a different count")
    wheel = fetch_wheel(args.cache, args.wheel)
    members = read_members(wheel, [s.member for s in SPECS] + [LICENSE_MEMBER])
    with tempfile.TemporaryDirectory(prefix="build_models_") as work:
        models = [build_one(spec, members[spec.member], Path(work), args.bench) for spec in SPECS]
    write_outputs(args.out, models, members[LICENSE_MEMBER])
    print(summary(args.out, models, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
