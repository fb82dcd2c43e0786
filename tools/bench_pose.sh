#!/usr/bin/env bash
# Benchmark our pose stage against the real MediaPipe 0.10.14 (tools/bench_pose.py).
# MediaPipe lives only in .venv-bench/ in the repo root (gitignored), created on first use
# from the exact pins in tools/requirements-bench.txt and re-synced only when that file
# changes; our package is installed into it editable and without dependencies.
#
# Usage: bash tools/bench_pose.sh [bench_pose.py arguments, e.g. --frames 150 --rounds 3]
# Env:   PYTHON  interpreter used to create the venv (default: python3.11, python3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${root}/.venv-bench"
requirements="${root}/tools/requirements-bench.txt"
stamp="${venv}/.requirements.sha256"

if [[ ! -x "${venv}/bin/python" ]]; then
  python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "creating ${venv} with ${python}" >&2
  "${python}" -m venv "${venv}"
fi

wanted="$(sha256sum "${requirements}" "${root}/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [[ ! -f "${stamp}" || "$(cat "${stamp}")" != "${wanted}" ]]; then
  echo "installing ${requirements} into ${venv}" >&2
  # A complete lock: --no-deps keeps mediapipe's unused jax/opencv-contrib out (see file).
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
    --only-binary=:all: --no-deps -r "${requirements}"
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps -e "${root}"
  "${venv}/bin/python" -c "import cv2, mediapipe, numpy, onnxruntime, edge.pose" \
    || { echo "the benchmark venv does not import; delete ${venv} and retry" >&2; exit 1; }
  echo "${wanted}" >"${stamp}"
fi

cd "${root}"
# Quiet TFLite/absl start-up chatter; numpy's BLAS stays single-threaded in the workers.
export GLOG_minloglevel=2 TF_CPP_MIN_LOG_LEVEL=2 OPENBLAS_NUM_THREADS=1
exec "${venv}/bin/python" tools/bench_pose.py "$@"
