"""What every config section builds on: the strict base model and config-relative paths.

Each stage owns its section in its own package (`edge/capture/config.py`,
`edge/pose/config.py`, `edge/hinge/config.py`, `edge/publish/config.py`); `edge.settings`
only assembles them under `AppSettings`. This module imports nothing of either, so a stage
can define its section without depending on the settings loader.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pydantic import BaseModel, ConfigDict

_CONFIG_FOLDER: ContextVar[Path | None] = ContextVar("edge_config_folder", default=None)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@contextmanager
def config_folder(folder: Path) -> Iterator[None]:
    """While a configuration is validated: relative paths in it start from `folder`."""
    token = _CONFIG_FOLDER.set(folder)
    try:
        yield
    finally:
        _CONFIG_FOLDER.reset(token)


def resolve_path(path: Path) -> Path:
    """Makes a relative path absolute against the config file's folder (during a load).

    Outside `config_folder` (a section built by hand) a relative path is left as it is.
    """
    path = path.expanduser()
    folder = _CONFIG_FOLDER.get()
    if path.is_absolute() or folder is None:
        return path
    return Path(os.path.normpath(folder / path))
