"""The daemon's operator configuration: a YAML file, environment overrides, strict checks.

    settings = load_settings(Path("hinge-edge.yaml"))   # raises ConfigError listing every issue
    settings.cameras["platform-1"].zone, settings.mqtt.host, settings.hinge_for("platform-1")

See docs/config.md for every key, the environment variables and a full example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.log import register_secret
from edge.redact import url_secrets
from edge.settings.loader import build, load_state
from edge.settings.models import (
    CAMERA_ID_PATTERN,
    ENV_PREFIX,
    AppSettings,
    CameraConfig,
    LogConfig,
    WebConfig,
    source_kind,
)
from edge.settings.sources import LoadState
from edge.settings.summary import summarize

__all__ = [
    "CAMERA_ID_PATTERN",
    "ENV_PREFIX",
    "AppSettings",
    "CameraConfig",
    "LogConfig",
    "WebConfig",
    "default_settings",
    "load_settings",
    "source_kind",
    "summarize",
]


def load_settings(path: Path | None) -> AppSettings:
    """Loads and checks the configuration.

    Args:
        path: The YAML file; None reads only the environment (and defaults). Relative paths
            are resolved against the file's folder (the working folder without a file).

    Returns:
        The settings; their secrets are registered with the log redaction filter.

    Raises:
        ConfigError: The file is missing or unreadable, or any key is wrong; every problem
            is one `ConfigIssue` in `err.issues`.
    """
    return _build(load_state(path))


def default_settings(sample_clip: Path, spool_dir: Path) -> AppSettings:
    """The embedded configuration of `hinge-edge run` without --config.

    One camera `demo` (set up for RDLs) loops `sample_clip`; a local broker is started
    (`mqtt.host` null); the status page is on port 8080. Environment variables override it
    as they would a file.

    Raises:
        ConfigError: An environment override is invalid.
    """
    data: dict[str, Any] = {
        # The demo platform is set up for RDLs, as a trainer would set one up.
        "cameras": {"demo": {"source": str(sample_clip), "loop": True, "exercise": "rdl"}},
        "mqtt": {"host": None},
        "spool": {"path": str(spool_dir)},
        "web": {"port": 8080},
    }
    return _build(LoadState(None, Path.cwd(), data=data))


def _build(state: LoadState) -> AppSettings:
    settings = build(AppSettings, ENV_PREFIX, state)
    _register_secrets(settings)
    return settings


def _register_secrets(settings: AppSettings) -> None:
    """Makes the log filter mask the MQTT password and camera URL secrets everywhere."""
    if settings.mqtt.password is not None:
        register_secret(settings.mqtt.password.get_secret_value())
    for camera in settings.cameras.values():
        if source_kind(camera.source) != "stream":
            continue
        for secret in url_secrets(camera.source):
            register_secret(secret)
