# One-word entry points. `make test` is the README's test command and what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup lint test demo models bench-pose clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

# The main job on an embedded default: a rendered athlete (made here, nothing to fetch),
# run through pose + scoring; prints the rep and set events.
demo: setup
	mkdir -p out
	$(BIN)/hinge-edge --log-level warning synth out/demo.mp4 --exercise rdl --reps 4 \
		--fault knee_dominant=0.8 --size 640x360 --seed 1
	$(BIN)/hinge-edge --log-level warning replay out/demo.mp4 --events out/demo.events.jsonl
	@cat out/demo.events.jsonl

# Rebuild models/ from the pinned mediapipe wheel (needs a separate TensorFlow venv; minutes).
models:
	bash tools/build_models.sh

# Ours vs mediapipe==0.10.14 on the dev clips (its own .venv-bench/; about 15 minutes).
bench-pose:
	bash tools/bench_pose.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
