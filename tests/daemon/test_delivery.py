"""Nothing lost: the real daemon, a real mosquitto, a rendered swing clip as the camera.

Each camera loops a clip of 4 swings, so after k plays the truth is 4k reps. Rep events
are counted by `id` on a subscriber with a persistent session at QoS 1.
"""

from __future__ import annotations

import sqlite3

from devkit.broker import Collector
from devkit.daemon import DaemonProcess, wait_for
from tests.daemon.harness import Contract, payloads, rep_ids, swing_camera

CAMERA = "swing"


def reps_counted(daemon: DaemonProcess, camera_id: str = CAMERA) -> int:
    """Reps the daemon has counted on a camera so far (its /api/state)."""
    return daemon.state()["cameras"][camera_id]["counters"]["reps"]


def wait_rep(sub: Collector, number: int, timeout_s: float = 30.0) -> None:
    """Waits until the subscriber has `number` distinct rep events."""
    sub.collect(lambda: len(rep_ids(sub.messages)) >= number, timeout_s)
    got = len(rep_ids(sub.messages))
    assert got >= number, f"{got} reps of {number} arrived in {timeout_s} s"


def spool_rows(daemon: DaemonProcess) -> int:
    """Events left in the daemon's spool file (only while no daemon holds it)."""
    with sqlite3.connect(daemon.spool_file) as db:
        return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def stop_and_collect_set(daemon: DaemonProcess, sub: Collector) -> dict:
    """SIGTERM (exit code 0 expected), then the set event the stop emits for the open set."""
    assert daemon.terminate() == 0, daemon.log()
    sub.collect(lambda: bool(payloads(sub.messages, "/set")), 10.0)
    sets = payloads(sub.messages, "/set")
    assert sets, "the open set was not summarised at the stop"
    return sets[-1]


def test_broker_killed_and_restarted_mid_set(swing_clip, mosquitto_factory, daemons, subscribers):
    broker = mosquitto_factory(persistence=True)
    sub = subscribers(broker.port, "hinge/+/+")
    daemon = daemons({CAMERA: swing_camera(swing_clip.path)}, broker.port).start()
    wait_rep(sub, 2)
    broker.save()  # keeps the subscriber's session (and queue) across the SIGKILL
    broker.kill()
    wait_for(lambda: daemon.health()["mqtt"] != "connected", 5.0, "the daemon sees the loss")
    wait_for(lambda: reps_counted(daemon) >= 4, 15.0, "2 reps while the broker is down")
    pending = daemon.state()["mqtt"]["pending"]
    broker.start()
    wait_rep(sub, 2 * swing_clip.reps)  # two plays of the clip
    final = stop_and_collect_set(daemon, sub)

    ids = rep_ids(sub.messages, CAMERA)
    duplicates = sum(ids.values()) - len(ids)
    print(f"broker restart: {len(ids)} reps, {duplicates} raw duplicates, {pending} spooled")
    assert pending >= 2, "the reps made while the broker was down were not waiting in the spool"
    assert len(ids) == 2 * swing_clip.reps == final["reps"]
    assert sorted(ids) == sorted(final["rep_ids"])  # exactly the reps the daemon counted
    assert "lost the connection to MQTT broker" in daemon.log()
    assert spool_rows(daemon) == 0
    Contract().check(sub.messages)


def test_daemon_killed_with_spooled_events_delivers_them_at_restart(
    swing_clip, mosquitto_factory, daemons, subscribers
):
    broker = mosquitto_factory(start=False)  # not there yet: every event stays in the spool
    daemon = daemons({CAMERA: swing_camera(swing_clip.path)}, broker.port).start()

    # the recent-reps list, not the counter: the counter goes up a moment before the rep
    # joins the list the state serves (another thread), and the list is what is compared
    def listed() -> list:
        return daemon.state()["cameras"][CAMERA]["reps"]

    wait_for(lambda: len(listed()) >= 2, 20.0, "2 reps listed", daemon.log)
    state = daemon.state()
    spooled = {rep["id"] for rep in state["cameras"][CAMERA]["reps"]}
    assert state["mqtt"]["pending"] >= len(spooled) >= 2
    daemon.kill()
    first_run = state["run_id"]

    broker.start()
    sub = subscribers(broker.port, "hinge/+/+")
    daemon.start()
    sub.collect(lambda: spooled <= set(rep_ids(sub.messages)), 10.0)
    wait_rep(sub, len(spooled) + 1)  # and the new run counts on
    final = stop_and_collect_set(daemon, sub)

    ids = rep_ids(sub.messages, CAMERA)
    assert spooled <= set(ids), f"lost at the kill: {sorted(spooled - set(ids))}"
    from_first = {i for i in ids if first_run in i}
    assert from_first == {i for i in ids if i not in final["rep_ids"]}
    assert all(count == 1 for count in ids.values()), ids
    assert spool_rows(daemon) == 0
    Contract().check(sub.messages)


def test_unreachable_broker_spools_then_delivers(
    swing_clip, mosquitto_factory, daemons, subscribers
):
    broker = mosquitto_factory(persistence=True)
    sub = subscribers(broker.port, "hinge/+/+")  # its session outlives the broker's absence
    broker.stop()
    daemon = daemons({CAMERA: swing_camera(swing_clip.path)}, broker.port).start()
    health = daemon.health()
    assert health["mqtt"] == "unreachable:connection refused", health
    assert health["status"] == "degraded" and health["workers"] is True
    wait_for(lambda: reps_counted(daemon) >= 2, 20.0, "2 reps counted", daemon.log)
    assert daemon.state()["mqtt"]["pending"] >= 2
    assert daemon.running

    broker.start()
    wait_for(lambda: daemon.health()["mqtt"] == "connected", 10.0, "connected", daemon.log)
    made = {rep["id"] for rep in daemon.state()["cameras"][CAMERA]["reps"]}
    sub.collect(lambda: made <= set(rep_ids(sub.messages)), 10.0)
    assert made <= set(rep_ids(sub.messages))
    assert daemon.log().count("cannot reach MQTT broker") == 1  # once, not once per retry
    final = stop_and_collect_set(daemon, sub)
    assert sorted(rep_ids(sub.messages)) == sorted(final["rep_ids"])
    Contract().check(sub.messages)
