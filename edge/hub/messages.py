"""What the hub receives, read and checked before anything touches the database.

`read_message(topic, payload, ...)` turns one MQTT message from the central broker into
one of `EventRow` (rep, rep_update, set), `BoxStatus`, `CameraDoc` (a camera's status or
state) or `Heartbeat` (stats), or raises `Malformed` saying why. The topic is
authoritative for gym and box (the broker's ACL lets a box publish only under its own);
a payload that names another gym, box or camera than its topic is refused, as is an
event without a wall-clock time (a replay's), which has no day.

Payloads are parsed with the contract's own types (`edge.contract`), strictly. `gym`,
`box` and `seq` are read from the JSON object itself and removed before the contract's
parser sees them while the contract's types do not declare them yet.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from edge.contract import (
    CameraState,
    CameraStatus,
    ContractError,
    DaemonStatus,
    RepEvent,
    RepUpdate,
    SetEvent,
    Stats,
    parse_event,
)
from edge.contract.wire import Sited

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
"""Gym, box and camera ids (docs/mqtt.md): one topic level, no dots (NATS subjects)."""
_EVENT_TOPICS = {"rep": ("rep", "rep_update"), "set": ("set",)}


class Malformed(ValueError):
    """A message the hub cannot store: acknowledged, counted and logged, never retried."""


@dataclass(frozen=True)
class EventRow:
    """An event as the `events` table holds it, with what the summaries need.

    Attributes:
        score: rep and rep_update: the score (None for a squat).
        codes: rep and rep_update: its fault codes, each once, in the payload's order.
        rep_id: rep_update: the rep it completes.
        set_seconds: set: t_end_s - t_start_s.
    """

    id: str
    kind: str
    gym: str
    box: str
    camera: str
    seq: int | None
    ts: datetime
    day: date
    payload: dict[str, Any]
    score: float | None = None
    codes: tuple[str, ...] = ()
    rep_id: str | None = None
    set_id: str | None = None
    exercise: str | None = None
    set_seconds: float = 0.0


@dataclass(frozen=True)
class BoxStatus:
    """A box's DaemonStatus; `at` is its own time (`since`, or when the hub got a will)."""

    gym: str
    box: str
    status: str
    run_id: str
    version: str
    problem: str | None
    at: datetime


@dataclass(frozen=True)
class CameraDoc:
    """A camera's CameraStatus (`which` = "status") or CameraState ("state") payload."""

    gym: str
    box: str
    camera: str
    which: str
    doc: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class Heartbeat:
    """A box's Stats: its time (boxes.last_seen), its run, when the hub got it.

    Stats go at QoS 0, so the broker never keeps or re-sends one: a heartbeat the hub
    receives was sent just now, over a live connection.
    """

    gym: str
    box: str
    at: datetime
    run_id: str
    received: datetime


Parsed = EventRow | BoxStatus | CameraDoc | Heartbeat


_S = TypeVar("_S", bound=Sited)


def read_message(
    topic: str, payload: bytes, prefix: str, timezone: ZoneInfo, received: datetime
) -> Parsed:
    """Reads one message of the central broker.

    Args:
        topic: `<prefix>/<gym>/<box>/<camera>/{rep,set,status,state}` or
            `<prefix>/<gym>/<box>/{status,stats}`.
        payload: The JSON payload.
        prefix: The boxes' upstream topic prefix.
        timezone: Whose dates are the days.
        received: When the hub got it (the time of a last will, which has none).

    Raises:
        Malformed: Why it cannot be stored.
    """
    levels = _levels(topic, prefix)
    try:
        raw = json.loads(payload, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as err:
        raise Malformed(f"not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise Malformed("the payload is not a JSON object")
    try:
        if len(levels) == 4:
            return _camera_message(levels, raw, timezone)
        return _box_message(levels, raw, received)
    except ContractError as err:
        raise Malformed(str(err)) from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # PostgreSQL's jsonb has no NaN or Infinity


def _levels(topic: str, prefix: str) -> list[str]:
    if not topic.startswith(prefix + "/"):
        raise Malformed(f"topic {topic!r} is not under {prefix}/")
    levels = topic[len(prefix) + 1 :].split("/")
    kinds = ("rep", "set", "status", "state") if len(levels) == 4 else ("status", "stats")
    if len(levels) not in (3, 4) or levels[-1] not in kinds:
        raise Malformed(f"topic {topic!r} is none of the hub's")
    for level in levels[:-1]:
        if not ID_PATTERN.match(level):
            raise Malformed(f"topic {topic!r}: {level!r} is not a gym, box or camera id")
    return levels


def _camera_message(levels: list[str], raw: dict[str, Any], tz: ZoneInfo) -> Parsed:
    gym, box, camera, leaf = levels
    if leaf in _EVENT_TOPICS:
        event = _same_site(parse_event(raw), gym, box)
        if event.seq is not None and event.seq < 1:
            raise Malformed(f"seq must be a whole number from 1, got {event.seq!r}")
        if event.kind not in _EVENT_TOPICS[leaf]:
            raise Malformed(f"a {event.kind} event on a {leaf} topic")
        if event.camera != camera:
            raise Malformed(f"camera {event.camera!r} in the payload, {camera!r} in the topic")
        if event.ts is None:
            raise Malformed("an event without ts (a replay's) has no day")
        ts = _time(event.ts)
        row = EventRow(
            event.id,
            event.kind,
            gym,
            box,
            camera,
            event.seq,
            ts,
            ts.astimezone(tz).date(),
            raw,
        )
        return _with_details(row, event)
    cls: type[CameraStatus | CameraState] = CameraStatus if leaf == "status" else CameraState
    doc = _same_site(cls.from_dict(raw), gym, box)
    if doc.camera != camera:
        raise Malformed(f"camera {doc.camera!r} in the payload, {camera!r} in the topic")
    return CameraDoc(gym, box, camera, leaf, raw, _time(doc.ts))


def _box_message(levels: list[str], raw: dict[str, Any], received: datetime) -> Parsed:
    gym, box, leaf = levels
    if leaf == "stats":
        stats = _same_site(Stats.from_dict(raw), gym, box)
        return Heartbeat(gym, box, _time(stats.ts), stats.run_id, received)
    status = _same_site(DaemonStatus.from_dict(raw), gym, box)
    at = received if status.since is None else _time(status.since)
    return BoxStatus(gym, box, status.status, status.run_id, status.version, status.problem, at)


def _with_details(row: EventRow, event: Any) -> EventRow:
    if isinstance(event, RepEvent | RepUpdate):
        codes = tuple(dict.fromkeys(fault.code for fault in event.faults))
        rep_id = event.rep_id if isinstance(event, RepUpdate) else None
        extra: dict[str, Any] = {"score": event.score, "codes": codes, "rep_id": rep_id}
        if isinstance(event, RepEvent):
            extra |= {"set_id": event.set_id, "exercise": event.exercise}
        return dataclasses.replace(row, **extra)
    assert isinstance(event, SetEvent)
    seconds = event.t_end_s - event.t_start_s
    return dataclasses.replace(row, set_id=event.set_id, set_seconds=seconds)


def _same_site(payload: _S, gym: str, box: str) -> _S:
    """The payload, if the gym and box it names (where it names them) are the topic's."""
    for key, expected in (("gym", gym), ("box", box)):
        named = getattr(payload, key)
        if named is not None and named != expected:
            raise Malformed(f"{key} {named!r} in the payload, {expected!r} in the topic")
    return payload


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Malformed(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise Malformed(f"a time without its UTC offset: {text!r}")
    return moment
