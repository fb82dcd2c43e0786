#!/usr/bin/env bash
# Quantization-aware distillation of the INT8 landmark model, end to end (issue 8).
# Torch lives only in .venv-qat/ (gitignored), made on first use from research/int8/qat/requirements.txt
# (torch==2.13.0 is the machine's local CPU wheel; plain `torch` would pull a CUDA build).
# Steps: synthetic crops (if missing) -> stage 1: train on the general crops (.cache/qat/)
# -> stage 2: continue on the "field" crops (side views of barbell lifts, small pillarboxed
# athletes; .cache/qat-field/) -> loss PNG -> canonical file + quantization check ->
# evaluation on the real side-view clips, and FP32's own noise floor -> models/ as an
# option if it beats post-training quantization, as the default only past the bar
# (register.py decides and refuses otherwise).
#
# Usage: bash research/int8/qat/run.sh     (about 20 + 70 min of training, 10 min of evaluation, 2 cores)
# Env:   STEPS (stage 1, 700), FIELD_STEPS (stage 2's cosine schedule, 6000), FIELD_UNTIL
#        (where stage 2 stops, 5000: the shipped run), PYTHON (interpreter for the venv)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "${root}"
venv=.venv-qat
steps="${STEPS:-700}"
field_steps="${FIELD_STEPS:-6000}"
field_until="${FIELD_UNTIL:-5000}"
crops=.cache/calibration

if [[ ! -x "${venv}/bin/python" ]]; then
  "${PYTHON:-$(command -v python3.11 || command -v python3)}" -m venv "${venv}"
fi
if ! "${venv}/bin/python" -c "import torch, onnxruntime, cv2, matplotlib" 2>/dev/null; then
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r research/int8/qat/requirements.txt
fi

for seed in 0 1; do
  if [[ ! -f "${crops}/synth-n500-s${seed}.npz" ]]; then
    .venv/bin/python -m research.int8.calibration_crops --count 500 --seed "${seed}"
  fi
done
if [[ ! -f "${crops}/synth-field-n1200-s2.npz" ]]; then
  .venv/bin/python -m research.int8.calibration_crops --mix field --count 1200 --seed 2
fi

# Stage 1: general crops, one thread (the run of docs/int8.md, 700 steps).
"${venv}/bin/python" -m research.int8.qat.train --steps "${steps}" --batch 8 --lr 3e-6 --holdout 96 \
  --ckpt-every 50 --train quantized --seed 0 --resume
# Stage 2: from stage 1's weights, the field crops too; hinge joints weighted, the decoder's
# refined points in the loss, a weight average exported.
"${venv}/bin/python" -m research.int8.qat.train --crops "${crops}/synth-n500-s0.npz" \
  "${crops}/synth-n500-s1.npz" "${crops}/synth-field-n1200-s2.npz" --holdout 96 \
  --steps "${field_steps}" --until "${field_until}" --batch 8 --lr 3e-6 --ckpt-every 250 \
  --train quantized --seed 0 --threads 2 --hinge-weight 3 --refine-weight 0.5 --ema 0.998 \
  --init .cache/qat/checkpoint.pt --out-dir .cache/qat-field --resume
"${venv}/bin/python" -m research.int8.qat.train --plot-only --out-dir .cache/qat-field \
  --plot docs/qat-field-loss.png
.venv/bin/python -m research.int8.qat.register export \
  ".cache/qat-field/qat-step$(printf %05d "${field_until}").onnx"
.venv/bin/python -m research.int8.eval_int8 --model .cache/qat/pose_landmark_full_int8_qat.onnx \
  --json .cache/qat/eval.json
if [[ ! -f .cache/int8/floor.json ]]; then
  .venv/bin/python -m research.int8.eval_int8 --reference-noise 0.5 --json .cache/int8/floor.json
fi
.venv/bin/python -m research.int8.qat.register ship --eval .cache/qat/eval.json \
  --recipe .cache/qat-field/recipe.json --floor .cache/int8/floor.json --option
