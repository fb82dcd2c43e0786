"""Loss curves of a QAT run (`log.jsonl`) as a PNG; matplotlib, `.venv-qat` only."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def _smooth(values: np.ndarray, window: int = 25) -> np.ndarray:
    if len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_log(log_path: Path, out: Path, start: str = "post-training quantization") -> None:
    """Training loss parts (smoothed) and held-out INT8-vs-FP32 error per checkpoint.

    `start`: what the run started from (the held-out point at step 0).
    """
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line]
    train = [r for r in records if "loss" in r]
    val = [r for r in records if "val" in r]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    steps = np.asarray([r["step"] for r in train])
    for key, label in (("loss", "total (weighted)"), ("xy", "landmark xy, px (smooth L1)")):
        values = np.asarray([r[key] for r in train])
        smooth = _smooth(values)
        axes[0].plot(steps[len(steps) - len(smooth) :], smooth, label=label)
    axes[0].set_xlabel("step (batch of augmented synthetic crops)")
    axes[0].set_ylabel("training loss, 25-step mean")
    axes[0].set_yscale("log")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    vsteps = [r["step"] for r in val]
    for key, label in (
        ("px_median", "all landmarks, median"),
        ("px_p95", "all landmarks, p95"),
        ("legs_px_p95", "knees/ankles/feet, p95"),
    ):
        axes[1].plot(vsteps, [r["val"][key] for r in val], marker="o", label=label)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("INT8 (onnxruntime) vs FP32, 256-px crop pixels")
    axes[1].set_title(f"held-out synthetic crops; step 0 = {start}", fontsize=9)
    axes[1].legend()
    axes[1].grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)
