"""Quantization-aware distillation of the INT8 landmark model (issue 8).

Starts from the post-training QDQ model (`models/pose_landmark_full_int8.onnx`: its
activation scales, its float/INT8 split) with the FP32 weights, fine-tunes the weights
through fake quantization to reproduce the FP32 model's own outputs (landmarks,
visibility/presence, heatmap, world landmarks, pose flag) on augmented synthetic crops,
and writes the same QDQ graph with the new weights. Runs in `.venv-qat` (torch CPU), one
thread for torch and for onnxruntime.

Every ``--ckpt-every`` steps it saves a checkpoint, exports the INT8 ONNX and measures
it in onnxruntime against FP32 on held-out synthetic crops, so an interrupted run still
leaves a usable model; ``--resume`` continues from the last checkpoint.

Usage:
    .venv-qat/bin/python -m research.int8.qat.train --steps 300            # -> .cache/qat/
    .venv-qat/bin/python -m research.int8.qat.train --plot-only            # redraw the loss PNG
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F

from research.int8.qat.data import Teacher, load_synth_crops, make_batch
from research.int8.qat.qdq_net import QdqNet

ROOT = Path(__file__).resolve().parents[3]
LOG = logging.getLogger("qat")
CROPS = [
    ROOT / ".cache" / "calibration" / "synth-n500-s0.npz",
    ROOT / ".cache" / "calibration" / "synth-n500-s1.npz",
]
BODY = 33  # body landmarks; 33-34 are the ROI points
POINTS = 35
# loss weights: pixels (256-px crop) dominate; the rest is scaled to a comparable size
WEIGHTS = {"xy": 1.0, "z": 0.02, "vis": 0.5, "heatmap": 3000.0, "world": 20.0, "flag": 1.0}
HINGE_POINTS = (11, 12, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32)  # shoulders, hips, legs
HEATMAP_SIZE, REFINE_KERNEL, REFINE_MIN_CONFIDENCE = 64, 7, 0.5  # as edge.pose.landmarks


def point_weights(hinge_weight: float) -> torch.Tensor:
    """Per-point loss weights (35 points): the joints the hinge angles use count more."""
    weights = torch.ones(POINTS)
    weights[list(HINGE_POINTS)] = hinge_weight
    return weights / weights.mean()


def _on_heatmap(index: torch.Tensor) -> torch.Tensor:
    return (index >= 0) & (index < HEATMAP_SIZE)


def refine_window(prob: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's heatmap refinement (`edge.pose.landmarks.refine_from_heatmap`) in torch.

    Args:
        prob: (B, 64, 64, P) heatmap probabilities.
        centre: (B, P, 2) integer (col, row) window centres.

    Returns:
        (B, P, 2) confidence-weighted window centres in 256-px crop pixels, and (B, P)
        the window's largest probability.
    """
    batch, points = centre.shape[:2]
    offsets = torch.arange(REFINE_KERNEL) - REFINE_KERNEL // 2
    cols, rows = centre[..., 0, None] + offsets, centre[..., 1, None] + offsets  # (B, P, 7)
    valid = _on_heatmap(rows)[..., :, None] & _on_heatmap(cols)[..., None, :]
    window = (
        prob[
            torch.arange(batch)[:, None, None, None],
            rows.clamp(0, HEATMAP_SIZE - 1)[..., :, None],
            cols.clamp(0, HEATMAP_SIZE - 1)[..., None, :],
            torch.arange(points)[None, :, None, None],
        ]
        * valid
    )  # (B, P, 7, 7)
    total = window.sum(dim=(-1, -2)).clamp_min(1e-12)
    x = (window * cols[..., None, :]).sum(dim=(-1, -2)) / total
    y = (window * rows[..., :, None]).sum(dim=(-1, -2)) / total
    scale = 256.0 / HEATMAP_SIZE
    return torch.stack([x, y], dim=-1) * scale, window.flatten(2).amax(dim=2)


def refined_loss(
    s_hm: torch.Tensor, t_hm: torch.Tensor, t_xy: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Smooth-L1 between student and teacher refined points, in the teacher's windows.

    Only points the decoder refines (window inside the heatmap, confidence >= 0.5 in the
    teacher) count: there the heatmap, not the regressed point, decides where they land.
    """
    centre = torch.trunc(t_xy / 256.0 * HEATMAP_SIZE).long()  # the decoder's int cast
    t_ref, t_conf = refine_window(torch.sigmoid(t_hm), centre)
    s_ref, _ = refine_window(torch.sigmoid(s_hm), centre)
    inside = _on_heatmap(centre).all(dim=-1)
    used = (inside & (t_conf >= REFINE_MIN_CONFIDENCE)).float() * weights
    err = F.smooth_l1_loss(s_ref, t_ref, reduction="none").sum(dim=-1)
    return (err * used).sum() / used.sum().clamp_min(1.0)


def distill_loss(
    student: dict[str, torch.Tensor],
    teacher: dict[str, np.ndarray],
    weights: torch.Tensor,
    refine_weight: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted distillation loss and its parts (unweighted, for the log).

    `weights`: per-point weights of the landmark terms (`point_weights`).
    `refine_weight`: weight of the refined-point term (`refined_loss`); 0 leaves it out.
    """
    s_lm = student["landmarks"].view(-1, 39, 5)[:, :POINTS]
    t_lm = torch.from_numpy(teacher["landmarks"]).view(-1, 39, 5)[:, :POINTS]
    s_hm, t_hm = student["heatmap"], torch.from_numpy(teacher["heatmap"])
    xy_err = F.smooth_l1_loss(s_lm[..., :2], t_lm[..., :2], reduction="none").mean(dim=-1)
    parts = {
        "xy": (xy_err * weights).mean(),
        "z": F.smooth_l1_loss(s_lm[..., 2], t_lm[..., 2]),
        "vis": F.binary_cross_entropy_with_logits(s_lm[..., 3:5], torch.sigmoid(t_lm[..., 3:5])),
        "heatmap": F.mse_loss(torch.sigmoid(s_hm), torch.sigmoid(t_hm)),
        "world": F.l1_loss(
            student["world_landmarks"], torch.from_numpy(teacher["world_landmarks"])
        ),
        "flag": F.binary_cross_entropy(
            student["pose_flag"].clamp(1e-6, 1 - 1e-6), torch.from_numpy(teacher["pose_flag"])
        ),
    }
    total = sum(WEIGHTS[k] * v for k, v in parts.items())
    if refine_weight:
        parts["refined"] = refined_loss(
            s_hm[..., :POINTS], t_hm[..., :POINTS], t_lm[..., :2], weights
        )
        total = total + refine_weight * parts["refined"]
    return total, {k: round(float(v), 5) for k, v in parts.items()}


class WeightAverage:
    """Exponential moving average of the trained weights (what gets exported)."""

    def __init__(self, net: QdqNet, decay: float) -> None:
        self.decay = decay
        self.shadow = {k: p.detach().clone() for k, p in net.params.items() if p.requires_grad}

    def update(self, net: QdqNet) -> None:
        """Moves the average towards the current weights."""
        with torch.no_grad():
            for key, value in self.shadow.items():
                value.lerp_(net.params[key], 1.0 - self.decay)

    @contextmanager
    def swapped(self, net: QdqNet) -> Iterator[None]:
        """Context in which `net` holds the averaged weights."""
        with torch.no_grad():
            saved = {key: net.params[key].detach().clone() for key in self.shadow}
            for key, value in self.shadow.items():
                net.params[key].copy_(value)
        try:
            yield
        finally:
            with torch.no_grad():
                for key, value in saved.items():
                    net.params[key].copy_(value)


def freeze_stem(net: QdqNet, fp32: onnx.ModelProto, convs: int = 3) -> list[str]:
    """Freezes the first float convolutions (the stem: no gain from training them)."""
    frozen = []
    for node in [n for n in fp32.graph.node if n.op_type == "Conv"][:convs]:
        for name in node.input[1:]:
            key = QdqNet._key(name)
            if key in net.params:
                net.params[key].requires_grad_(False)
                frozen.append(name)
    return frozen


def param_groups(net: QdqNet, relative: bool) -> list[dict[str, Any]]:
    """One Adam group per tensor, its step scaled by the tensor's RMS.

    Adam moves every weight by about the learning rate whatever its size; BlazePose has
    layers whose weights are ~1e-3 and others ~1, so a single absolute rate either
    scrambles the small layers or leaves the large ones untouched. `--lr` is therefore
    a relative step (fraction of each tensor's RMS).
    """
    groups = []
    for param in net.parameters():
        if param.requires_grad:
            rms = float(param.detach().pow(2).mean().sqrt())
            groups.append({"params": [param], "scale": max(rms, 1e-4) if relative else 1.0})
    return groups


def freeze_float(net: QdqNet) -> list[str]:
    """Freezes every weight that stays float in the INT8 model (tail, heads)."""
    trained = set(net.weight_dq.values()) | set(net.bias_dq.values())
    frozen = []
    for key, param in net.params.items():
        if key not in trained and param.requires_grad:
            param.requires_grad_(False)
            frozen.append(key)
    return frozen


def learning_rate(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to 5% over `--steps`."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(progress, 1.0))))


def session(model: onnx.ModelProto | Path) -> ort.InferenceSession:
    """One-thread onnxruntime session on a model or file."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    source = str(model) if isinstance(model, Path) else model.SerializeToString()
    return ort.InferenceSession(source, options)


def validate(model: onnx.ModelProto, images: np.ndarray, targets: dict) -> dict[str, float]:
    """The exported INT8 model in onnxruntime vs FP32 on held-out crops (256-px pixels)."""
    sess = session(model)
    lm, flags = [], []
    for x in images:
        names = [o.name for o in sess.get_outputs()]
        out = dict(zip(names, sess.run(names, {"image": x[None]}), strict=True))
        lm.append(out["landmarks"].reshape(39, 5))
        flags.append(float(out["pose_flag"].reshape(-1)[0]))
    lm8, lm32 = np.stack(lm), targets["landmarks"].reshape(-1, 39, 5)
    err = np.linalg.norm(lm8[:, :BODY, :2] - lm32[:, :BODY, :2], axis=-1)
    legs = err[:, 25:33]
    agree = (np.asarray(flags) >= 0.5) == (targets["pose_flag"].reshape(-1) >= 0.5)
    return {
        "px_median": round(float(np.median(err)), 3),
        "px_p95": round(float(np.percentile(err, 95)), 3),
        "legs_px_p95": round(float(np.percentile(legs, 95)), 3),
        "flag_agree": round(float(agree.mean()), 4),
    }


def export(net: QdqNet, base: onnx.ModelProto) -> onnx.ModelProto:
    """The trained QDQ model, with its producer fields fixed (bit-stable bytes)."""
    model = net.export(base)
    model.producer_name = "hinge-edge tools/qat"  # as shipped: part of the file's bytes
    model.producer_version = "1"
    return model


def save_checkpoint(path: Path, net: QdqNet, optimizer: Any, state: dict) -> None:
    """Weights, optimizer and generator state, atomically."""
    tmp = path.with_suffix(".tmp")
    torch.save({"net": net.state_dict(), "opt": optimizer.state_dict(), **state}, tmp)
    tmp.replace(path)


def versions() -> dict[str, str]:
    """Tool versions recorded with the run."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
    }


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--crops", type=Path, nargs="+", default=CROPS, help="synthetic .npz files")
    p.add_argument("--holdout", type=int, default=48, help="last N crops: validation only")
    p.add_argument("--base", type=Path, default=ROOT / "models" / "pose_landmark_full_int8.onnx")
    p.add_argument("--fp32", type=Path, default=ROOT / "models" / "pose_landmark_full.onnx")
    p.add_argument("--steps", type=int, default=300, help="length of the lr schedule")
    p.add_argument("--until", type=int, default=None, help="stop at this step (default: --steps)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-6)
    p.add_argument("--relative-lr", action="store_true", help="--lr as a fraction of RMS")
    p.add_argument("--train", choices=("all", "quantized"), default="all")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ckpt-every", type=int, default=25)
    p.add_argument("--out-dir", type=Path, default=ROOT / ".cache" / "qat")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--init", type=Path, default=None, help="start from this checkpoint's weights")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--hinge-weight", type=float, default=1.0, help="shoulder/hip/leg points")
    p.add_argument("--refine-weight", type=float, default=0.0, help="refined-point term")
    p.add_argument("--ema", type=float, default=0.0, help="export a weight average (decay)")
    p.add_argument("--plot-only", action="store_true")
    p.add_argument("--plot", type=Path, default=ROOT / "docs" / "qat-loss.png", help="PNG out")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Trains, checkpoints, exports."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    log_path = args.out_dir / "log.jsonl"
    if args.plot_only:
        from research.int8.qat.plot import plot_log

        recipe_path = args.out_dir / "recipe.json"
        recipe = json.loads(recipe_path.read_text()) if recipe_path.is_file() else {}
        init = recipe.get("args", {}).get("init", "None")
        start = "post-training quantization"
        if init != "None":
            start = f"the weights of {Path(init).parent.name}/{Path(init).name}"
        plot_log(log_path, args.plot, start)
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    crops, metas = load_synth_crops(args.crops)
    train, held = crops[: -args.holdout], crops[-args.holdout :]
    base, fp32 = onnx.load(args.base), onnx.load(args.fp32)
    net = QdqNet(base, fp32)
    frozen = freeze_stem(net, fp32)
    teacher = Teacher(args.fp32)
    rng = np.random.default_rng(args.seed)
    held_x = make_batch(held, np.arange(len(held)), rng, plain=True)
    held_t = teacher(held_x)
    if args.train == "quantized":
        frozen += freeze_float(net)
    optimizer = torch.optim.Adam(param_groups(net, args.relative_lr), lr=args.lr)
    step, ckpt = 0, args.out_dir / "checkpoint.pt"
    if args.init is not None:
        net.load_state_dict(torch.load(args.init, weights_only=False)["net"])
        LOG.info("weights from %s", args.init)
    average = WeightAverage(net, args.ema) if args.ema else None
    if args.resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["opt"])
        step, rng.bit_generator.state = state["step"], state["rng"]
        if average is not None:
            average.shadow = state["ema"]
        LOG.info("resumed at step %d", step)
    else:
        log_path.write_text("")
        record = {"step": 0, "val": validate(export(net, base), held_x, held_t), "wall_s": 0.0}
        _append(log_path, record)
        LOG.info("step 0 (post-training quantization): %s", record["val"])
    recipe = {
        "seed": args.seed,
        "args": {k: str(v) for k, v in vars(args).items()},
        "crops": metas,
        "train_crops": len(train),
        "holdout_crops": len(held),
        "frozen": frozen,
        "loss_weights": WEIGHTS,
        "init_sha256": sha256(args.init) if args.init else None,
        "init_recipe": _init_recipe(args.init),
        "base_sha256": sha256(args.base),
        "fp32_sha256": sha256(args.fp32),
        "versions": versions(),
    }
    (args.out_dir / "recipe.json").write_text(json.dumps(recipe, indent=2) + "\n")
    trainer = Trainer(net, optimizer, base, teacher, rng, train, held_x, held_t, average)
    run(trainer, step, args)
    return 0


def _init_recipe(init: Path | None) -> dict | None:
    """The recipe of the run whose checkpoint this one starts from (its recipe.json)."""
    if init is None or not (init.parent / "recipe.json").is_file():
        return None
    return json.loads((init.parent / "recipe.json").read_text())


def _append(path: Path, record: dict) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


@dataclass
class Trainer:
    """What the loop works on: the student, its optimizer, the data and the teacher."""

    net: QdqNet
    optimizer: Any
    base: onnx.ModelProto
    teacher: Teacher
    rng: np.random.Generator
    train: np.ndarray
    held_x: np.ndarray
    held_t: dict[str, np.ndarray]
    average: WeightAverage | None = None


def run(trainer: Trainer, step: int, args: argparse.Namespace) -> None:
    """The training loop from `step` to `args.steps`."""
    net, optimizer, rng = trainer.net, trainer.optimizer, trainer.rng
    start = time.monotonic()
    log_path = args.out_dir / "log.jsonl"
    weights = point_weights(args.hinge_weight)
    while step < (args.until or args.steps):
        index = rng.integers(0, len(trainer.train), args.batch)
        images = make_batch(trainer.train, index, rng)
        targets = trainer.teacher(images)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args) * group["scale"]
        loss, parts = distill_loss(
            net(torch.from_numpy(images)), targets, weights, args.refine_weight
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if trainer.average is not None:
            trainer.average.update(net)
        step += 1
        record: dict[str, Any] = {"step": step, "loss": round(float(loss), 5), **parts}
        record["wall_s"] = round(time.monotonic() - start, 1)
        if step % args.ckpt_every == 0 or step in (args.steps, args.until):
            averaged = trainer.average.swapped(net) if trainer.average else nullcontext()
            with averaged:
                model = export(net, trainer.base)
            onnx.save(model, args.out_dir / f"qat-step{step:05d}.onnx")
            record["val"] = validate(model, trainer.held_x, trainer.held_t)
            state = {"step": step, "rng": rng.bit_generator.state}
            if trainer.average is not None:
                state["ema"] = trainer.average.shadow
            save_checkpoint(args.out_dir / "checkpoint.pt", net, optimizer, state)
            LOG.info("step %d loss %.4f %s val %s", step, float(loss), parts, record["val"])
        _append(log_path, record)


if __name__ == "__main__":
    sys.exit(main())
