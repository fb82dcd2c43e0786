"""Training batches for distillation: synthetic crops, seeded augmentation, FP32 targets.

Crops come only from `research/int8/calibration_crops.py` files whose source is ``synth``
(rendered athletes); a file from any other source is refused. Each batch draws crops
with a seeded generator, perturbs them (small rotation/scale/shift with border
replication, mirror, brightness/contrast/gamma, colour cast, blur, noise, JPEG) and asks
the FP32 ONNX model (onnxruntime, one thread) for the targets on the perturbed crop, so
every target is the teacher's own answer to exactly the student's input.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

SIZE = 256


def load_synth_crops(paths: list[Path]) -> tuple[np.ndarray, list[dict]]:
    """Loads and concatenates crop files, refusing any that is not synthetic.

    Returns:
        (N, 256, 256, 3) uint8 RGB crops, and each file's meta (for the recipe record).
    """
    crops, metas = [], []
    for path in paths:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("source") != "synth" or meta.get("debug_only"):
                raise SystemExit(f"error: {path} is not a synthetic crop set; refusing to train")
            crops.append(data["crops"])
        metas.append(
            {
                "file": path.name,
                "command": meta.get("command"),
                "seed": meta.get("seed"),
                "count": meta.get("count"),
                "crops_sha256": meta.get("crops_sha256"),
                "code": meta.get("code"),
            }
        )
    return np.concatenate(crops), metas


def augment(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One seeded perturbation of a uint8 crop (same shape and dtype)."""
    angle, scale = rng.normal(0, 6), float(np.exp(rng.normal(0, 0.08)))
    shift = rng.normal(0, 6, 2)
    matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), angle, scale)
    matrix[:, 2] += shift
    image = cv2.warpAffine(
        crop, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if rng.random() < 0.5:
        image = image[:, ::-1]
    image = image.astype(np.float32) / 255.0
    gain = rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, 3)
    image = np.clip((image - 0.5) * rng.uniform(0.75, 1.25) + 0.5, 0, 1) * gain
    image = np.clip(image, 0, 1) ** rng.uniform(0.75, 1.35)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.4:
        image = image + rng.normal(0, rng.uniform(0.005, 0.03), image.shape)
    out = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else out
    return out


class Teacher:
    """The FP32 landmark model in onnxruntime, one thread, one crop at a time."""

    def __init__(self, path: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options)
        self.names = [o.name for o in self.session.get_outputs()]

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Targets for (B, 256, 256, 3) float32 inputs, stacked per output."""
        runs = [self.session.run(self.names, {"image": x[None]}) for x in batch]
        return {n: np.concatenate([r[i] for r in runs]) for i, n in enumerate(self.names)}


def make_batch(
    crops: np.ndarray, index: np.ndarray, rng: np.random.Generator, plain: bool = False
) -> np.ndarray:
    """Float32 model inputs (B, 256, 256, 3) in [0, 1] for the crops at `index`."""
    images = [crops[i] if plain else augment(crops[i], rng) for i in index]
    return np.stack(images).astype(np.float32) / 255.0
