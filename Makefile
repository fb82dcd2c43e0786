# One-word entry points. `make test` is the README's test command and what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup lint test models bench-pose clean

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

# Rebuild models/ from the pinned mediapipe wheel (needs a separate TensorFlow venv; minutes).
models:
	bash tools/build_models.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
