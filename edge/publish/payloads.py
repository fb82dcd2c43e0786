"""Payloads the publisher writes itself: the daemon's status (online, offline, stopped).

The other payloads (camera status, state, stats) are built by the daemon; all of them
follow the JSON Schemas in docs/schemas/ (schema_version 1), described in docs/mqtt.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

SCHEMA_VERSION = 1
DaemonStatus = Literal["online", "offline", "stopped"]


def iso_now() -> str:
    """The current UTC time, ISO 8601 with milliseconds (as every `ts` in our payloads)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def status_payload(
    status: DaemonStatus, run_id: str, version: str, since: str | None = "now"
) -> str:
    """JSON for `<prefix>/status` (docs/schemas/status.schema.json).

    Args:
        status: `online` on connect, `stopped` on a clean stop, `offline` in the last will.
        run_id: This run of the daemon.
        version: The daemon's version.
        since: When the status began (ISO 8601 UTC); "now" = the current time. The last
            will passes None: the daemon cannot know when the broker will send it.
    """
    payload = {
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "run_id": run_id,
        "version": version,
        "since": iso_now() if since == "now" else since,
    }
    return json.dumps(payload, separators=(",", ":"))
