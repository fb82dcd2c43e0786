"""onnxruntime sessions: options, providers, interface checks and warm-up in one place."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.errors import ModelError
from edge.pose.manifest import ModelSpec, verify_model_file

logger = logging.getLogger(__name__)


class OnnxModel:
    """A verified ONNX model with one float32 input, run by onnxruntime.

    The file's sha256 is checked against the manifest before onnxruntime sees it, the
    session's input and outputs are checked against the manifest, and one warm-up run is
    made so the first real frame does not pay for memory planning.
    """

    def __init__(
        self,
        spec: ModelSpec,
        models_dir: Path,
        threads: int = 1,
        providers: tuple[str, ...] = ("CPUExecutionProvider",),
    ) -> None:
        """Loads and checks a model.

        Args:
            spec: The manifest entry.
            models_dir: Folder holding the file.
            threads: Intra-op threads (1 keeps several cameras from fighting over cores).
            providers: onnxruntime execution providers, in order of preference.

        Raises:
            ModelError: Missing/altered file, unloadable model, or unexpected interface.
        """
        self.spec = spec
        path = verify_model_file(spec, models_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        available = set(ort.get_available_providers())
        chosen = [p for p in providers if p in available] or ["CPUExecutionProvider"]
        try:
            self._session = ort.InferenceSession(str(path), options, providers=chosen)
        except Exception as err:  # onnxruntime raises its own untyped errors
            raise ModelError(f"onnxruntime cannot load {path} ({spec.name}): {err}") from err
        self.input_name, self.input_shape = self._check_interface()
        self.output_names = list(spec.outputs)
        self.run(np.zeros(self.input_shape, np.float32))
        logger.info(
            "model %s loaded from %s (%s, %d thread(s), %s)",
            spec.name,
            path.name,
            spec.precision,
            threads,
            ",".join(chosen),
        )

    def _check_interface(self) -> tuple[str, tuple[int, ...]]:
        inputs = self._session.get_inputs()
        outputs = {o.name: list(o.shape) for o in self._session.get_outputs()}
        ((want_name, want_shape),) = self.spec.inputs.items()
        if len(inputs) != 1 or inputs[0].name != want_name or list(inputs[0].shape) != want_shape:
            got = [(i.name, i.shape) for i in inputs]
            raise ModelError(
                f"model {self.spec.name}: expected input {want_name}{want_shape}, got {got}"
            )
        for name, shape in self.spec.outputs.items():
            if outputs.get(name) != shape:
                raise ModelError(
                    f"model {self.spec.name}: expected output {name}{shape}, "
                    f"got {outputs.get(name)}"
                )
        return want_name, tuple(want_shape)

    def run(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        """Runs one inference.

        Args:
            tensor: Input of the model's exact shape, float32.

        Returns:
            Output name -> array.
        """
        values = self._session.run(self.output_names, {self.input_name: tensor})
        return dict(zip(self.output_names, values, strict=True))
