#!/usr/bin/env bash
# Build models/*.onnx, LICENSE, NOTICE and manifest.json from the pinned MediaPipe
# wheel (see tools/build_models.py). Build-time only: needs TensorFlow and tf2onnx,
# which go into a separate venv, .venv-models/ in the repo root, created on first
# use and re-synced only when tools/requirements-models.txt changes.
#
# Usage: bash tools/build_models.sh [--out models] [--cache .cache/models] [--bench N]
# Env:   PYTHON  interpreter used to create the venv (default: python3.11, python3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${root}/.venv-models"
requirements="${root}/tools/requirements-models.txt"
stamp="${venv}/.requirements.sha256"

if [[ ! -x "${venv}/bin/python" ]]; then
  python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "creating ${venv} with ${python}" >&2
  "${python}" -m venv "${venv}"
fi

wanted="$(sha256sum "${requirements}" | cut -d' ' -f1)"
if [[ ! -f "${stamp}" || "$(cat "${stamp}")" != "${wanted}" ]]; then
  echo "installing ${requirements} into ${venv}" >&2
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "${requirements}"
  echo "${wanted}" >"${stamp}"
fi

cd "${root}"
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 PYTHONHASHSEED=0
exec "${venv}/bin/python" tools/build_models.py "$@"
