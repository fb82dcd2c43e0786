"""The hub worker end to end: real mosquitto, real PostgreSQL, real paho publishing.

Every event published at QoS 1 reaches PostgreSQL exactly once: with the worker in
process, with `hinge-edge hub` killed by SIGKILL mid-stream and started again (its
persistent session keeps what came meanwhile), and with PostgreSQL stopped and started
while the broker goes on delivering.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from devkit.broker import HOST, Mosquitto, free_port, skip_reason
from devkit.chain_events import Message, SimBox
from devkit.postgres import Postgres
from edge.hub.config import HubSettings, HubWebConfig, load_hub_settings
from edge.hub.ingest import HubWorker
from edge.hub.metrics import HubMetrics
from edge.hub.store import Store
from edge.hub.web import HubWeb

# The broker keeps every message for an absent persistent session (its default is 1000).
BROKER_LINES = ("max_queued_messages 0", "max_inflight_messages 100")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    with Mosquitto(tmp_path / "broker", extra=BROKER_LINES) as server:
        yield server


def hub_settings(broker_port: int, dsn: str, name: str = "w1", **more) -> HubSettings:
    data = {
        "broker": {
            "host": HOST,
            "port": broker_port,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 0.5,
        },
        "database": {"dsn": dsn},
        "hub": {"name": name, "batch_wait_ms": 20, "db_retry_max_s": 0.5, **more},
    }
    return load_hub_settings(None, data)


class Publisher:
    """A box's link to the central broker: QoS 1 publishes, each waited for."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(100)
        self.client.connect(HOST, port)
        self.client.loop_start()

    def send(self, messages: list[Message], pause_s: float = 0.0) -> None:
        infos = []
        for topic, payload in messages:
            infos.append(self.client.publish(topic, payload, qos=1))
            if pause_s:
                time.sleep(pause_s)
        for info in infos:
            info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def count(dsn: str, sql: str = "SELECT count(*) FROM events") -> int:
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            return conn.execute(sql).fetchone()[0]
    except psycopg.Error:  # not up, or not migrated yet
        return -1


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def chain_stream(boxes: int, sets: int) -> tuple[list[Message], int]:
    messages = []
    for n in range(boxes):
        box = SimBox("gym1", f"box{n}", seed=n)
        messages += box.workout(["p1", "p2"], sets=sets, reps_per_set=3)
        messages.append(box.stats())  # QoS 0 on the boxes' side; stored as last_seen
    return messages, boxes * sets * 7


def assert_exactly_once(dsn: str, events: int) -> None:
    assert count(dsn) == events
    per_box = (
        "SELECT count(*) FROM (SELECT box, max(seq) - count(*) AS gap FROM events"
        " WHERE box <> 'probe' GROUP BY box) g WHERE gap <> 0"
    )
    assert count(dsn, per_box) == 0  # no gap in any box's sequence
    store = Store(dsn)
    assert store.recount() == []
    store.close()


def ready(worker: HubWorker, timeout_s: float = 10) -> HubWorker:
    wait_until(lambda: bool(worker.figures()["subscribed"]), timeout_s, "hub not subscribed")
    return worker


def start_worker(settings: HubSettings, dsn: str) -> HubWorker:
    """A worker on a migrated database, subscribed."""
    store = Store(dsn)
    store.migrate()
    return ready(HubWorker(settings.broker, settings.hub, store).start())


def test_a_worker_writes_every_event_once_and_acknowledges_after_commit(broker, hub_dsn):
    settings = hub_settings(broker.port, hub_dsn)
    worker = start_worker(settings, hub_dsn)
    messages, events = chain_stream(boxes=3, sets=4)
    publisher = Publisher(broker.port)
    publisher.send(messages + messages[:20])  # some delivered twice
    wait_until(lambda: worker.figures()["received"] >= len(messages) + 20, 30, "not all written")
    scraped = scrape(worker, hub_dsn)
    worker.stop()
    publisher.close()
    figures = worker.figures()
    assert (figures["inserted"], figures["duplicate"], figures["malformed"]) == (events, 20, 0)
    assert_exactly_once(hub_dsn, events)
    assert f'hinge_hub_events_total{{outcome="inserted"}} {events}.0' in scraped
    assert 'hinge_hub_events_total{outcome="duplicate"} 20.0' in scraped
    assert "hinge_hub_connected 1.0" in scraped


def scrape(worker: HubWorker, dsn: str) -> str:
    """The worker's /metrics as the dashboard serves them (logins off: a closed bench)."""
    config = HubWebConfig(port=0, auth={"enabled": False})
    server = HubWeb(config, dsn, metrics=HubMetrics(worker.figures))
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as r:
            return r.read().decode()
    finally:
        server.stop()


def test_the_worker_moves_to_the_next_node_when_one_is_unreachable(broker, hub_dsn):
    data = {"broker": {"host": HOST, "port": free_port(), "failover": [f"{HOST}:{broker.port}"],
                       "reconnect_min_s": 0.1, "reconnect_max_s": 0.2},
            "database": {"dsn": hub_dsn}, "hub": {"name": "w2"}}  # fmt: skip
    settings = load_hub_settings(None, data)
    worker = start_worker(settings, hub_dsn)
    assert worker.figures()["node"] == f"{HOST}:{broker.port}"
    publisher = Publisher(broker.port)
    publisher.send([SimBox("gym1", "box1").rep("p1", "s1")[1]])
    wait_until(lambda: count(hub_dsn) == 1, 10, "event not written")
    worker.stop()
    publisher.close()


def test_postgres_away_while_the_broker_delivers_loses_nothing(broker, tmp_path):
    with Postgres() as pg:
        dsn = pg.create_database("hub")
        settings = hub_settings(broker.port, dsn)
        worker = start_worker(settings, dsn)
        messages, events = chain_stream(boxes=4, sets=6)
        publisher = Publisher(broker.port)
        third = len(messages) // 3
        publisher.send(messages[:third])
        wait_until(lambda: count(dsn) > 0, 10, "nothing written")
        pg.stop("immediate")  # like a crash
        publisher.send(messages[third : 2 * third])  # the broker holds what is not acknowledged
        wait_until(lambda: worker.figures()["db_retries"] > 0, 10, "no retry")
        pg.start()
        publisher.send(messages[2 * third :])
        wait_until(lambda: count(dsn) == events, 30, "events lost")
        worker.stop()
        publisher.close()
        assert_exactly_once(dsn, events)


def answers(url: str) -> bool:
    """The URL answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def hub_process(config: Path, web: bool = False) -> subprocess.Popen[bytes]:
    flags = [] if web else ["--no-web"]
    return subprocess.Popen(
        [sys.executable, "-m", "edge", "hub", "--config", str(config), *flags],
        stdout=subprocess.DEVNULL,
        stderr=(config.parent / "hub.log").open("ab"),
    )


def test_hub_killed_with_sigkill_mid_stream_and_restarted_writes_every_event_once(
    broker, hub_dsn, tmp_path
):
    config = tmp_path / "hub.yaml"
    web_port = free_port()
    config.write_text(
        f"broker: {{host: {HOST}, port: {broker.port}, reconnect_min_s: 0.1, "
        "reconnect_max_s: 0.5}\n"
        f"database: {{dsn: '{hub_dsn}'}}\n"
        "hub: {name: killed, batch_wait_ms: 10}\n"
        f"web: {{host: {HOST}, port: {web_port}, auth: {{enabled: false}}}}\n"
    )
    hub = hub_process(config)
    box = SimBox("gym1", "probe")
    publisher = Publisher(broker.port)
    publisher.send([box.rep("p1", "s1")[1]])  # lost if the hub has not subscribed yet (a gap)
    try:
        wait_until(lambda: count(hub_dsn) == 1 or hub.poll() is not None, 20, "hub not up")
    except TimeoutError:
        publisher.send([box.rep("p1", "s1")[1]])
        wait_until(lambda: count(hub_dsn) >= 1, 10, "hub not up")
    probe = count(hub_dsn)
    messages, events = chain_stream(boxes=5, sets=10)
    sender = threading.Thread(target=publisher.send, args=(messages, 0.002))
    sender.start()
    wait_until(lambda: count(hub_dsn) > events // 3, 30, "hub too slow")
    os.kill(hub.pid, signal.SIGKILL)
    hub.wait(5)
    sender.join(60)  # the rest waits in the hub's session at the broker
    hub = hub_process(config, web=True)  # the restarted one with its dashboard
    try:
        wait_until(lambda: count(hub_dsn) == events + probe, 60, "events lost")
        metrics = f"http://{HOST}:{web_port}/metrics"
        wait_until(lambda: answers(metrics), 20, "the dashboard not up")  # starts after ingest
        with urllib.request.urlopen(metrics, timeout=5) as answer:
            scraped = answer.read().decode()
        assert 'hinge_hub_events_total{outcome="inserted"}' in scraped
        assert "hinge_hub_connected 1.0" in scraped
    finally:
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(15) == 0  # a clean stop
        publisher.close()
    assert_exactly_once(hub_dsn, events + probe)
    log = (tmp_path / "hub.log").read_text()
    assert "session resumed" in log
