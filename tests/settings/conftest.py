"""Fixtures for the settings tests: a clean environment, config files, restored logging."""

from __future__ import annotations

import logging
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.settings import ENV_PREFIX


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HINGE_EDGE_* variable from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Writes a YAML text (dedented) to tmp_path/config.yaml and returns the path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Puts the root logger back after a test that calls setup_logging (or the CLI)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


MINIMAL = """
cameras:
  platform-1:
    source: rtsp://cam:cam-secret-1@10.0.0.5/stream1
"""
