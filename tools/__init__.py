"""Development tools: model builds, benchmarks, evaluations and generated docs.

Run from the repository root as modules, `.venv/bin/python -m tools.NAME [ARGS]`, so
they import `edge` (installed in the venv), each other (`tools.devclips`) and the dev
harness (`devkit`) without editing `sys.path`. Never imported by `edge`, never in the
wheel or the image (tests/test_layers.py).
"""
