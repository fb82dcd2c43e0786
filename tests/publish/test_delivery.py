"""Nothing lost: events across broker kills, a killed publisher, refusals and outages.

Every test runs a real mosquitto (`devkit/broker.py`) and a real paho client.
"""

import json
import logging
import os
import signal
import time

import pytest

from devkit.broker import BrokerAuth, Collector, payload_json, retained_payload
from edge.publish import Spool, SpoolConfig
from tests.publish.helpers import (
    ids_of,
    kill_child,
    make_publisher,
    publish_events,
    start_child,
    tell_child,
    wait_until,
)


def test_broker_killed_and_restarted_mid_stream(mosquitto_factory, tmp_path):
    # The subscriber has a persistent session, saved by the broker before the kill, so the
    # broker queues for it while it is away: any loss would be the publisher's.
    broker = mosquitto_factory(persistence=True)
    collector = Collector(broker.port, "hinge/+/rep", client_id="consumer", clean_session=False)
    collector.wait_subscribed()
    broker.save()
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(broker.port, spool)
    wait_until(lambda: publisher.connection_state == "connected", what="first connect")
    keys = [f"ev-{i:03d}" for i in range(100)]
    killed_at = None
    for i, key in enumerate(keys):  # 50 events/s; broker down from #33 for 1.2 s
        publish_events(publisher, [key])
        if i == 33:
            broker.kill()
            killed_at = time.monotonic()
        if killed_at and not broker.running and time.monotonic() - killed_at > 1.2:
            broker.start()
        time.sleep(0.02)
    if not broker.running:
        broker.start()
    wait_until(lambda: spool.count() == 0, 15, "spool drained")
    seen = ids_of(collector.collect(lambda: set(ids_of(collector.messages)) >= set(keys), 10))
    collector.close()
    stats = publisher.stats()
    assert publisher.stop(5)
    duplicates = sum(seen.values()) - len(seen)
    print(f"\nbroker kill: {len(seen)}/{len(keys)} ids, {duplicates} raw duplicates, {stats}")
    assert set(seen) == set(keys)  # every id at least once, nothing else
    assert stats["reconnects"] >= 1 and stats["published"] == len(keys)
    assert spool.count() == 0


def test_retained_values_are_current_after_a_broker_restart_without_persistence(
    mosquitto, tmp_path
):
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(mosquitto.port, spool)
    state = publisher.topics.state("cam1")
    publisher.publish_retained(state, '{"v":1}')
    wait_until(lambda: retained_payload(mosquitto.port, state) == b'{"v":1}')
    mosquitto.kill()  # persistence off: the broker forgets every retained message
    wait_until(lambda: publisher.connection_state != "connected", what="loss noticed")
    publisher.publish_retained(state, '{"v":2}')  # changes while the broker is away
    mosquitto.start()
    wait_until(lambda: retained_payload(mosquitto.port, state) == b'{"v":2}')
    status = json.loads(retained_payload(mosquitto.port, publisher.topics.status))
    assert status["status"] == "online" and status["run_id"] == "run-1"
    publisher.stop(5)


def test_events_survive_a_killed_publisher_process(mosquitto_factory, tmp_path):
    broker = mosquitto_factory(start=False)  # down while the child spools
    spool_dir = tmp_path / "spool"
    kill_child(start_child(broker.port, spool_dir, "dead", events=25))
    broker.start()
    collector = Collector(broker.port, "hinge/+/rep").wait_subscribed()
    spool = Spool(SpoolConfig(path=spool_dir))
    assert spool.count() == 25  # all of them are on disk after SIGKILL
    publisher = make_publisher(broker.port, spool, run_id="restarted")
    keys = {f"dead-{i}" for i in range(25)}
    seen = ids_of(collector.collect(lambda: set(ids_of(collector.messages)) >= keys, 10))
    wait_until(lambda: spool.count() == 0, what="spool drained")
    assert publisher.stop(5)
    collector.close()
    assert set(seen) == keys and max(seen.values()) == 1


def test_unreachable_broker_keeps_events_then_delivers(mosquitto_factory, tmp_path, caplog):
    broker = mosquitto_factory(start=False)  # nothing listens on its port yet
    caplog.set_level(logging.INFO, "edge.publish")
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(broker.port, spool)
    publish_events(publisher, ["a", "b", "c"])
    wait_until(lambda: publisher.connection_state.startswith("unreachable:"))
    assert publisher.connection_state == "unreachable:connection refused"
    assert publisher.stats()["connected"] is False
    assert spool.count() == 3
    broker.start()  # (a subscriber started now could miss them: the publisher may be first)
    wait_until(lambda: spool.count() == 0, what="delivered after the broker came up")
    assert publisher.connection_state == "connected"
    assert publisher.stats()["published"] == 3  # acknowledged by the broker
    assert publisher.stop(5)
    warnings = [r for r in caplog.records if "cannot reach" in r.getMessage()]
    assert len(warnings) == 1  # once per change, not once per retry


def test_wrong_credentials_are_refused_clearly_and_events_kept(mosquitto_factory, tmp_path, caplog):
    broker = mosquitto_factory(auth=BrokerAuth({"edge": "right-password"}))
    caplog.set_level(logging.DEBUG)  # paho's own lines too: no password anywhere
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(broker.port, spool, username="edge", password="wrong-password")
    publish_events(publisher, ["a", "b"])
    wait_until(lambda: publisher.connection_state.startswith("refused:"))
    # it keeps trying (backoff 0.1-0.5 s) without crashing
    wait_until(lambda: broker.log().count("not authorised") >= 3, what="3 refused attempts")
    stats = publisher.stats()
    assert publisher.connection_state == "refused:not authorized"
    assert stats["connected"] is False and stats["pending"] == 2
    assert "refused" in stats["last_error"]
    assert publisher.stop(2)
    assert spool.count() == 2  # kept for a start with the right password
    refusals = [r for r in caplog.records if "refused the connection" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.ERROR
    assert "mqtt.password" in refusals[0].getMessage()
    assert not [r for r in caplog.records if "wrong-password" in r.getMessage()]


def test_right_credentials_and_acl_deliver(mosquitto_factory, tmp_path):
    acl = "user edge\ntopic readwrite hinge/#\n\nuser reader\ntopic read hinge/#\n"
    broker = mosquitto_factory(auth=BrokerAuth({"edge": "pw-edge", "reader": "pw-reader"}, acl))
    collector = Collector(broker.port, "hinge/#", auth=("reader", "pw-reader"))
    collector.wait_subscribed()
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(broker.port, spool, username="edge", password="pw-edge")
    publish_events(publisher, ["x", "y"])
    wait_until(lambda: spool.count() == 0)
    assert publisher.stop(5)
    collector.collect(lambda: set(ids_of(collector.messages)) >= {"x", "y"}, 5)
    collector.close()
    assert set(ids_of(collector.messages)) == {"x", "y"}


def test_stop_keeps_unacknowledged_events_for_the_next_start(mosquitto, tmp_path):
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(mosquitto.port, spool)
    wait_until(lambda: publisher.connection_state == "connected")
    mosquitto.kill()
    wait_until(lambda: publisher.connection_state != "connected")
    publish_events(publisher, ["late-1", "late-2"])
    assert publisher.stop(0.5)  # offline: returns at once, nothing can be delivered
    assert publisher.connection_state == "stopped"
    assert [m.key for m in spool.pending()] == ["late-1", "late-2"]


def test_transient_messages_are_sent_only_when_connected(mosquitto, tmp_path):
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(mosquitto.port, spool)
    collector = Collector(mosquitto.port, "hinge/stats").wait_subscribed()
    wait_until(lambda: publisher.connection_state == "connected")
    assert publisher.publish_now(publisher.topics.stats, json.dumps({"n": 1}))
    msg = collector.wait_for(lambda m: True)
    assert payload_json(msg) == {"n": 1} and not msg.retain
    publisher.stop(2)
    assert not publisher.publish_now(publisher.topics.stats, "{}")
    assert spool.count() == 0
    collector.close()


@pytest.mark.parametrize("qos", [0, 2])
def test_other_qos_levels_deliver_and_empty_the_spool(mosquitto, tmp_path, qos):
    collector = Collector(mosquitto.port, "hinge/+/rep", qos=2).wait_subscribed()
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(mosquitto.port, spool, qos=qos)
    keys = [f"q{qos}-{i}" for i in range(20)]
    publish_events(publisher, keys)
    wait_until(lambda: spool.count() == 0)
    assert publisher.stop(5)
    collector.collect(lambda: set(ids_of(collector.messages)) >= set(keys), 5)
    collector.close()
    assert {m.qos for m in collector.messages} == {qos}
    assert set(ids_of(collector.messages)) == set(keys)


def test_events_sent_but_never_acknowledged_survive_both_processes_dying(
    mosquitto_factory, tmp_path
):
    # SIGSTOP freezes the broker: the child's events reach its socket, no PUBACK comes
    # back. Then both die. Only the spool remembers them.
    broker = mosquitto_factory()
    status = Collector(broker.port, "hinge/status").wait_subscribed()
    spool_dir = tmp_path / "spool"
    child = start_child(broker.port, spool_dir, "frozen")
    status.wait_for(lambda m: payload_json(m)["status"] == "online")
    status.close()
    os.kill(broker.pid, signal.SIGSTOP)
    try:
        tell_child(child, "events 0 10", "published 10")
    finally:
        kill_child(child)
        broker.kill()
    broker.start()
    collector = Collector(broker.port, "hinge/+/rep").wait_subscribed()
    spool = Spool(SpoolConfig(path=spool_dir))
    assert spool.count() == 10
    publisher = make_publisher(broker.port, spool)
    keys = {f"frozen-{i}" for i in range(10)}
    collector.collect(lambda: set(ids_of(collector.messages)) >= keys, 10)
    wait_until(lambda: spool.count() == 0)
    assert publisher.stop(5)
    collector.close()
    assert set(ids_of(collector.messages)) == keys


def test_stop_gives_up_at_its_timeout_when_the_broker_does_not_answer(mosquitto, tmp_path):
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(mosquitto.port, spool)
    wait_until(lambda: publisher.connection_state == "connected")
    os.kill(mosquitto.pid, signal.SIGSTOP)  # connected, but no PUBACK will ever come
    try:
        publish_events(publisher, ["hung-1", "hung-2"])
        wait_until(lambda: publisher.stats()["in_flight"] == 2)
        assert publisher.stop(0.3) is False
    finally:
        os.kill(mosquitto.pid, signal.SIGCONT)
    assert publisher.connection_state == "stopped"
    assert [m.key for m in spool.pending()] == ["hung-1", "hung-2"]
