"""A trainable PyTorch twin of an onnxruntime QDQ model, and the way back to ONNX.

`QdqNet` interprets the nodes of a QDQ ONNX graph (the INT8 landmark model that
`research/int8/quantize_pose.py` writes) in graph order with torch ops, so the network it trains
has exactly the quantization points onnxruntime will use:

* every activation ``QuantizeLinear -> DequantizeLinear`` pair becomes a fake quantizer
  (uint8, per tensor) with the pair's scale and zero point, held fixed;
* every weight ``DequantizeLinear`` (int8, per output channel) becomes a float master
  weight, initialised from the FP32 model, fake-quantized symmetrically per channel
  with a scale recomputed from the weight at each step (straight-through gradient);
* every bias ``DequantizeLinear`` (int32) becomes a float master bias (its rounding to
  the input x weight scale grid is negligible and not simulated);
* float initialisers (the convolutions kept in float) become plain parameters.

`QdqNet.export` writes the trained weights back into a copy of the same graph (int8
weights and their scales, int32 biases on the new scale grid, float weights): the
structure, the activation scales and the quantized/float split do not change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

WEIGHT_QMAX = 127  # symmetric int8 weights in [-127, 127], zero point 0


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def weight_scale(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel symmetric scale (max |w| / 127), no gradient."""
    absmax = weight.detach().abs().flatten(1).amax(dim=1)
    return torch.clamp(absmax / WEIGHT_QMAX, min=1e-12)


def fake_quant_weight(weight: torch.Tensor) -> torch.Tensor:
    """Int8 per-channel fake quantization with a straight-through gradient."""
    scale = weight_scale(weight)
    zero = torch.zeros(scale.shape, dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(weight, scale, zero, 0, -WEIGHT_QMAX, WEIGHT_QMAX)


class QdqNet(torch.nn.Module):
    """The QDQ graph as a torch module (NHWC image in, the graph's named outputs out)."""

    def __init__(self, qdq: onnx.ModelProto, fp32: onnx.ModelProto) -> None:
        """Builds the module.

        Args:
            qdq: The QDQ model (defines structure and activation quantization).
            fp32: The FP32 model its weights came from (initial float weights).
        """
        super().__init__()
        self.graph = qdq.graph
        self.consts: dict[str, np.ndarray] = {
            i.name: numpy_helper.to_array(i) for i in qdq.graph.initializer
        }
        fp32_init = {i.name: numpy_helper.to_array(i) for i in fp32.graph.initializer}
        self.params = torch.nn.ParameterDict()
        self.weight_dq: dict[str, str] = {}  # DQ output -> parameter key (int8 weights)
        self.bias_dq: dict[str, str] = {}  # DQ output -> parameter key (int32 biases)
        self.act_q: dict[str, tuple[float, int]] = {}  # Q output -> (scale, zero point)
        self._collect(fp32_init)
        self.output_names = [o.name for o in qdq.graph.output]

    @staticmethod
    def _key(name: str) -> str:
        return name.replace(".", "_")

    def _collect(self, fp32_init: dict[str, np.ndarray]) -> None:
        conv_weights = set()
        for node in self.graph.node:
            if node.op_type == "Conv":
                conv_weights.update(node.input[1:])
        for node in self.graph.node:
            if node.op_type == "DequantizeLinear" and node.input[0] in self.consts:
                source = node.input[0].removesuffix("_quantized")
                value = fp32_init[source]
                target = self.bias_dq if value.ndim == 1 else self.weight_dq
                target[node.output[0]] = self._add_param(source, value)
            elif node.op_type == "QuantizeLinear":
                scale = float(self.consts[node.input[1]])
                zero = int(self.consts[node.input[2]])
                self.act_q[node.output[0]] = (scale, zero)
        for name in conv_weights:
            if name in self.consts and self.consts[name].dtype == np.float32:
                self._add_param(name, self.consts[name])

    def _add_param(self, name: str, value: np.ndarray) -> str:
        key = self._key(name)
        self.params[key] = torch.nn.Parameter(torch.from_numpy(value.astype(np.float32).copy()))
        return key

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Runs the graph.

        Args:
            image: (B, 256, 256, 3) float32 RGB in [0, 1].

        Returns:
            Output name -> tensor, batch-first as in the ONNX graph.
        """
        env: dict[str, torch.Tensor] = {self.graph.input[0].name: image}
        for node in self.graph.node:
            outputs = self._run(node, env)
            if outputs is not None:
                env[node.output[0]] = outputs
        return {name: env[name] for name in self.output_names}

    def _value(self, name: str, env: dict[str, torch.Tensor]) -> torch.Tensor:
        if name in env:
            return env[name]
        key = self._key(name)
        if key in self.params:
            return self.params[key]
        return torch.from_numpy(np.asarray(self.consts[name]))

    def _run(self, node: onnx.NodeProto, env: dict[str, torch.Tensor]) -> torch.Tensor | None:
        op, out = node.op_type, node.output[0]
        if op == "DequantizeLinear":
            return self._dequantize(node, env)
        if op == "QuantizeLinear":
            scale, zero = self.act_q[out]
            return torch.fake_quantize_per_tensor_affine(
                self._value(node.input[0], env), scale, zero, 0, 255
            )
        args = [self._value(name, env) for name in node.input if name]
        return _OPS[op](args, _attrs(node))

    def _dequantize(self, node: onnx.NodeProto, env: dict[str, torch.Tensor]) -> torch.Tensor:
        out = node.output[0]
        if out in self.weight_dq:
            return fake_quant_weight(self.params[self.weight_dq[out]])
        if out in self.bias_dq:
            return self.params[self.bias_dq[out]]
        # activation DQ: the fake quantizer of the paired Q already rounded the values
        return self._value(node.input[0], env)

    # ------------------------------------------------------------------ export

    def export(self, qdq: onnx.ModelProto) -> onnx.ModelProto:
        """A copy of `qdq` carrying this module's trained weights.

        Int8 weights get their new per-channel scales; int32 biases are re-quantized to
        input scale x weight scale (onnxruntime's convention); float weights are copied.
        """
        model = onnx.ModelProto()
        model.CopyFrom(qdq)
        values: dict[str, np.ndarray] = {}
        weight_scales = self._export_weights(model, values)
        for node in model.graph.node:
            if node.op_type == "Conv" and len(node.input) > 2:
                self._export_bias(model, node, weight_scales, values)
        self._export_float(model, values)
        for init in model.graph.initializer:
            if init.name in values:
                init.CopyFrom(numpy_helper.from_array(values[init.name], init.name))
        return model

    def _export_weights(
        self, model: onnx.ModelProto, values: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Int8 weights and their scales into `values`; returns scale per weight DQ output."""
        weight_scales: dict[str, np.ndarray] = {}
        for node in model.graph.node:
            if node.op_type == "DequantizeLinear" and node.output[0] in self.weight_dq:
                w = self.params[self.weight_dq[node.output[0]]].detach()
                scale = weight_scale(w)
                q = torch.clamp(torch.round(w / scale.view(-1, 1, 1, 1)), -127, 127)
                values[node.input[0]] = q.numpy().astype(np.int8)
                values[node.input[1]] = scale.numpy().astype(np.float32)
                weight_scales[node.output[0]] = scale.numpy().astype(np.float64)
        return weight_scales

    def _export_float(self, model: onnx.ModelProto, values: dict[str, np.ndarray]) -> None:
        """Float weights and biases (the convolutions kept in float) into `values`."""
        for node in model.graph.node:
            if node.op_type != "Conv":
                continue
            for name in node.input[1:]:
                key = self._key(name)
                if name in self.consts and key in self.params:
                    values[name] = self.params[key].detach().numpy()

    def _export_bias(
        self,
        model: onnx.ModelProto,
        conv: onnx.NodeProto,
        weight_scales: dict[str, np.ndarray],
        values: dict[str, np.ndarray],
    ) -> None:
        bias_out = conv.input[2]
        if bias_out not in self.bias_dq:
            return
        dq = next(n for n in model.graph.node if n.output and n.output[0] == bias_out)
        input_dq = next(n for n in model.graph.node if n.output and n.output[0] == conv.input[0])
        input_scale = float(self.consts[input_dq.input[1]])
        scale = input_scale * weight_scales[conv.input[1]]
        bias = self.params[self.bias_dq[bias_out]].detach().numpy().astype(np.float64)
        values[dq.input[0]] = np.round(bias / scale).astype(np.int32)
        values[dq.input[1]] = scale.astype(np.float32)


def _conv(args: list[torch.Tensor], attrs: dict[str, Any]) -> torch.Tensor:
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    pads = attrs.get("pads", [0, 0, 0, 0])
    if pads[0] != pads[2] or pads[1] != pads[3]:
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        pads = [0, 0, 0, 0]
    return F.conv2d(
        x,
        w,
        bias,
        stride=attrs.get("strides", [1, 1]),
        padding=(pads[0], pads[1]),
        dilation=attrs.get("dilations", [1, 1]),
        groups=attrs.get("group", 1),
    )


def _pad(args: list[torch.Tensor], attrs: dict[str, Any]) -> torch.Tensor:
    x, pads = args[0], [int(p) for p in args[1]]
    rank = x.dim()
    begin, end = pads[:rank], pads[rank:]
    torch_pads: list[int] = []
    for axis in reversed(range(rank)):
        torch_pads += [begin[axis], end[axis]]
    return F.pad(x, torch_pads)


def _maxpool(args: list[torch.Tensor], attrs: dict[str, Any]) -> torch.Tensor:
    pads = attrs.get("pads", [0, 0, 0, 0])
    x = F.pad(args[0], (pads[1], pads[3], pads[0], pads[2]), value=float("-inf"))
    return F.max_pool2d(x, attrs["kernel_shape"], attrs.get("strides", attrs["kernel_shape"]))


def _resize(args: list[torch.Tensor], attrs: dict[str, Any]) -> torch.Tensor:
    scales = [float(s) for s in args[2]]
    return F.interpolate(args[0], scale_factor=scales[2:], mode="bilinear", align_corners=False)


def _reshape(args: list[torch.Tensor], attrs: dict[str, Any]) -> torch.Tensor:
    return args[0].reshape([int(s) for s in args[1]])


_OPS = {
    "Conv": _conv,
    "Pad": _pad,
    "MaxPool": _maxpool,
    "Resize": _resize,
    "Reshape": _reshape,
    "Transpose": lambda a, at: a[0].permute(*at["perm"]),
    "Clip": lambda a, at: torch.clamp(a[0], float(a[1]), float(a[2])),
    "Add": lambda a, at: a[0] + a[1],
    "Sigmoid": lambda a, at: torch.sigmoid(a[0]),
}
