"""A short, secret-free description of loaded settings (`hinge-edge check-config`)."""

from __future__ import annotations

import os
from pathlib import Path

from edge.publish.config import MqttConfig
from edge.redact import redact_url
from edge.settings.models import ENV_PREFIX, AppSettings, CameraConfig, source_kind


def summarize(settings: AppSettings, path: Path | None = None) -> list[str]:
    """Lines describing the settings; camera passwords and the MQTT password are masked.

    Args:
        settings: Loaded settings.
        path: The file they came from, for the first line.

    Returns:
        One line per item, then `warning: ...` lines for things worth a look (a camera
        file that does not exist yet) that do not make the configuration invalid.
    """
    enabled = sum(camera.enabled for camera in settings.cameras.values())
    lines = [
        f"config OK: {path if path is not None else '(no file: environment and defaults)'}",
        f"cameras: {len(settings.cameras)} ({enabled} enabled)",
    ]
    lines += [f"  {cid}: {_camera(camera)}" for cid, camera in settings.cameras.items()]
    site = settings.site
    if site.gym is not None and site.box is not None:
        lines.append(f"site: gym {site.gym}, box {site.box}")
    lines.append(f"mqtt: {_mqtt(settings.mqtt)}")
    if settings.upstream is not None and site.gym is not None and site.box is not None:
        upstream = settings.upstream.for_site(site.gym, site.box)
        lines.append(f"upstream: {_mqtt(upstream)}")
    lines += [
        f"spool: {settings.spool.path} (at most {settings.spool.max_messages} events, "
        f"{settings.spool.when_full} when full)",
        f"web: {settings.web.host}:{settings.web.port}"
        f"{' (https)' if settings.web.tls.enabled else ''}, "
        f"{'logins on' if settings.web.auth.enabled else 'logins OFF: open to anyone'}",
        f"log: {settings.log.level}, {settings.log.format}; stats every "
        f"{settings.stats_interval_s:g} s",
    ]
    overrides = sorted(name for name in os.environ if name.upper().startswith(ENV_PREFIX))
    if overrides:
        lines.append(f"environment overrides: {', '.join(overrides)}")
    return lines + _warnings(settings)


def _camera(camera: CameraConfig) -> str:
    kind: str = source_kind(camera.source)
    if camera.loop:
        kind += ", looped"
    if camera.zone is None:
        zone = "whole frame"
    else:
        zone = " ".join(f"({x:g},{y:g})" for x, y in camera.zone)
    parts = [
        f"{redact_url(camera.source, whole=True)} ({kind})",
        f"zone {zone}",
        f"{camera.analysis_fps:g} fps",
        f"exercise {camera.exercise or 'recognised'}",
        f"images {'on' if camera.images else 'off'}",
    ]
    if not camera.enabled:
        parts.append("DISABLED")
    return ", ".join(parts)


def _mqtt(mqtt: MqttConfig) -> str:
    where = f"local broker on port {mqtt.port}" if mqtt.host is None else f"{mqtt.host}:{mqtt.port}"
    if mqtt.failover:
        where += f" (failover {', '.join(mqtt.failover)})"
    if mqtt.username is None:
        auth = "anonymous"
    else:
        auth = f"user {mqtt.username} {'with' if mqtt.password else 'without'} password"
    tls = "TLS on" if mqtt.tls.enabled else "TLS off"
    return (
        f"{where}, topics {mqtt.topic_prefix}/<camera>/..., "
        f"client id {mqtt.client_id}, "
        f"{auth}, QoS {mqtt.qos}, {tls}"
    )


def _warnings(settings: AppSettings) -> list[str]:
    warnings = []
    for cid, camera in settings.cameras.items():
        kind = source_kind(camera.source)
        if kind == "file" or camera.source.startswith("/dev/"):
            if not Path(camera.source).exists():
                shown = redact_url(camera.source, whole=True)
                warnings.append(f"warning: cameras.{cid}.source: no such {kind} (yet): {shown}")
    return warnings
