"""Quantization-aware distillation of the INT8 landmark model (torch, in `.venv-qat/`).

`python -m research.int8.qat.train` trains (`.venv-qat`), `... .register` exports and
ships (`.venv`); `run.sh` (`make qat`) runs the whole recipe.
"""
