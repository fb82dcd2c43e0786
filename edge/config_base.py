"""What every config section builds on: the strict base model and config-relative paths.

Each stage owns its section in its own package (`edge/capture/config.py`,
`edge/pose/config.py`, `edge/hinge/config.py`, `edge/publish/config.py`); `edge.settings`
only assembles them under `AppSettings`. This module imports nothing of either, so a stage
can define its section without depending on the settings loader.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

_CONFIG_FOLDER: ContextVar[Path | None] = ContextVar("edge_config_folder", default=None)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def validate_host(value: str) -> str:
    """A host name (RFC 1123 labels) or an IPv4/IPv6 address, as a socket will take it.

    Raises:
        ValueError: Anything else (a URL, a port, spaces, punctuation), saying what is allowed.
    """
    try:
        ipaddress.ip_address(value)
    except ValueError:
        labels = value.removesuffix(".").split(".")
        if len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
            raise ValueError(
                f"{value!r} is neither a host name (letters, digits and '-' between dots) nor "
                "an IP address; no scheme, port or path"
            ) from None
    return value


HostAddress = Annotated[str, StringConstraints(min_length=1), AfterValidator(validate_host)]
"""A `str` field checked by `validate_host` (listen and broker addresses)."""


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
