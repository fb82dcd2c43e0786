"""A chain end to end on loopback (issue 17; `make chain`; docs/chain.md has its output).

A real 3-node NATS cluster (deploy/central's config, TLS and per-box users), a real
PostgreSQL, two `hinge-edge hub` workers, two real daemons (file cameras: a rendered
athlete's swings) and 20 simulated boxes sending through the project's own publisher and
spool. Each box reaches the cluster through its own `WanLink`, a TCP forwarder that can
be cut: the WAN is the one part faked, since it cannot be reached on loopback.

While the boxes publish:
- the WAN link of 8 simulated boxes and of one daemon is cut for 20 s and restored for
  20 s, three times;
- one cluster node is SIGKILLed and restarted 30 s later;
- one hub worker is SIGKILLed and restarted 10 s later;
- one daemon is SIGKILLed: on the dashboard (the hub's views, and the gym's floor page in
  headless Chromium) only its box's camera turns DOWN; then it
  starts again and sends what it had spooled.

At the end every event every box produced is in PostgreSQL exactly once (by id, per box,
its sequence numbers without a gap), and the daily summaries equal a recount.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from devkit.broker import Collector
from devkit.browser import Page
from devkit.chain import HubProcess, SimulatedBox
from devkit.cluster import NatsCluster
from devkit.cluster import skip_reason as cluster_skip_reason
from devkit.daemon import wait_for
from devkit.wan import WanLink
from edge.hub.config import HubWebConfig
from edge.hub.recount import gaps, recount
from edge.hub.views import Database, Views
from edge.hub.web import HubWeb
from tests.daemon.harness import payloads, swing_camera

pytestmark = [pytest.mark.chain, pytest.mark.slow]

DAEMON_BOXES = [("gym-a", "box-1"), ("gym-a", "box-2")]
SIM_BOXES = [("gym-a", "box-3"), ("gym-a", "box-4")] + [
    (f"gym-{g}", f"box-{b}") for g in "bcd" for b in range(1, 7)
]  # 20 simulated boxes in 4 gyms
CUT_SIMS = 8  # the first 8 simulated boxes lose their WAN in cycles, with daemon box-2
CUT_S, UP_S, CYCLES = 20.0, 20.0, 3
NODE_DOWN_AT_S, NODE_UP_AT_S = 30.0, 60.0
HUB_KILL_AT_S, HUB_BACK_AT_S = 45.0, 55.0
SET_EVERY_S = 3.0  # each simulated box: a set of 2 reps (5 events) about this often


def upstream(cluster: NatsCluster, wan: WanLink, gym: str, box: str) -> dict:
    """A box's `upstream:` section: through its WAN link, TLS, its own account."""
    user, password = cluster.box_auth(gym, box)
    assert cluster.tls is not None
    return {
        "host": "127.0.0.1",
        "port": wan.port,
        "username": user,
        "password": password,
        "tls": {"enabled": True, "ca_file": str(cluster.tls.ca)},
        "keepalive_s": 5,
        "reconnect_min_s": 0.2,
        "reconnect_max_s": 2.0,
    }


def rotated(ports: list[int], first: int) -> list[int]:
    """The cluster's ports starting at node `first` (spreads the clients over the nodes)."""
    first %= len(ports)
    return ports[first:] + ports[:first]


def hub_config(cluster: NatsCluster, dsn: str, name: str, first: int) -> dict:
    """A hub worker's config: the nodes from `first` on, the hub's account, the database."""
    user, password = cluster.hub_auth("hub")
    assert cluster.tls is not None
    ports = rotated(cluster.mqtt_ports, first)
    return {
        "broker": {
            "host": "127.0.0.1",
            "port": ports[0],
            "failover": [f"127.0.0.1:{port}" for port in ports[1:]],
            "username": user,
            "password": password,
            "tls": {"enabled": True, "ca_file": str(cluster.tls.ca)},
            "keepalive_s": 5,
            "reconnect_max_s": 2.0,
        },
        "database": {"dsn": dsn},
        "hub": {"name": name, "stats_interval_s": 5},
    }


class Workout(threading.Thread):
    """Every simulated box does a set of 2 reps about every SET_EVERY_S, and heartbeats."""

    def __init__(self, boxes: list[SimulatedBox]) -> None:
        super().__init__(name="workout", daemon=True)
        self.boxes = boxes
        self.stop = threading.Event()

    def run(self) -> None:
        step = SET_EVERY_S / len(self.boxes)
        turn = 0
        while not self.stop.wait(step):
            box = self.boxes[turn % len(self.boxes)]
            box.workout_set(box.cameras[turn // len(self.boxes) % len(box.cameras)], reps=2)
            box.heartbeat()
            turn += 1


def run_outages(cut: list[WanLink], cluster: NatsCluster, hub: HubProcess) -> None:
    """The WAN cycles, a node's SIGKILL and return, a hub worker's SIGKILL and return."""
    actions = {
        "cut": lambda: [link.cut() for link in cut],
        "restore": lambda: [link.restore() for link in cut],
        "node-down": lambda: cluster.kill(1),
        "node-up": lambda: cluster.start(1),
        "hub-kill": hub.kill,
        "hub-back": hub.start,
    }
    schedule = [
        (NODE_DOWN_AT_S, "node-down"),
        (NODE_UP_AT_S, "node-up"),
        (HUB_KILL_AT_S, "hub-kill"),
        (HUB_BACK_AT_S, "hub-back"),
    ]
    for cycle in range(CYCLES):
        at = 5.0 + cycle * (CUT_S + UP_S)
        schedule += [(at, "cut"), (at + CUT_S, "restore")]
    start = time.monotonic()
    for at, action in sorted(schedule):
        time.sleep(max(0.0, at - (time.monotonic() - start)))
        actions[action]()
        print(f"{time.monotonic() - start:6.1f} s  {action}")


def wait_all_stored(
    dsn: str, produced: dict[tuple[str, str], dict[str, int]], sims: list[SimulatedBox]
) -> None:
    """Waits until PostgreSQL holds as many events as the boxes produced (2 min at most)."""
    total = sum(len(ids) for ids in produced.values())

    def stored() -> int:
        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    def missing() -> str:
        with psycopg.connect(dsn) as conn:
            ids = {row[0] for row in conn.execute("SELECT id FROM events")}
        lost = {k: len(set(v) - ids) for k, v in produced.items() if set(v) - ids}
        pending = {(s.gym, s.box): s.pending for s in sims if s.pending}
        return f"; missing per box {lost}, still spooled {pending}"

    wait_for(lambda: stored() >= total and all(s.pending == 0 for s in sims), 120.0,
             f"all {total} events in PostgreSQL", missing)  # fmt: skip


def check_each_event_once(dsn: str, produced: dict[tuple[str, str], dict[str, int]]) -> None:
    """Every produced event in PostgreSQL once, each box's numbers unbroken, summaries exact."""
    every_id = [event_id for ids in produced.values() for event_id in ids]
    assert len(every_id) == len(set(every_id)), "two boxes produced the same event id"
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT gym, box, id, seq FROM events").fetchall()
        differences = recount(conn)
        missing = gaps(conn)
    in_db: dict[tuple[str, str], dict[str, int]] = {}
    for gym, box, event_id, seq in rows:
        in_db.setdefault((gym, box), {})[event_id] = seq
    for key, ids in produced.items():
        assert in_db.get(key) == ids, f"{key}: events missing or foreign"
        numbers = sorted(ids.values())
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), key
    total = sum(len(ids) for ids in produced.values())
    assert len(rows) == total, "events no box produced"
    assert differences == [], differences[:10]
    assert missing == {}, missing  # the hub's own check agrees
    print(f"{total} events from {len(produced)} boxes, each once; summaries = recount")


def daemons_events(local_sub: Collector) -> dict[tuple[str, str], dict[str, int]]:
    """What each daemon produced: its events (id -> seq) as its own broker received them."""
    local_sub.collect(lambda: False, 3.0)
    events = payloads(local_sub.messages, "/rep") + payloads(local_sub.messages, "/set")
    produced = {}
    for gym, box in DAEMON_BOXES:
        produced[(gym, box)] = {e["id"]: e["seq"] for e in events if e["box"] == box}
        assert produced[(gym, box)], f"daemon {box} produced no event"
    return produced


def upstream_drained(daemon) -> bool:
    """The daemon's upstream link is up and its spool empty (its /api/state)."""
    upstream = daemon.state()["upstream"]
    return upstream["connected"] and upstream["pending"] == 0 and upstream["in_flight"] == 0


def check_only_its_box_goes_down(dsn: str, daemon, page: Page, shot: Path) -> None:
    """Kills box-2's daemon: its camera turns DOWN on the dashboard, every other stays UP.

    Both in the hub's view (what /api/chain serves) and on gym-a's floor page in Chromium.
    """
    view = views_of(dsn)
    wait_for(lambda: set(camera_health(view()).values()) == {"up"}, 60.0,
             "gym-a's cameras up on the dashboard", lambda: str(camera_health(view())))  # fmt: skip
    page.wait_for(TILES_UP, timeout_s=20)
    daemon.kill()
    killed = time.monotonic()
    wait_for(lambda: camera_health(view()).get(("box-2", "p2")) == "down", 30.0,
             "box-2's camera DOWN after its daemon was killed")  # fmt: skip
    print(f"daemon box-2 killed: its camera DOWN after {time.monotonic() - killed:.1f} s")
    health = camera_health(view())
    others = {key: state for key, state in health.items() if key[0] != "box-2"}
    assert others and set(others.values()) == {"up"}, health
    page.wait_for(f"document.querySelector({json.dumps(BOX2_TILE)})?.dataset.health === 'down'",
                  timeout_s=20)  # fmt: skip
    tiles = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('article.tile')]"
        ".map(t => [t.dataset.box + '/' + t.dataset.camera, t.dataset.health]))"
    )
    assert tiles["box-2/p2"] == "down" and len(tiles) == 10, tiles
    assert {k: v for k, v in tiles.items() if k != "box-2/p2"} == {
        k: "up" for k in tiles if k != "box-2/p2"
    }, tiles
    page.screenshot(shot)


BOX2_TILE = "article.tile[data-box='box-2']"
TILES_UP = (  # gym-a: 2 daemons' cameras and 2 simulated boxes' 2 x 4, all up
    "document.querySelectorAll('article.tile').length === 10"
    " && [...document.querySelectorAll('article.tile')].every(t => t.dataset.health === 'up')"
)


def last_figures(hub: HubProcess) -> str:
    """The worker's last figures line (inserted, duplicate, ...)."""
    figures = [line for line in hub.log().splitlines() if "duplicate=" in line]
    return figures[-1].split(": ", 1)[-1] if figures else "no figures"


def views_of(dsn: str):
    """A function returning the dashboard's chain tree now (edge.hub.views)."""

    async def fetch() -> dict:
        return await Views(Database(dsn)).chain(datetime.now(UTC))

    return lambda: asyncio.run(fetch())


def camera_health(tree: dict) -> dict[tuple[str, str], str]:
    """(box, camera) -> UP/DOWN-ish health for gym-a's cameras."""
    gym = next(g for g in tree["gyms"] if g["gym"] == "gym-a")
    return {(c["box"], c["camera"]): c["health"] for b in gym["boxes"] for c in b["cameras"]}


def test_a_chain_loses_nothing_and_counts_nothing_twice(
    tmp_path, swing_clip, mosquitto_factory, daemons, hub_dsn, browser
):
    if reason := cluster_skip_reason():
        pytest.skip(reason)
    every_box = DAEMON_BOXES + SIM_BOXES
    cluster = NatsCluster(tmp_path / "cluster", boxes=every_box, tls=True, ack_wait="5s")
    cluster.start_all()
    hubs = [  # w2 starts on node 2, the one killed
        HubProcess(tmp_path / f"hub-{name}", hub_config(cluster, hub_dsn, name, n)).start()
        for n, name in enumerate(("w1", "w2"))
    ]
    wans = {  # a third of the boxes on each node
        key: WanLink(rotated(cluster.mqtt_ports, n)) for n, key in enumerate(every_box)
    }
    local = mosquitto_factory()  # the daemons' own broker (one for both: camera ids differ)
    local_sub = Collector(local.port, ["hinge/+/rep", "hinge/+/set"], client_id="local-audit",
                          clean_session=False).wait_subscribed()  # fmt: skip
    sims: list[SimulatedBox] = []
    workout = Workout(sims)
    dashboard = HubWeb(HubWebConfig(port=0, refresh_s=1, auth={"enabled": False}), hub_dsn)
    dashboard.start()
    try:
        boxes = {}
        for n, (gym, box) in enumerate(DAEMON_BOXES, 1):
            boxes[box] = daemons(
                {f"p{n}": swing_camera(swing_clip.path)},
                local.port,
                name=box,
                site={"gym": gym, "box": box},
                upstream=upstream(cluster, wans[(gym, box)], gym, box),
                stats_interval_s=2.0,
            ).start()
        for n, (gym, box) in enumerate(SIM_BOXES):
            sims.append(SimulatedBox(tmp_path / "sims" / f"{gym}-{box}", gym, box,
                                     upstream(cluster, wans[(gym, box)], gym, box),
                                     seed=n).start())  # fmt: skip
        workout.start()

        cut = [wans[(s.gym, s.box)] for s in sims[:CUT_SIMS]] + [wans[DAEMON_BOXES[1]]]
        run_outages(cut, cluster, hubs[0])

        # One daemon killed: only its box's cameras go DOWN on the chain dashboard (the
        # others keep working out, and so keep their heartbeats fresh).
        page = browser.page(f"http://127.0.0.1:{dashboard.port}/gym/gym-a", 1400, 2000)
        shots = Path(os.environ.get("HINGE_CHAIN_SCREENSHOTS") or tmp_path)
        check_only_its_box_goes_down(hub_dsn, boxes["box-2"], page, shots / "chain-e2e.png")
        assert page.errors() == []
        boxes["box-2"].start()  # it sends what it had spooled
        workout.stop.set()
        workout.join()
        for daemon in boxes.values():  # stopped once their upstream spool is empty
            wait_for(lambda d=daemon: upstream_drained(d), 60.0, "the upstream spool drained")
            assert daemon.terminate() == 0, daemon.log()

        # Everything produced: the simulated boxes' own records; the daemons' events as
        # their own broker received them (every event goes to both brokers).
        produced: dict[tuple[str, str], dict[str, int]] = {
            (s.gym, s.box): dict(s.produced) for s in sims
        }
        produced |= daemons_events(local_sub)
        wait_all_stored(hub_dsn, produced, sims)
        check_each_event_once(hub_dsn, produced)
        for hub in hubs:  # what each worker absorbed: the same events from both, redeliveries
            print(hub.workdir.name, last_figures(hub))
    finally:
        workout.stop.set()
        if workout.is_alive():
            workout.join()
        dashboard.stop()
        for sim in sims:
            sim.stop(1.0)
        for hub in hubs:
            hub.kill()
        for link in wans.values():
            link.close()
        local_sub.close()
        cluster.stop_all()
