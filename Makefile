# One-word entry points. `make test` is the README's test command and what CI runs;
# `make check` is the fast tier to run on every change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup system-deps lint check test chain demo run models bench-pose bench-daemon synth-suite arm64-proof qat clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

# Debian packages for the daemon and its tests (mosquitto, ffmpeg, RTSP server, chromium).
system-deps:
	bash tools/system_deps.sh

lint: setup
	$(BIN)/ruff check .

# The fast tier, well under a minute: ruff, mypy on the typed packages ([tool.mypy] in
# pyproject.toml), and the tests that need no ONNX model, server, browser or seconds of CPU
# (tests/tiers.py marks the others). It lists its five slowest: a test of a second or more
# belongs in the full tier (`slow`, or `fast_first` for a long parametrisation).
check: lint
	$(BIN)/mypy
	$(BIN)/pytest -q --durations=5 -m "not (model or server or browser or slow)"

# The full suite: every tier, the real models, mosquitto, RTSP/MJPEG servers, Chromium.
test: lint system-deps
	$(BIN)/pytest

# The chain end to end (docs/chain.md; about 2 minutes, also part of `make test`): a 3-node
# NATS cluster, PostgreSQL, two hub workers, two daemons and 20 simulated boxes, with WAN
# links cut, a node and a hub worker killed; every event in PostgreSQL exactly once.
chain: setup system-deps
	$(BIN)/pytest -m chain -s

# The main job on an embedded default: a rendered athlete (made here, nothing to fetch),
# run through pose + scoring; prints the rep and set events.
demo: setup
	mkdir -p out
	$(BIN)/hinge-edge --log-level warning synth out/demo.mp4 --exercise rdl --reps 4 \
		--fault head_extension=0.8 --size 640x360 --seed 1
	$(BIN)/hinge-edge --log-level warning replay out/demo.mp4 --events out/demo.events.jsonl
	@cat out/demo.events.jsonl

# The daemon on its embedded default (a rendered camera, a local broker), printing the rep
# and set events as they arrive over MQTT; dashboard on http://localhost:8080/. Ctrl-C stops
# it, the open set's event printed last. A port taken: HINGE_EDGE_MQTT__PORT=1884 make run
# (HINGE_EDGE_WEB__PORT for the dashboard's).
run: setup system-deps
	bash tools/run_demo.sh

# 1-12 cameras through the daemon: the dev clips looping; 1080p H.264 and a 640x360 10 fps
# substream over RTSP on loopback. fps, skips, CPU by stage, RSS, latency (about 15 minutes).
bench-daemon: setup system-deps
	$(BIN)/python -m tools.bench_daemon

# The synthetic-athlete suite end to end (110 clips; about an hour the first time, then
# `.venv/bin/python -m tools.synthsuite --rescore` re-scores the cached landmarks in seconds).
synth-suite: setup
	$(BIN)/python -m tools.synthsuite --jobs 2

# Rebuild models/ from the pinned mediapipe wheel (needs a separate TensorFlow venv; minutes).
models:
	bash tools/build_models.sh

# Ours vs mediapipe==0.10.14 on the dev clips (its own .venv-bench/; about 15 minutes).
bench-pose:
	bash tools/bench_pose.sh

# Build Dockerfile.arm64 for linux/arm64 (buildah on a debootstrap base) and run
# check-config, a replay and the daemon inside it under qemu (root; caches in .cache/arm64/;
# about 30 minutes the first time, 15 after: the emulated replay). Never part of `make test`.
arm64-proof: setup
	bash tools/arm64_proof.sh

# Quantization-aware distillation of the INT8 landmark model (torch in its own .venv-qat/;
# two stages, about 20 + 70 min of training and 10 of evaluation); ships into models/ as the
# default only past the bar, as an option if it beats post-training quantization.
qat: setup
	bash research/int8/qat/run.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
