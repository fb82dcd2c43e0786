"""Topic names under the configured prefix (`mqtt.topic_prefix`).

The layout (docs/mqtt.md):

    <prefix>/status              retained: the daemon is online / offline / stopped
    <prefix>/stats               periodic figures, not retained
    <prefix>/<camera>/status     retained: the camera's stream health
    <prefix>/<camera>/state      retained: athlete present, phase, reps in the set
    <prefix>/<camera>/rep        events: one per rep (and rep updates)
    <prefix>/<camera>/set        events: one per set
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.errors import ConfigError


def validate_camera_id(camera_id: str) -> None:
    """Raises ConfigError unless `camera_id` can be one topic level (no `/`, `+`, `#`).

    A guard where a topic is built; the configuration's own, stricter rule on camera ids
    is `edge.settings.CAMERA_ID_PATTERN`.
    """
    what = f"camera id {camera_id!r}"
    if "/" in camera_id:
        raise ConfigError(f"{what} cannot contain '/': it is one topic level")
    if not camera_id:
        raise ConfigError(
            f"{what} has an empty topic level: remove leading, trailing or double '/'"
        )
    bad = [c for c in ("+", "#", "\0") if c in camera_id]
    if bad:
        raise ConfigError(f"{what} contains {bad[0]!r}: MQTT wildcards cannot be in a topic name")


@dataclass(frozen=True)
class Topics:
    """Topic names under one prefix; camera ids are validated on use.

    The prefix comes from `MqttConfig.topic_prefix`, whose validator holds the rule on it.
    """

    prefix: str

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
