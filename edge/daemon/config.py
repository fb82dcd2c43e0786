"""The `web` section: where the status page listens, who may see it, how it holds under load.

The web side owns its section as each stage owns its own; `edge.settings` assembles it
under `AppSettings.web`. docs/security.md explains the roles and the threat model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from edge.config_base import HostAddress, StrictModel, resolve_path, validate_host


class WebAuthConfig(StrictModel):
    """Logins and roles on the web port (docs/security.md)."""

    enabled: bool = Field(
        True,
        description="false: no login at all, every route open to anyone who reaches the port "
        "(logged as a warning at every start; only for a closed test bench)",
    )
    users_file: Path | None = Field(
        None,
        description="Users, password hashes and display/scrape token hashes (JSON, mode 0600, "
        "managed by `hinge-edge users`); relative to the config file's folder; null: "
        "web-users.json in the spool folder",
    )
    session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="A login (admin, trainer) lasts this long"
    )
    display_days: float = Field(
        365.0,
        gt=0,
        le=3650,
        description="A display's cookie, set by its display link, lasts this long (revoking "
        "the token ends it at once)",
    )
    secure_cookies: bool | None = Field(
        None,
        description="Mark cookies Secure (sent over HTTPS only); null: when web.tls is set. "
        "true behind a reverse proxy that terminates TLS",
    )

    @field_validator("users_file")
    @classmethod
    def _relative_to_config(cls, path: Path | None) -> Path | None:
        return None if path is None else resolve_path(path)


class WebTlsConfig(StrictModel):
    """HTTPS on the web port itself (or put a reverse proxy in front: docs/security.md)."""

    cert: Path | None = Field(
        None, description="PEM certificate chain; relative to the config file's folder"
    )
    key: Path | None = Field(None, description="PEM private key of `cert`")

    @field_validator("cert", "key")
    @classmethod
    def _relative_to_config(cls, path: Path | None) -> Path | None:
        return None if path is None else resolve_path(path)

    @model_validator(mode="after")
    def _both_or_neither(self) -> WebTlsConfig:
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both cert and key for TLS, or neither")
        return self

    @property
    def enabled(self) -> bool:
        """Both files are given."""
        return self.cert is not None


class WebConfig(StrictModel):
    """The local status page: the dashboard, the displays, health and metrics."""

    host: HostAddress = Field("0.0.0.0", description="Address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="Port; 0: any free port (tests)")
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description="Names the pages may be reached by (the Host header), besides localhost, "
        "this machine's hostname (and hostname.local) and any IP address; '*.gym.lan' allows "
        "every name under gym.lan. A request naming another host gets 421",
    )
    max_connections: int = Field(
        1024,
        ge=16,
        le=65536,
        description="Open connections at most (event streams included); past it a new one is "
        "answered 503 and closed",
    )
    backlog: int = Field(
        256, ge=16, le=65535, description="Connections waiting to be accepted at most"
    )
    idle_timeout_s: float = Field(
        15.0,
        gt=0,
        le=3600,
        description="A connection that has not sent a whole request this long after it opened "
        "or after its last answer is closed (half-open and slow-header clients)",
    )
    event_queue: int = Field(
        64,
        ge=8,
        le=10_000,
        description="Messages waiting for one event-stream client at most; a client that "
        "falls this far behind is disconnected (its page reconnects from a snapshot)",
    )
    auth: WebAuthConfig = Field(default_factory=WebAuthConfig, description="Logins and roles")
    tls: WebTlsConfig = Field(default_factory=WebTlsConfig, description="HTTPS")

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        """Host names or addresses, lower case; `*.` before a name allows those under it."""
        for name in names:
            validate_host(name.removeprefix("*."))
        return tuple(name.lower() for name in names)
