"""The MQTT and HTTP contract of one whole run: a clip played once, every message checked.

Every payload on every topic validates against docs/schemas/; the retained state is
published when it changes, not every frame; /metrics is Prometheus text; /healthz and
/api/state are JSON.
"""

from __future__ import annotations

import itertools
import json
import statistics

from prometheus_client.parser import text_string_to_metric_families

from devkit.daemon import wait_for
from tests.daemon.harness import Contract, latencies_s, payloads, rep_ids, swing_camera

CAMERA = "swing"


def metric_values(text: str) -> dict[str, dict[tuple, float]]:
    """Samples by name, then by label values (parses the exposition strictly)."""
    values: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            values.setdefault(sample.name, {})[labels] = sample.value
    return values


def test_one_play_of_a_clip_end_to_end(swing_clip, mosquitto_factory, daemons, subscribers):
    broker = mosquitto_factory()
    sub = subscribers(broker.port, "hinge/#")
    cameras = {CAMERA: swing_camera(swing_clip.path, loop=False)}
    daemon = daemons(cameras, broker.port).start()
    sub.wait_for(lambda m: m.topic == f"hinge/{CAMERA}/rep", 20.0)

    status, kind, body = daemon.get("/healthz")
    assert (status, kind, json.loads(body)) == (200, "application/json", {"status": "ok"})
    status, kind, body = daemon.get("/api/health")  # the details, for admin
    assert (status, kind) == (200, "application/json")
    health = json.loads(body)
    assert health["status"] == "ok" and health["mqtt"] == "connected", health
    status, kind, text = daemon.get("/metrics")
    assert status == 200 and kind.startswith("text/plain")
    metrics = metric_values(text)
    assert metrics["hinge_camera_fps_analysed"][(("camera", CAMERA),)] > 0
    assert metrics["hinge_mqtt_connected"][()] == 1.0
    cpu = metrics["hinge_stage_cpu_seconds_total"]  # where the time goes, per stage
    assert {dict(labels)["stage"] for labels in cpu} == {"decode", "pose", "scoring", "publish"}
    assert cpu[(("camera", CAMERA), ("stage", "pose"))] > 0
    assert cpu[(("camera", CAMERA), ("stage", "decode"))] > 0

    sub.collect(lambda: bool(payloads(sub.messages, "/set")), 25.0)  # the set ends after the clip
    wait_for(lambda: daemon.state()["cameras"][CAMERA]["status"]["state"] == "ended", 5.0, "ended")
    analysed = daemon.state()["cameras"][CAMERA]["counters"]["analysed"]
    sub.collect(lambda: False, 1.2)  # one more stats period
    assert daemon.terminate() == 0, daemon.log()
    sub.collect(lambda: any(m.topic == "hinge/status" and b"stopped" in m.payload
                            for m in sub.messages), 5.0)  # fmt: skip

    contract = Contract()
    contract.check(sub.messages)
    assert set(contract.checked) == {
        "status", "stats", "camera_status", "state", "rep", "set"
    }, contract.checked  # fmt: skip
    (final,) = payloads(sub.messages, "/set")
    ids = rep_ids(sub.messages)
    assert len(ids) == swing_clip.reps == final["reps"]
    assert sorted(ids) == sorted(final["rep_ids"]) and final["exercise"] == "swing"

    states = payloads(sub.messages, f"/{CAMERA}/state")
    changes = [{k: v for k, v in s.items() if k != "ts"} for s in states]
    assert all(a != b for a, b in itertools.pairwise(changes)), "a state repeated"
    assert len(states) < analysed / 2, f"{len(states)} states for {analysed} frames analysed"
    assert max(s["reps_in_set"] for s in states) == swing_clip.reps

    delays = latencies_s(sub.messages)
    print(
        f"{analysed} frames analysed of {swing_clip.frames}, {len(states)} state messages; "
        f"frame -> receipt of rep events: median {statistics.median(delays) * 1e3:.0f} ms, "
        f"max {max(delays) * 1e3:.0f} ms"
    )
