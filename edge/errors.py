"""The one exception hierarchy of hinge-edge: every error a user can cause is one of these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class EdgeError(Exception):
    """Base of every error hinge-edge raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the configuration.

    Attributes:
        key: Where: a key path such as `cameras.platform-1.zone`, or `FILE:LINE:COLUMN`.
        message: What is wrong and how to fix it.
        value: The offending value, printable and already redacted; None when not shown.
        origin: Where the value came from (`line 12`, `from HINGE_EDGE_MQTT__PORT`), if known.
    """

    key: str
    message: str
    value: str | None = None
    origin: str | None = None

    def __str__(self) -> str:
        details = [f"got {self.value}"] if self.value is not None else []
        details += [self.origin] if self.origin else []
        return f"{self.key}: {self.message}" + (f" ({'; '.join(details)})" if details else "")


class ConfigError(EdgeError):
    """The configuration is invalid (names the key and what is wrong).

    Attributes:
        issues: Every problem found, one `ConfigIssue` each (may be empty).
    """

    def __init__(self, message: str = "", issues: Sequence[ConfigIssue] = ()) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        lines = [message] if message else []
        lines += [str(issue) for issue in self.issues]
        super().__init__("\n".join(lines) or "invalid configuration")


class SourceError(EdgeError):
    """A camera or video source cannot be opened or read."""


class ModelError(EdgeError):
    """A model file is missing, altered, or does not have the expected interface."""


class PublishError(EdgeError):
    """Events cannot be delivered (broker, spool)."""


class SpoolError(PublishError):
    """The on-disk outbox of unsent events cannot be opened or written (names the file)."""


class ReportError(EdgeError):
    """A replay report cannot be written (names the folder or file)."""


class StillError(EdgeError):
    """A rep's still (the athlete at the bottom, for the dashboard) cannot be made."""


class HubError(EdgeError):
    """The chain's hub cannot go on: its database schema, its broker or its database."""
