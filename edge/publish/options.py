"""What the MQTT publisher needs to know: connection options and topic names.

The daemon maps its pydantic `MqttConfig` onto `MqttOptions`, so this package does not
depend on the config module. Topic layout (docs/mqtt.md):

    <prefix>/status              retained: the daemon is online / offline / stopped
    <prefix>/stats               periodic figures, not retained
    <prefix>/<camera>/status     retained: the camera's stream health
    <prefix>/<camera>/state      retained: athlete present, phase, reps in the set
    <prefix>/<camera>/rep        events: one per rep (and rep updates)
    <prefix>/<camera>/set        events: one per set
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edge.errors import ConfigError

_FORBIDDEN = ("+", "#", "\0")


@dataclass(frozen=True)
class TlsOptions:
    """TLS to the broker.

    Attributes:
        ca_file: CA certificate(s) that signed the broker's certificate (PEM); None = the
            system's trusted CAs.
        cert_file: Client certificate (PEM), for brokers that require one; needs key_file.
        key_file: The client certificate's private key (PEM).
        insecure: Skip the check that the broker's certificate names its host (the chain is
            still verified). For testing only: it allows a man in the middle.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError("mqtt.tls: cert_file and key_file go together: set both or neither")


@dataclass(frozen=True)
class MqttOptions:
    """How to reach the broker and what to call things there.

    Attributes:
        host: Broker host name or address.
        port: Broker port (1883 plain, usually 8883 with TLS).
        topic_prefix: First level(s) of every topic, e.g. `hinge` or `gym-3/hinge`.
        client_id: MQTT client id; empty = a random one from paho. Give each daemon its
            own: two clients with one id throw each other off the broker in turn.
        username: User name, or None for anonymous access.
        password: Password (never logged, hidden from repr).
        qos: QoS of events and retained state messages (0, 1 or 2).
        keepalive_s: MQTT keepalive: the broker sends the last will after about 1.5 times
            this without a packet.
        tls: TLS options, or None for a plain connection.
        reconnect_min_s: First delay before reconnecting; doubles on each failure...
        reconnect_max_s: ...up to this.
    """

    host: str
    port: int = 1883
    topic_prefix: str = "hinge"
    client_id: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    qos: int = 1
    keepalive_s: int = 30
    tls: TlsOptions | None = None
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0

    def __post_init__(self) -> None:
        problems = []
        if not self.host:
            problems.append("host is empty: set the broker's host name or address")
        if not 1 <= self.port <= 65535:
            problems.append(f"port must be 1-65535, got {self.port}")
        if self.qos not in (0, 1, 2):
            problems.append(f"qos must be 0, 1 or 2, got {self.qos}")
        if self.keepalive_s < 5:
            problems.append(f"keepalive_s must be at least 5, got {self.keepalive_s}")
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            problems.append(
                "reconnect delays must satisfy 0 < reconnect_min_s <= reconnect_max_s, got "
                f"{self.reconnect_min_s} and {self.reconnect_max_s}"
            )
        if self.password is not None and self.username is None:
            problems.append("a password needs a username")
        if problems:
            raise ConfigError("mqtt: " + "; ".join(problems))
        validate_prefix(self.topic_prefix)


def validate_prefix(prefix: str) -> None:
    """Raises ConfigError unless `prefix` is one or more plain topic levels.

    Plain: no wildcard (`+`, `#`), no NUL, no empty level (leading, trailing or double
    `/`), and no leading `$` (reserved for broker topics such as `$SYS`).
    """
    if not prefix or prefix.startswith("$"):
        raise ConfigError(
            f"mqtt.topic_prefix must be non-empty and not start with $, got {prefix!r}"
        )
    for level in prefix.split("/"):
        _validate_level(level, f"mqtt.topic_prefix {prefix!r}")


def validate_camera_id(camera_id: str) -> None:
    """Raises ConfigError unless `camera_id` can be one topic level (no `/`, `+`, `#`)."""
    if "/" in camera_id:
        raise ConfigError(f"camera id {camera_id!r} cannot contain '/': it is one topic level")
    _validate_level(camera_id, f"camera id {camera_id!r}")


def _validate_level(level: str, what: str) -> None:
    if not level:
        raise ConfigError(
            f"{what} has an empty topic level: remove leading, trailing or double '/'"
        )
    bad = [c for c in _FORBIDDEN if c in level]
    if bad:
        raise ConfigError(f"{what} contains {bad[0]!r}: MQTT wildcards cannot be in a topic name")


@dataclass(frozen=True)
class Topics:
    """Topic names under one prefix (validated); camera ids are validated on use."""

    prefix: str

    def __post_init__(self) -> None:
        validate_prefix(self.prefix)

    @property
    def status(self) -> str:
        """`<prefix>/status`: the daemon's availability (retained, the last will)."""
        return f"{self.prefix}/status"

    @property
    def stats(self) -> str:
        """`<prefix>/stats`: periodic figures (not retained)."""
        return f"{self.prefix}/stats"

    def camera_status(self, camera_id: str) -> str:
        """`<prefix>/<camera>/status`: the camera's stream health (retained)."""
        return self._camera(camera_id, "status")

    def state(self, camera_id: str) -> str:
        """`<prefix>/<camera>/state`: what the camera sees now (retained)."""
        return self._camera(camera_id, "state")

    def rep(self, camera_id: str) -> str:
        """`<prefix>/<camera>/rep`: rep and rep_update events."""
        return self._camera(camera_id, "rep")

    def set(self, camera_id: str) -> str:
        """`<prefix>/<camera>/set`: set summaries."""
        return self._camera(camera_id, "set")

    def _camera(self, camera_id: str, leaf: str) -> str:
        validate_camera_id(camera_id)
        return f"{self.prefix}/{camera_id}/{leaf}"
