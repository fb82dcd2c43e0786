"""Event messages as integrators receive them: the hinge engine's payloads, stamped.

The same function stamps events for MQTT (the daemon) and for `replay --events`, so a
file written by a replay holds exactly what a subscriber would have received. The JSON
Schemas are in `docs/schemas/`, documented in `docs/events.md`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def iso(wall_time_s: float) -> str:
    """Wall-clock seconds -> ISO 8601 UTC with milliseconds (every `ts` of our events)."""
    return datetime.fromtimestamp(wall_time_s, UTC).isoformat(timespec="milliseconds")


def stamp(event: dict[str, Any], camera_id: str, wall_time_s: float | None) -> dict[str, Any]:
    """Adds the camera and the wall-clock time (ISO 8601 UTC, or None in a replay)."""
    ts = None if wall_time_s is None else iso(wall_time_s)
    return {**event, "camera": camera_id, "ts": ts}


def to_json(message: dict[str, Any]) -> str:
    """One compact JSON line (no NaN: the engine already turned them into null)."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False)
