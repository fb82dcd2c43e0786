"""Fixtures for the settings tests: a clean environment, config files, restored logging."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_machine_env(clean_env: None) -> None:
    """Every settings test runs with the machine's HINGE_EDGE_* variables cleared."""


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
