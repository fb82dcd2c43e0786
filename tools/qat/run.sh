#!/usr/bin/env bash
# Quantization-aware distillation of the INT8 landmark model, end to end (issue 8).
# Torch lives only in .venv-qat/ (gitignored), made on first use from tools/qat/requirements.txt
# (torch==2.13.0 is the machine's local CPU wheel; plain `torch` would pull a CUDA build).
# Steps: synthetic crops (if missing) -> train (checkpoints in .cache/qat/) -> loss PNG ->
# canonical file + quantization check -> evaluation on the real side-view clips ->
# models/ + manifest only if the bar is met (register.py refuses otherwise).
#
# Usage: bash tools/qat/run.sh            (about 20 min of training + 5 min of evaluation on 2 shared cores)
# Env:   STEPS (700), PYTHON (interpreter for the venv: python3.11 or python3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${root}"
venv=.venv-qat
steps="${STEPS:-700}"

if [[ ! -x "${venv}/bin/python" ]]; then
  "${PYTHON:-$(command -v python3.11 || command -v python3)}" -m venv "${venv}"
fi
if ! "${venv}/bin/python" -c "import torch, onnxruntime, cv2, matplotlib" 2>/dev/null; then
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r tools/qat/requirements.txt
fi

for seed in 0 1; do
  if [[ ! -f ".cache/calibration/synth-n500-s${seed}.npz" ]]; then
    .venv/bin/python tools/calibration_crops.py --count 500 --seed "${seed}"
  fi
done

"${venv}/bin/python" tools/qat/train.py --steps "${steps}" --batch 8 --lr 3e-6 --holdout 96 \
  --ckpt-every 50 --train quantized --seed 0 --resume
"${venv}/bin/python" tools/qat/train.py --plot-only
.venv/bin/python tools/qat/register.py export ".cache/qat/qat-step$(printf %05d "${steps}").onnx"
.venv/bin/python tools/eval_int8.py --model .cache/qat/pose_landmark_full_int8_qat.onnx \
  --json .cache/qat/eval.json
.venv/bin/python tools/qat/register.py ship --eval .cache/qat/eval.json
