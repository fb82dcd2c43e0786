"""The wire contract: every payload hinge-edge emits, as frozen, typed dataclasses.

One place owns what integrators receive: the schema version (`SCHEMA_VERSION`), the time
format (`iso`), serialisation (`Payload.to_json` / `from_json`, NaN as null) and the JSON
Schemas in docs/schemas/ (generated from these types by `tools/event_schemas.py`).

- Events of the hinge engine (docs/events.md): `RepEvent`, `RepUpdate`, `SetEvent`;
  `parse_event` reads any of them off the wire.
- The daemon's own messages (docs/mqtt.md): `DaemonStatus`, `CameraStatus`,
  `CameraState`, `Stats`.

Standard library only, so the pure hinge engine builds its events from here.
"""

from edge.contract.daemon import (
    CameraState,
    CameraStats,
    CameraStatus,
    DaemonStatus,
    LastRep,
    MqttStats,
    PoseCost,
    SpoolStats,
    Stats,
    StatusName,
)
from edge.contract.events import (
    EVENT_TYPES,
    AnyEvent,
    Event,
    Fault,
    LoweringMetrics,
    RepEvent,
    RepMetrics,
    RepUpdate,
    SetEvent,
    Tempo,
    Withheld,
    parse_event,
)
from edge.contract.wire import SCHEMA_VERSION, ContractError, Payload, iso, now_iso

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "AnyEvent",
    "CameraState",
    "CameraStats",
    "CameraStatus",
    "ContractError",
    "DaemonStatus",
    "Event",
    "Fault",
    "LastRep",
    "LoweringMetrics",
    "MqttStats",
    "Payload",
    "PoseCost",
    "RepEvent",
    "RepMetrics",
    "RepUpdate",
    "SetEvent",
    "SpoolStats",
    "Stats",
    "StatusName",
    "Tempo",
    "Withheld",
    "iso",
    "now_iso",
    "parse_event",
]
