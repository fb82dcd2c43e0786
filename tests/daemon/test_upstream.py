"""A box of a gym: its site on every payload, its events numbered and forwarded upstream.

The real daemon with `site:` and `upstream:`, two real mosquittos: the box's own broker and
one standing in for the central cluster (tests/chain runs the real 3-node cluster).
"""

from __future__ import annotations

from devkit.broker import free_port
from devkit.daemon import wait_for
from tests.daemon.harness import Contract, payloads, rep_ids, swing_camera
from tests.daemon.test_contract import metric_values
from tests.daemon.test_delivery import reps_counted, wait_rep

CAMERA = "swing"
GYM, BOX = "gym-a", "box-1"
UPSTREAM = f"hinge/{GYM}/{BOX}"


def upstream_section(port: int, **keys) -> dict:
    """The `upstream` section towards a broker on 127.0.0.1 (test reconnect timings)."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "keepalive_s": 5,
        "reconnect_min_s": 0.2,
        "reconnect_max_s": 1.0,
    } | keys


def event_payloads(messages) -> list[dict]:
    """Rep, rep update and set payloads, in arrival order."""
    return [p for p in payloads(messages, "/rep") + payloads(messages, "/set")]


def test_site_on_every_payload_events_numbered_and_forwarded(
    swing_clip, mosquitto_factory, daemons, subscribers
):
    local, central = mosquitto_factory(), mosquitto_factory()
    local_sub = subscribers(local.port, "hinge/#")
    central_sub = subscribers(central.port, "hinge/#")
    daemon = daemons(
        {CAMERA: swing_camera(swing_clip.path)},
        local.port,
        site={"gym": GYM, "box": BOX},
        upstream=upstream_section(central.port),
        stats_interval_s=1.0,
    ).start()
    wait_rep(central_sub, 2 * swing_clip.reps)
    assert daemon.terminate() == 0, daemon.log()
    central_sub.collect(lambda: bool(payloads(central_sub.messages, "/set")), 10.0)

    upstream = [m for m in central_sub.messages if m.topic.startswith(UPSTREAM + "/")]
    assert len(upstream) == len(central_sub.messages), "a message outside the box's topics"
    topics = {m.topic.removeprefix(UPSTREAM) for m in upstream}
    assert {"/status", "/stats", f"/{CAMERA}/status", f"/{CAMERA}/state", f"/{CAMERA}/rep"} <= (
        topics
    )
    for message in upstream:  # every payload says where it comes from
        payload = payloads([message], "")[0]
        assert (payload["gym"], payload["box"]) == (GYM, BOX), message.topic
    events = event_payloads(central_sub.messages)
    numbers = sorted({e["seq"] for e in events})
    assert numbers == list(range(1, len(numbers) + 1)), "the box's numbers have a gap"
    assert len(numbers) == len({e["id"] for e in events}), "one number per event"
    Contract(UPSTREAM).check(upstream)

    # the box's own broker: the same events, on the single-box topics
    local_sub.collect(lambda: len(event_payloads(local_sub.messages)) >= len(events), 10.0)
    local_events = {e["id"]: e for e in event_payloads(local_sub.messages)}
    assert local_events == {e["id"]: e for e in events}
    assert all(m.topic.count("/") <= 2 for m in local_sub.messages)
    Contract().check(local_sub.messages)


def test_events_wait_for_the_central_broker_and_numbers_continue_after_restart(
    swing_clip, mosquitto_factory, daemons, subscribers
):
    local = mosquitto_factory()
    central = mosquitto_factory(start=False)  # the WAN is down when the box starts
    daemon = daemons(
        {CAMERA: swing_camera(swing_clip.path)},
        local.port,
        site={"gym": GYM, "box": BOX},
        upstream=upstream_section(central.port),
    ).start()
    wait_for(lambda: reps_counted(daemon) >= 3, 30.0, "3 reps while the central broker is down")
    # A rep is counted a moment before its event reaches the upstream spool.
    wait_for(lambda: daemon.health()["upstream"]["pending"] >= 3, 10.0, "3 events spooled")
    health = daemon.health()
    assert health["status"] == "degraded" and health["upstream"]["pending"] >= 3, health
    metrics = metric_values(daemon.get("/metrics")[2])
    assert metrics["hinge_upstream_connected"][()] == 0.0
    assert metrics["hinge_upstream_spool_pending"][()] >= 3
    assert metrics["hinge_mqtt_connected"][()] == 1.0  # the box's own broker: unaffected
    assert daemon.terminate() == 0, daemon.log()

    central.start()
    central_sub = subscribers(central.port, f"{UPSTREAM}/+/+")
    daemon.start()  # the same spool: what waited goes first, numbering goes on
    wait_rep(central_sub, swing_clip.reps + 3)
    assert daemon.terminate() == 0, daemon.log()
    central_sub.collect(lambda: len(payloads(central_sub.messages, "/set")) >= 2, 10.0)

    events = event_payloads(central_sub.messages)
    numbers = sorted({e["seq"] for e in events})
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    runs = {e["id"].split("-")[1] for e in events if e["event"] == "rep"}
    assert len(runs) == 2, "reps of both runs arrived"
    assert len(rep_ids(central_sub.messages)) >= swing_clip.reps + 3


def test_a_dead_node_is_skipped_for_the_next_in_failover(
    swing_clip, mosquitto_factory, daemons, subscribers
):
    local, central = mosquitto_factory(), mosquitto_factory()
    central_sub = subscribers(central.port, f"{UPSTREAM}/+/rep")
    dead = free_port()  # nothing listens there
    daemons(
        {CAMERA: swing_camera(swing_clip.path)},
        local.port,
        site={"gym": GYM, "box": BOX},
        upstream=upstream_section(dead, failover=[f"127.0.0.1:{central.port}"]),
    ).start()
    wait_rep(central_sub, 1)
