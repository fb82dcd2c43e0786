"""Research kept beside the product: how shipped artefacts were made and judged.

Each folder has a README (what it is, how to run it, what it concluded). Run its tools
from the repository root as modules (`.venv/bin/python -m research.int8.eval_int8`).
Never imported by `edge`, never in the wheel or the image (tests/test_layers.py).
"""
