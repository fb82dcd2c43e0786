"""The daemon's own status and lifetime: the last will on SIGKILL, `online` again on
restart, `stopped` on SIGTERM; a local broker that goes with the daemon, after the last
set event went through it."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3

import pytest

from devkit.broker import Collector, free_port, port_accepts, skip_reason
from devkit.daemon import wait_for
from edge.daemon.broker import LocalBroker
from edge.errors import EdgeError
from tests.daemon.harness import Contract, payloads, rep_ids, swing_camera

CAMERA = "swing"


def next_status(sub: Collector, timeout_s: float = 10.0) -> dict:
    """The next message on `hinge/status`, decoded."""
    return json.loads(sub.wait_for(lambda m: m.topic == "hinge/status", timeout_s).payload)


def test_last_will_then_online_then_stopped(swing_clip, mosquitto_factory, daemons, subscribers):
    broker = mosquitto_factory()
    sub = subscribers(broker.port, "hinge/#")
    daemon = daemons({CAMERA: swing_camera(swing_clip.path)}, broker.port).start()
    online = next_status(sub)
    assert online["status"] == "online" and online["since"] is not None

    daemon.kill()
    will = next_status(sub, 5.0)  # the broker sends the will when the TCP connection dies
    assert will == {**online, "status": "offline", "since": None}

    daemon.start()
    again = next_status(sub)
    assert again["status"] == "online" and again["run_id"] != online["run_id"]
    sub.wait_for(lambda m: m.topic.endswith("/rep"), 15.0)  # a set is open now

    assert daemon.terminate() == 0, daemon.log()
    stopped = next_status(sub, 5.0)
    assert stopped["status"] == "stopped" and stopped["run_id"] == again["run_id"]
    sub.collect(lambda: bool(payloads(sub.messages, "/set")), 5.0)
    (final,) = payloads(sub.messages, "/set")  # the open set, summarised at the stop
    assert sorted(final["rep_ids"]) == sorted(rep_ids(sub.messages))
    with sqlite3.connect(daemon.spool_file) as db:  # flushed: nothing left for next start
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    assert "Traceback" not in daemon.log()
    retained = Collector(broker.port, "hinge/status")  # what a display sees from now on
    try:
        assert json.loads(retained.wait_for(lambda m: m.retain).payload)["status"] == "stopped"
    finally:
        retained.close()
    Contract().check(sub.messages)


def test_local_broker_goes_with_a_killed_daemon(swing_clip, daemons, subscribers):
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    port = free_port()
    cameras = {CAMERA: swing_camera(swing_clip.path, analysis_fps=2.0)}
    daemon = daemons(cameras, port, mqtt={"host": None}).start()  # a broker started for us
    assert port_accepts(port)
    daemon.kill()
    # Left running, the orphan would hold the port and the next start would refuse to run.
    wait_for(lambda: not port_accepts(port), 5.0, "the local broker to go")
    daemon.start()
    sub = subscribers(port, "hinge/status", clean_session=True)
    assert next_status(sub)["status"] == "online"
    assert daemon.terminate() == 0, daemon.log()
    assert not port_accepts(port)


def test_ctrl_c_mid_set_delivers_the_set_through_the_local_broker(swing_clip, daemons, subscribers):
    """`make run`'s case: the printer listens on the daemon's own broker, which goes with
    the daemon; the set that Ctrl-C closes must reach it first."""
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    port = free_port()
    daemon = daemons({CAMERA: swing_camera(swing_clip.path)}, port, mqtt={"host": None}).start()
    sub = subscribers(port, ["hinge/+/rep", "hinge/+/set"], clean_session=True)
    sub.wait_for(lambda m: m.topic.endswith("/rep"), 15.0)  # a set is open now
    daemon.proc.send_signal(signal.SIGINT)
    assert daemon.proc.wait(20) == 0, daemon.log()
    sub.collect(lambda: bool(payloads(sub.messages, "/set")), 5.0)
    (final,) = payloads(sub.messages, "/set")
    assert sorted(final["rep_ids"]) == sorted(rep_ids(sub.messages))
    assert not port_accepts(port), "the local broker outlived the daemon"
    assert "Traceback" not in daemon.log()


def test_local_broker_refuses_a_taken_port_naming_the_environment_variable():
    with socket.socket() as taken:  # listening: another broker, as far as anyone can tell
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # `hinge-edge run` without a config file has no mqtt.port to edit: the variable.
        with pytest.raises(EdgeError, match=rf"is taken .*HINGE_EDGE_MQTT__PORT={port + 1}"):
            LocalBroker(port).start()


def test_local_broker_that_cannot_start_says_why():
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    with socket.socket() as taken:  # bound, not listening: only mosquitto's bind() fails
        taken.bind(("127.0.0.1", 0))
        broker = LocalBroker(taken.getsockname()[1])
        with pytest.raises(EdgeError, match=r"did not start on .*Address already in use"):
            broker.start()
