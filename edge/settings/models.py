"""The configuration models: one section per component, every field documented.

`AppSettings` is the root (pydantic-settings): keyword arguments override environment
variables (`HINGE_EDGE_MQTT__HOST`), which override the YAML file, which overrides the
defaults. Unknown keys are errors at every level. docs/config.md is generated from the
field descriptions here (tools/config_docs.py).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from edge.capture.source import SourceKind as CaptureKind
from edge.capture.source import parse_source
from edge.config import PoseConfig, StrictModel
from edge.errors import SourceError
from edge.hinge.config import Exercise, HingeConfig
from edge.redact import redact_url
from edge.settings.sources import CURRENT_LOAD, YamlFileSource, resolve_path

ENV_PREFIX = "HINGE_EDGE_"
CAMERA_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
SourceKind = Literal["stream", "file", "device"]
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


def source_kind(source: str) -> SourceKind:
    """Tells a camera source's kind as the camera reader will read it.

    `stream` (a URL), `device` (usb:N, N, /dev/videoN) or `file`; the parsing is
    `edge.capture.parse_source`'s.

    Raises:
        SourceError: An empty source, or `usb:` without a device index.
    """
    kind = parse_source(source).kind
    if kind is CaptureKind.FILE:
        return "file"
    return "device" if kind is CaptureKind.USB else "stream"


def _check_camera_id(camera_id: str) -> str:
    if not re.fullmatch(CAMERA_ID_PATTERN, camera_id):
        raise ValueError(
            "invalid camera id: use 1 to 32 of a-z, 0-9, '_' and '-', starting "
            "with a letter or digit (it becomes an MQTT topic level)"
        )
    return camera_id


CameraId = Annotated[str, AfterValidator(_check_camera_id)]
Coordinate = Annotated[float, Field(ge=0, le=1)]
Polygon = tuple[tuple[Coordinate, Coordinate], ...]  # at least 3 points (checked after)


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

    host: str | None = Field(
        None,
        min_length=1,
        description="Broker host name or address; null (or left out): the daemon starts a "
        "local broker",
    )
    port: int = Field(
        1883, ge=1, le=65535, description="Broker port (the local broker's too, when host is null)"
    )
    topic_prefix: str = Field(
        "hinge", description="First topic levels: events go to <prefix>/<camera>/..."
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
        description="MQTT client id; null: hinge-edge-<hostname>",
    )
    keepalive_s: int = Field(30, ge=5, le=65535, description="MQTT keep-alive interval")
    reconnect_min_s: float = Field(1.0, gt=0, le=3600, description="First reconnect delay")
    reconnect_max_s: float = Field(
        30.0, gt=0, le=3600, description="Reconnect delay cap (the delay doubles up to it)"
    )
    tls: TlsConfig = Field(default_factory=TlsConfig, description="TLS settings")

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
    def _default_client_id(cls, client_id: str | None) -> str:
        return client_id if client_id is not None else f"hinge-edge-{socket.gethostname()}"

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        if self.password is not None and self.username is None:
            raise ValueError("password is set but username is not: set mqtt.username too")
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self


class CameraConfig(StrictModel):
    """One camera watching one platform."""

    source: str = Field(
        min_length=1,
        description="rtsp://[user:pass@]host/path (or http, rtmp...), a video file (relative "
        "to the config file's folder) or a device (/dev/video0, 0); passwords are redacted",
    )
    zone: Polygon | None = Field(
        None,
        description="Platform polygon, at least 3 [x, y] points relative to the frame (0..1); "
        "null: the whole frame",
    )
    analysis_fps: float = Field(
        10.0, gt=0, le=60, description="Pose runs at most this often for this camera"
    )
    loop: bool = Field(False, description="File sources: start again at the end")
    exercise: Exercise | None = Field(
        None, description="Fix the exercise (overrides hinge.exercise); null: recognise it"
    )
    images: bool = Field(
        False, description="Keep stills of the athlete (privacy: off unless switched on)"
    )
    enabled: bool = Field(True, description="false: keep the entry but do not open the camera")
    open_timeout_s: float = Field(5.0, gt=0, le=300, description="Give up opening after this")
    read_timeout_s: float = Field(2.0, gt=0, le=300, description="Give up one read after this")
    stall_timeout_s: float = Field(
        5.0, gt=0, le=3600, description="No new frame for this long: reconnect"
    )

    @field_validator("source")
    @classmethod
    def _source_form(cls, source: str) -> str:
        for scheme in _STREAM_SCHEMES:
            if source.lower().startswith(f"{scheme}:") and not _URL_SCHEME.match(source):
                raise ValueError(f"looks like a {scheme} URL without '//' after '{scheme}:'")
        try:
            kind = source_kind(source)
        except SourceError as err:
            raise ValueError(str(err)) from None
        if kind == "file":
            return str(resolve_path(Path(source)))
        return source

    @field_validator("zone")
    @classmethod
    def _zone_area(cls, zone: Polygon | None) -> Polygon | None:
        if zone is None:
            return None
        if len(zone) < 3:
            raise ValueError(f"a zone needs at least 3 [x, y] points, got {len(zone)}")
        if _polygon_area(zone) < 1e-6:
            raise ValueError("the zone has no area (its points lie on a line): check the order")
        return zone

    @model_validator(mode="after")
    def _loop_files_only(self) -> CameraConfig:
        if self.loop and source_kind(self.source) != "file":
            raise ValueError("loop applies to video files only; set loop: false for this source")
        return self

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, redact_url(value, whole=True) if name == "source" else value


def _polygon_area(points: Polygon) -> float:
    """Shoelace formula (absolute area, relative units)."""
    total = 0.0
    for (x0, y0), (x1, y1) in zip(points, (*points[1:], points[0]), strict=True):
        total += x0 * y1 - x1 * y0
    return abs(total) / 2


class SpoolConfig(StrictModel):
    """The on-disk queue of events while the broker is unreachable."""

    path: Path = Field(
        Path("spool"),
        validate_default=True,
        description="Spool folder; relative to the config file's folder",
    )
    max_messages: int = Field(100_000, ge=1, le=10_000_000, description="Events kept at most")
    when_full: Literal["drop_oldest", "reject_new"] = Field(
        "drop_oldest", description="drop_oldest: make room; reject_new: keep the old events"
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return resolve_path(path)


class WebConfig(StrictModel):
    """The local status page."""

    host: str = Field("0.0.0.0", min_length=1, description="Address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="Port; 0: any free port (tests)")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class LogConfig(StrictModel):
    """Log lines on stderr."""

    level: Annotated[Literal["debug", "info", "warning", "error"], BeforeValidator(_lower)] = Field(
        "info", description="Least severe level logged"
    )
    format: Literal["text", "json"] = Field(
        "text", description="text: one readable line; json: one JSON object per line"
    )


class AppSettings(BaseSettings):
    """The root of the operator configuration; each component gets its own section."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_parse_none_str="null",
        extra="forbid",
        frozen=True,
    )

    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="The MQTT broker")
    cameras: dict[CameraId, CameraConfig] = Field(
        description="Cameras by id (an id becomes an MQTT topic level: 1 to 32 of a-z, 0-9, _ "
        "and -, starting with a letter or digit)"
    )
    spool: SpoolConfig = Field(default_factory=SpoolConfig, description="Event spool")
    web: WebConfig = Field(default_factory=WebConfig, description="Status page")
    pose: PoseConfig = Field(default_factory=PoseConfig, description="Pose models")
    hinge: HingeConfig = Field(default_factory=HingeConfig, description="Hinge scoring")
    log: LogConfig = Field(default_factory=LogConfig, description="Logging")
    stats_interval_s: float = Field(
        30.0, gt=0, le=3600, description="How often the daemon logs and publishes its statistics"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the YAML file (or embedded default)."""
        state = CURRENT_LOAD.get()
        if state is None or (state.path is None and state.data is None):
            return init_settings, env_settings
        return init_settings, env_settings, YamlFileSource(settings_cls, state)

    @field_validator("cameras")
    @classmethod
    def _some_camera(cls, cameras: dict[str, CameraConfig]) -> dict[str, CameraConfig]:
        if not cameras:
            raise ValueError("at least one camera is needed: add one under cameras:")
        return cameras

    @field_validator("pose")
    @classmethod
    def _models_dir(cls, pose: PoseConfig) -> PoseConfig:
        if pose.models_dir is None:
            return pose
        return pose.model_copy(update={"models_dir": resolve_path(pose.models_dir)})

    @field_validator("web")
    @classmethod
    def _ports_apart(cls, web: WebConfig, info: ValidationInfo) -> WebConfig:
        mqtt = info.data.get("mqtt")  # absent if the mqtt section itself is invalid
        if mqtt is not None and mqtt.host is None and web.port == mqtt.port:
            raise ValueError(
                f"web.port and mqtt.port are both {web.port}, but the local broker listens on "
                "mqtt.port: change one of them"
            )
        return web

    def hinge_for(self, camera_id: str) -> HingeConfig:
        """The hinge section for one camera, with the camera's `exercise` applied."""
        exercise = self.cameras[camera_id].exercise
        if exercise is None:
            return self.hinge
        return self.hinge.model_copy(update={"exercise": exercise})
