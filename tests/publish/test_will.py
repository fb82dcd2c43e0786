"""The retained `<prefix>/status`: online on connect, offline by the last will, stopped."""

import json
from pathlib import Path

import jsonschema

from devkit.broker import Collector, payload_json, retained_snapshot
from tests.publish.helpers import kill_child, start_child, tell_child

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/schemas/status.schema.json").read_text()
)


def _status(collector, status, run_id):
    msg = collector.wait_for(
        lambda m: payload_json(m)["status"] == status and payload_json(m)["run_id"] == run_id
    )
    jsonschema.validate(payload_json(msg), SCHEMA)
    return payload_json(msg)


def test_last_will_online_offline_stopped(mosquitto, tmp_path):
    collector = Collector(mosquitto.port, ["hinge/status", "hinge/marker"]).wait_subscribed()
    port, spool = mosquitto.port, tmp_path / "spool"

    first = start_child(port, spool, "run-a")
    online = _status(collector, "online", "run-a")
    assert online["since"] is not None
    kill_child(first)  # SIGKILL: the broker sends the will
    offline = _status(collector, "offline", "run-a")
    assert offline["since"] is None  # the daemon cannot know when its will was sent
    snapshot = retained_snapshot(port, "hinge/status")
    assert payload_json(snapshot)["status"] == "offline"  # retained for later subscribers

    second = start_child(port, spool, "run-b")
    _status(collector, "online", "run-b")
    assert payload_json(retained_snapshot(port, "hinge/status"))["status"] == "online"
    tell_child(second, "stop", "stopped")
    second.wait(5)
    assert second.returncode == 0
    _status(collector, "stopped", "run-b")

    # A clean stop disconnects properly: no will. Round-trip a marker through the broker
    # after the child exited; a will, if any, would have been queued before it.
    collector.client.publish("hinge/marker", "{}", qos=1)
    collector.wait_for(lambda m: m.topic == "hinge/marker")
    later = [payload_json(m)["status"] for m in collector.messages if m.topic == "hinge/status"]
    assert later[-1] == "stopped"
    assert payload_json(retained_snapshot(port, "hinge/status"))["status"] == "stopped"
    collector.close()
