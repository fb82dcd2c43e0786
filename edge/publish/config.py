"""The publish stage's config sections: `mqtt:`, `spool:`, `site:` and `upstream:`.

The MQTT broker, the spool, the box's place in a gym or chain and the central broker it
forwards to (docs/chain.md).

`Publisher` takes `MqttConfig` and `Spool` takes `SpoolConfig` as they are; every rule on
their keys is here, once. A null `mqtt.host` means the daemon starts a local broker: the
daemon hands the publisher the section with that broker's address filled in.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from edge.config_base import HostAddress, StrictModel, resolve_path, validate_host
from edge.contract.wire import SITE_ID_PATTERN

FullPolicy = Literal["drop_oldest", "reject_new"]


class TlsConfig(StrictModel):
    """TLS towards the MQTT broker."""

    enabled: bool = Field(False, description="Connect with TLS (usually port 8883)")
    ca_file: Path | None = Field(
        None, description="CA certificate (PEM) that signed the broker's; null: system CAs"
    )
    cert_file: Path | None = Field(
        None, description="Client certificate (PEM) for mutual TLS; needs key_file"
    )
    key_file: Path | None = Field(None, description="Private key (PEM) of cert_file")
    insecure: bool = Field(False, description="Skip the broker host name check (test set-ups only)")

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _file_present(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        if path is None:
            return None
        path = resolve_path(path)
        if info.data.get("enabled") and not path.is_file():
            raise ValueError(f"no such file: {path} (TLS is enabled, so it must exist)")
        return path

    @model_validator(mode="after")
    def _cert_with_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: set both or neither")
        return self


class MqttConfig(StrictModel):
    """Where rep events go."""

    host: HostAddress | None = Field(
        None,
        description="Broker host name or address; null (or left out): the daemon starts a "
        "local broker",
    )
    port: int = Field(
        1883, ge=1, le=65535, description="Broker port (the local broker's too, when host is null)"
    )
    topic_prefix: str = Field(
        "hinge",
        description="First topic levels: events go to <prefix>/<camera>/... (upstream: "
        "<prefix>/<gym>/<box>/<camera>/...)",
    )
    username: str | None = Field(None, min_length=1, description="Broker user name")
    password: SecretStr | None = Field(
        None, description="Broker password (needs username); never logged or printed"
    )
    qos: int = Field(1, ge=0, le=2, description="MQTT quality of service of events: 0, 1 or 2")
    client_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        validate_default=True,
        description="MQTT client id; null: hinge-edge-<hostname> (upstream: hinge-<gym>-<box>)",
    )
    keepalive_s: int = Field(30, ge=5, le=65535, description="MQTT keep-alive interval")
    reconnect_min_s: float = Field(1.0, gt=0, le=3600, description="First reconnect delay")
    reconnect_max_s: float = Field(
        30.0, gt=0, le=3600, description="Reconnect delay cap (the delay doubles up to it)"
    )
    tls: TlsConfig = Field(default_factory=TlsConfig, description="TLS settings")
    failover: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Other nodes of a clustered broker as host:port, tried in turn when the "
        "current one cannot be reached",
    )

    @field_validator("failover")
    @classmethod
    def _endpoints(cls, failover: list[str]) -> list[str]:
        for endpoint in failover:
            parse_endpoint(endpoint)
        return failover

    def endpoints(self) -> list[tuple[str, int]]:
        """(host, port) of the broker, then of each failover node, in the order tried."""
        if self.host is None:
            raise ValueError("mqtt.host is null: the local broker's address is filled in later")
        return [(self.host, self.port), *(parse_endpoint(e) for e in self.failover)]

    @field_validator("topic_prefix")
    @classmethod
    def _topic_levels(cls, prefix: str) -> str:
        if not prefix or any(c in prefix for c in "+#\0"):
            raise ValueError("a topic prefix must be non-empty and hold no '+', '#' or NUL")
        if "" in prefix.split("/") or prefix.startswith("$"):
            raise ValueError(
                "a topic prefix needs non-empty levels (no leading, trailing or double '/') "
                "and must not start with '$'"
            )
        return prefix

    @field_validator("client_id")
    @classmethod
    def _default_client_id(cls, client_id: str | None) -> str | None:
        return client_id if client_id is not None else cls.default_client_id()

    @classmethod
    def default_client_id(cls) -> str | None:
        """The client id of a section that sets none: hinge-edge-<hostname>."""
        return f"hinge-edge-{socket.gethostname()}"

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        if self.password is not None and self.username is None:
            raise ValueError("password is set but username is not: set mqtt.username too")
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port` for an IPv6 address) -> (host, port).

    Raises:
        ValueError: Not host:port, a bad host name or a port outside 1-65535.
    """
    match = re.fullmatch(r"\[([^]]+)\]:(\d+)|([^:\[\]]+):(\d+)", endpoint)
    if match is None:
        raise ValueError(f"{endpoint!r} is not host:port")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if not 1 <= port <= 65535:
        raise ValueError(f"{endpoint!r}: the port must be 1-65535")
    return validate_host(host), port


class SiteConfig(StrictModel):
    """Where the box stands: its gym and its own name there (docs/chain.md).

    Both set: every payload carries them, events carry the box's sequence number, and the
    `upstream:` section can forward them off the box. Both null: a single box, payloads
    exactly as before.
    """

    gym: str | None = Field(
        None,
        pattern=SITE_ID_PATTERN,
        description="The gym's id, the same on every box of the gym (1 to 32 of a-z, 0-9, _ and -)",
    )
    box: str | None = Field(
        None,
        pattern=SITE_ID_PATTERN,
        description="This box's id, unique within its gym (1 to 32 of a-z, 0-9, _ and -)",
    )

    @model_validator(mode="after")
    def _both(self) -> SiteConfig:
        if (self.gym is None) != (self.box is None):
            raise ValueError("site.gym and site.box go together: set both or neither")
        return self

    @property
    def configured(self) -> bool:
        """Both ids are set."""
        return self.gym is not None


class UpstreamConfig(MqttConfig):
    """The central (clustered) broker a box of a gym or chain forwards its events to.

    The keys of `mqtt:`, with the broker's host required; topics go under
    `<topic_prefix>/<gym>/<box>/`. Events go through a spool of their own
    (`<spool.path>/upstream`), so a WAN outage loses nothing the spool holds.
    """

    host: HostAddress = Field(
        description="Central broker host name or address (one node of the cluster)"
    )

    @classmethod
    def default_client_id(cls) -> str | None:
        """None: `for_site` fills in hinge-<gym>-<box>, unique across the chain."""
        return None

    def for_site(self, gym: str, box: str) -> UpstreamConfig:
        """The section its publisher gets.

        Topics under <prefix>/<gym>/<box>; the client id hinge-<gym>-<box> unless one is set.
        """
        return self.model_copy(
            update={
                "topic_prefix": f"{self.topic_prefix}/{gym}/{box}",
                "client_id": self.client_id or f"hinge-{gym}-{box}",
            }
        )


class SpoolConfig(StrictModel):
    """The on-disk queue of events while the broker is unreachable."""

    path: Path = Field(
        Path("spool"),
        validate_default=True,
        description="Spool folder; relative to the config file's folder",
    )
    max_messages: int = Field(100_000, ge=1, le=10_000_000, description="Events kept at most")
    when_full: FullPolicy = Field(
        "drop_oldest", description="drop_oldest: make room; reject_new: keep the old events"
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return resolve_path(path)
