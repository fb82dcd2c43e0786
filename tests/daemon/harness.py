"""What the daemon tests check on top of `devkit.daemon.DaemonProcess`.

Camera entries with test timeouts (`camera`, `swing_camera`); `Contract` checks every
MQTT payload a test receives against `docs/schemas/` and reads it as its type; `payloads`,
`rep_ids` and `latencies_s` read the received messages.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as mqtt

from edge.contract.schema import SCHEMA_TYPES

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
PREFIX = "hinge"


def camera(source: str | Path, **keys: Any) -> dict[str, Any]:
    """A camera entry; `keys` override the test defaults (short timeouts)."""
    entry: dict[str, Any] = {
        "source": str(source),
        "open_timeout_s": 3.0,
        "read_timeout_s": 1.0,
        "stall_timeout_s": 2.0,
    }
    return entry | keys


def swing_camera(clip: Path, **keys: Any) -> dict[str, Any]:
    """A file camera looping the swing clip, the exercise fixed (a deterministic count)."""
    return camera(clip, loop=True, exercise="swing", analysis_fps=10.0) | keys


def _validators() -> dict[str, jsonschema.Draft202012Validator]:
    validators = {}
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[path.name.removesuffix(".schema.json")] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker()
        )
    return validators


def schema_of(topic: str, payload: dict[str, Any], prefix: str = PREFIX) -> str:
    """Which schema a message on `topic` must follow (docs/mqtt.md's topic table)."""
    levels = topic.removeprefix(prefix + "/").split("/")
    if levels == ["status"]:
        return "status"
    if levels == ["stats"]:
        return "stats"
    if len(levels) != 2:
        raise AssertionError(f"topic outside the contract: {topic}")
    kind = levels[1]
    if kind == "rep":
        return "rep_update" if payload.get("event") == "rep_update" else "rep"
    if kind in ("set", "state"):
        return kind
    if kind == "status":
        return "camera_status"
    raise AssertionError(f"topic outside the contract: {topic}")


TYPES = {cls.kind: cls for cls in SCHEMA_TYPES}
"""Schema name -> payload type."""


class Contract:
    """Validates every message against its schema and reads it as its type; counts by kind.

    A message must also be exactly what its type writes (`from_json(...).to_json()` gives
    the same bytes): the daemon builds every payload from `edge.contract`.
    """

    def __init__(self, prefix: str = PREFIX) -> None:
        self._prefix = prefix
        self._validators = _validators()
        self.checked: Counter[str] = Counter()

    def check(self, messages: list[mqtt.MQTTMessage]) -> None:
        """Fails on the first message that breaks its schema (or has an unparsable time)."""
        for msg in messages:
            payload = json.loads(msg.payload)
            kind = schema_of(msg.topic, payload, self._prefix)
            errors = sorted(self._validators[kind].iter_errors(payload), key=str)
            assert not errors, f"{msg.topic} breaks {kind}.schema.json: {errors[0].message}"
            typed = TYPES[kind].from_json(msg.payload)
            assert typed.to_json().encode() == msg.payload, f"{msg.topic}: not as typed"
            for key in ("ts", "since", "frame_ts"):
                if isinstance(payload.get(key), str):
                    datetime.fromisoformat(payload[key])
            self.checked[kind] += 1


def payloads(messages: list[mqtt.MQTTMessage], suffix: str) -> list[dict[str, Any]]:
    """Decoded payloads of the messages whose topic ends with `suffix` (e.g. `/rep`)."""
    return [json.loads(m.payload) for m in messages if m.topic.endswith(suffix) and m.payload]


def rep_ids(messages: list[mqtt.MQTTMessage], camera_id: str | None = None) -> Counter[str]:
    """How often each rep event id arrived (rep updates left out); > 1 is a duplicate."""
    return Counter(
        p["id"]
        for p in payloads(messages, "/rep")
        if p["event"] == "rep" and camera_id in (None, p["camera"])
    )


def latencies_s(messages: list[mqtt.MQTTMessage]) -> list[float]:
    """Seconds from the frame in which each rep completed (`frame_ts`) to its receipt here.

    paho stamps a received message with `time.monotonic()`; it is turned into wall-clock
    time with the offset between the two clocks now (same machine, same clock as the
    daemon's `frame_ts`).
    """
    offset_s = time.time() - time.monotonic()
    delays = []
    for msg in messages:
        if not msg.topic.endswith("/rep"):
            continue
        event = json.loads(msg.payload)
        if event["event"] == "rep":
            frame_s = datetime.fromisoformat(event["frame_ts"]).timestamp()
            delays.append(msg.timestamp + offset_s - frame_s)
    return delays
