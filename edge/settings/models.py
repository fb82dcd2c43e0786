"""The root of the configuration: it assembles the stages' sections, every field documented.

Each stage owns its section in its own package: `mqtt` and `spool` in
`edge/publish/config.py`, `pose` in `edge/pose/config.py`, `hinge` in
`edge/hinge/config.py`, and a camera's capture keys in `edge/capture/config.py`. Here are
only the daemon's own: the camera entries (capture keys plus source, zone and analysis),
the status page, the log and the root. `AppSettings` is pydantic-settings: keyword
arguments override environment variables (`HINGE_EDGE_MQTT__HOST`), which override the
YAML file, which overrides the defaults. Unknown keys are errors at every level.
docs/config.md is generated from the field descriptions (tools/config_docs.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from edge.capture.config import CaptureConfig
from edge.capture.source import SourceKind as CaptureKind
from edge.capture.source import parse_source
from edge.config_base import StrictModel, resolve_path
from edge.daemon.config import WebConfig
from edge.errors import SourceError
from edge.hinge.config import Exercise, HingeConfig
from edge.pose.config import PoseConfig
from edge.publish.config import MqttConfig, SiteConfig, SpoolConfig, UpstreamConfig
from edge.redact import redact_url
from edge.settings.sources import yaml_sources

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


class CameraConfig(CaptureConfig):
    """One camera watching one platform.

    Its capture keys (`loop`, the timeouts) are `edge.capture.CaptureConfig`'s: the entry
    goes to the camera's reader as it is.
    """

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
    exercise: Exercise | None = Field(
        None, description="Fix the exercise (overrides hinge.exercise); null: recognise it"
    )
    images: bool = Field(
        False, description="Keep stills of the athlete (privacy: off unless switched on)"
    )
    enabled: bool = Field(True, description="false: keep the entry but do not open the camera")

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
    """The root of the operator configuration: each stage's section, assembled."""

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
    site: SiteConfig = Field(
        default_factory=SiteConfig, description="The box's gym and name in a gym or chain"
    )
    upstream: UpstreamConfig | None = Field(
        None,
        description="The central broker of a gym or chain to forward events to (needs site); "
        "null: events stay on this box's broker",
    )
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
        return yaml_sources(settings_cls, init_settings, env_settings)

    @field_validator("cameras")
    @classmethod
    def _some_camera(cls, cameras: dict[str, CameraConfig]) -> dict[str, CameraConfig]:
        if not cameras:
            raise ValueError("at least one camera is needed: add one under cameras:")
        return cameras

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

    @model_validator(mode="after")
    def _upstream_needs_site(self) -> AppSettings:
        if self.upstream is not None and not self.site.configured:
            raise ValueError(
                "upstream is set but site is not: set site.gym and site.box, which name this "
                "box's topics on the central broker"
            )
        return self

    def hinge_for(self, camera_id: str) -> HingeConfig:
        """The hinge section for one camera, with the camera's `exercise` applied."""
        exercise = self.cameras[camera_id].exercise
        if exercise is None:
            return self.hinge
        return self.hinge.model_copy(update={"exercise": exercise})
