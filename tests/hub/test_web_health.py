"""When the chain dashboard calls a box or a camera DOWN (edge.hub.views), without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.hub.views import Health, box_health, camera_health

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def box(status: str = "online", silent_s: float = 2.0) -> dict:
    return {"box": "b1", "status": status, "last_seen": NOW - timedelta(seconds=silent_s)}


@pytest.mark.parametrize(
    ("row", "limit", "expected"),
    [
        (box(), 30, Health("up")),
        (box("degraded"), 30, Health("up")),  # working, events at risk: shown, not DOWN
        (box("offline"), 30, Health("down", "box b1 offline")),  # its last will
        (box("stopped"), 30, Health("down", "box b1 stopped")),
        (box(silent_s=31), 30, Health("down", "box b1 silent for 31 s")),  # cut, no will yet
        (box(silent_s=31), 60, Health("up")),  # the limit is a parameter
        (None, 30, Health("down", "its box never reported")),
    ],
)
def test_box_health(row, limit, expected):
    assert box_health(row, NOW, limit) == expected


@pytest.mark.parametrize(
    ("box_verdict", "status", "expected"),
    [
        (Health("up"), {"state": "online"}, Health("up")),
        (Health("up"), {"state": "connecting"}, Health("wait", "connecting")),
        (Health("up"), None, Health("wait", "no status yet")),
        (Health("up"), {"state": "stalled", "last_error": None}, Health("down", "stream stalled")),
        (
            Health("up"),
            {"state": "offline", "last_error": "cannot open"},
            Health("down", "stream offline: cannot open"),
        ),
        (Health("up"), {"state": "ended"}, Health("down", "stream ended")),
        # The box's verdict wins over a stale "online" the camera last sent.
        (Health("down", "box b1 offline"), {"state": "online"}, Health("down", "box b1 offline")),
    ],
)
def test_camera_health(box_verdict, status, expected):
    assert camera_health(box_verdict, status) == expected
