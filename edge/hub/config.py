"""The hub's configuration: the central broker, PostgreSQL, the worker, the dashboard.

    settings = load_hub_settings(Path("hub.yaml"))   # raises ConfigError listing every issue

A YAML file and `HINGE_HUB_...` environment variables (`HINGE_HUB_DATABASE__DSN`,
`HINGE_HUB_BROKER__PASSWORD`), loaded and checked as the box's own configuration is
(`edge.settings`: the strict YAML loader, one `ConfigIssue` per problem with its line or
variable). Sections: `broker` (the cluster's nodes; the worker connects to one and moves
to the next when it fails), `database`, `hub` (the worker's name and time zone), `web`
(the chain dashboard: `edge.hub.web.HubWebConfig`, its owner's) and `log`.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from edge.config_base import HostAddress, StrictModel
from edge.daemon.config import WebConfig
from edge.log import register_secret
from edge.publish.config import MqttConfig
from edge.redact import url_secrets
from edge.settings import LogConfig
from edge.settings.loader import build, load_state
from edge.settings.sources import yaml_sources

ENV_PREFIX = "HINGE_HUB_"
STALE_AFTER_S = 90.0
"""A box silent this long is DOWN: three of the daemon's default 30 s stats intervals."""
MAX_DAYS = 366
"""The longest history a platform's page shows."""
WORKER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class BrokerNode(StrictModel):
    """One node of the central broker cluster."""

    host: HostAddress = Field(description="Host name or address")
    port: int = Field(1883, ge=1, le=65535, description="Its MQTT port")

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class HubBrokerConfig(MqttConfig):
    """The central (clustered) broker: `host`/`port` its first node, `failover` the others.

    The box's `mqtt` section plus the other nodes: the worker connects to one node and
    moves to the next when it cannot reach it or loses it. The hub's client id is
    `hub-<hub.name>` and it subscribes at QoS 1, so `client_id` and `qos` are not set here.
    """

    @model_validator(mode="after")
    def _hub_rules(self) -> HubBrokerConfig:
        if self.host is None:
            raise ValueError("broker.host is required: the central broker's (first) node")
        for key in ("client_id", "qos"):
            if key in self.model_fields_set:
                raise ValueError(
                    f"broker.{key} is not set for the hub: its client id is hub-<hub.name>, "
                    "its subscriptions QoS 1"
                )
        return self

    @property
    def nodes(self) -> tuple[BrokerNode, ...]:
        """Every node, the first one first."""
        return tuple(BrokerNode(host=host, port=port) for host, port in self.endpoints())


class DatabaseConfig(StrictModel):
    """The PostgreSQL database the hub writes (its schema is migrated at start)."""

    dsn: SecretStr = Field(
        description="libpq connection string or URL (`postgresql://hub:PASSWORD@db:5432/"
        "hinge`, or `host=db dbname=hinge user=hub`); libpq's PG* variables fill the gaps"
    )
    connect_timeout_s: int = Field(5, ge=1, le=600, description="Connection timeout")

    def conninfo(self) -> str:
        """The libpq connection string with the timeout (contains the password: never log it)."""
        from urllib.parse import urlsplit

        dsn = self.dsn.get_secret_value()
        timeout = f"connect_timeout={self.connect_timeout_s}"
        if "://" not in dsn:
            return f"{dsn} {timeout}"
        return dsn + ("&" if urlsplit(dsn).query else "?") + timeout


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as UTC or Europe/Berlin"
        ) from None
    return name


class HubWebConfig(WebConfig):
    """The hub's `web` section: the daemon's (logins, TLS, bounds) and the page settings."""

    host: HostAddress = Field(
        "127.0.0.1",
        description="Address to listen on; loopback by default (a reverse proxy with TLS in "
        "front, or 0.0.0.0 with web.tls set)",
    )
    port: int = Field(8090, ge=0, le=65535, description="Port; 0: any free port (tests)")
    stale_after_s: float = Field(
        STALE_AFTER_S,
        gt=0,
        le=3600,
        description="A box silent this long (no status, stats or event) is DOWN with its "
        "cameras: three times the boxes' stats_interval_s",
    )
    refresh_s: float = Field(
        5.0, ge=1, le=300, description="How often the pages ask for fresh data"
    )
    history_days: int = Field(
        14, ge=1, le=MAX_DAYS, description="Days a platform's history page shows by default"
    )


class WorkerConfig(StrictModel):
    """This hub worker: its name (client id hub-<name>), its day boundaries, its batches."""

    name: str = Field(
        default_factory=socket.gethostname,
        pattern=WORKER_NAME_PATTERN,
        description="Worker name, unique among the hub's workers: its MQTT client id is "
        "hub-<name> and its persistent session keeps what arrives while it is down; "
        "default: the host name",
    )
    timezone: Annotated[str, BeforeValidator(str)] = Field(
        "UTC", description="IANA time zone whose dates are the summaries' days"
    )
    batch_max: int = Field(
        200, ge=1, le=10_000, description="Messages written in one transaction at most"
    )
    batch_wait_ms: float = Field(
        50, ge=0, le=10_000, description="How long a batch waits for more messages"
    )
    db_retry_max_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Cap of the delay between retries while the database is away",
    )
    stats_interval_s: float = Field(
        30.0, gt=0, le=3600, description="How often the worker logs its figures"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _check_timezone(name)


class HubSettings(BaseSettings):
    """The root of the hub's configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_parse_none_str="null",
        extra="forbid",
        frozen=True,
    )

    broker: HubBrokerConfig = Field(description="The central broker cluster")
    database: DatabaseConfig = Field(description="PostgreSQL")
    hub: WorkerConfig = Field(default_factory=WorkerConfig, description="This worker")
    web: HubWebConfig = Field(default_factory=HubWebConfig, description="The chain dashboard")
    log: LogConfig = Field(default_factory=LogConfig, description="Logging")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the YAML file."""
        return yaml_sources(settings_cls, init_settings, env_settings)

    @property
    def client_id(self) -> str:
        """The worker's MQTT client id."""
        return f"hub-{self.hub.name}"


def load_hub_settings(path: Path | None, data: dict[str, Any] | None = None) -> HubSettings:
    """Loads and checks the hub's configuration.

    Args:
        path: The YAML file; None: only `data` (if given) and the environment.
        data: A configuration given as a mapping (tests, tools), in place of a file.

    Raises:
        ConfigError: The file is missing or unreadable, or any key is wrong; every problem
            is one `ConfigIssue` in `err.issues`.
    """
    settings = build(HubSettings, ENV_PREFIX, load_state(path, data))
    _register_secrets(settings)
    return settings


def _register_secrets(settings: HubSettings) -> None:
    """Makes the log filter mask the broker's password, the DSN and a password in it."""
    if settings.broker.password is not None:
        register_secret(settings.broker.password.get_secret_value())
    dsn = settings.database.dsn.get_secret_value()
    register_secret(dsn)
    for value in url_secrets(dsn) + re.findall(r"password\s*=\s*'?([^'\s]+)", dsn):
        register_secret(value)
