"""Building a root settings object from a file, the environment and defaults, issues collected.

Shared by the box's configuration (`edge.settings.load_settings`, `AppSettings`) and the
hub's (`edge.hub.config.load_hub_settings`, `HubSettings`): the same strict YAML source,
the same `ConfigIssue`s naming the key, line or variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsError

from edge.config_base import config_folder
from edge.errors import ConfigError, ConfigIssue
from edge.settings.issues import env_issue, unknown_env_issues, validation_issues
from edge.settings.sources import CURRENT_LOAD, LoadState

Root = TypeVar("Root", bound=BaseSettings)


def load_state(path: Path | None, data: dict[str, Any] | None = None) -> LoadState:
    """What one load reads: the YAML file, else `data`, else only the environment.

    Raises:
        ConfigError: `path` is missing or a folder.
    """
    if path is None:
        return LoadState(None, Path.cwd(), data=data)
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError(issues=[ConfigIssue(str(path), f"the config file {what}")])
    return LoadState(path, path.resolve().parent)


def build(root: type[Root], prefix: str, state: LoadState) -> Root:
    """Validates `root` from `state` and the `prefix`ed environment.

    Raises:
        ConfigError: Every problem, one `ConfigIssue` each.
    """
    issues = unknown_env_issues(root, prefix)
    settings = None
    token = CURRENT_LOAD.set(state)
    try:
        with config_folder(state.base_dir):
            settings = root()
    except ValidationError as err:
        issues += validation_issues(err, root, state.lines, prefix)
    except SettingsError as err:
        issues.append(env_issue(err, prefix))
    finally:
        CURRENT_LOAD.reset(token)
    if issues or settings is None:
        # `from None`: the pydantic error holds the raw input, secrets included.
        raise ConfigError(issues=issues) from None
    return settings
