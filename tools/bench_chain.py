"""A chain-sized load through the real cluster into PostgreSQL: latency and headroom.

    .venv/bin/python -m tools.bench_chain [--gyms 200] [--cameras 8] [--rep-every 5]
        [--seconds 60] [--hubs 1] [--out docs/chain-benchmark.md]

On loopback, all on this one machine: the 3-node NATS cluster from deploy/central (per-box
accounts and ACL, no TLS), a PostgreSQL with durable settings (fsync and synchronous
commit on), `hinge-edge hub` workers as processes. One MQTT connection per gym (its
box) publishes at QoS 1 a rep event per camera every `--rep-every` seconds, spread
evenly, to the node its gym is assigned to (gym i -> node i mod 3); a probe subscriber
on another node measures the cluster's own end-to-end latency. Figures:

- cluster: publish (the event's `ts`) -> the probe's receipt, p50/p90/p99/max;
- into PostgreSQL: `ts` -> the hub's commit (`events.received`), p50/p90/p99/max;
- offered vs stored events per second, and the CPU each part used (a share of this
  machine's cores), so the headroom is visible.

Events are made up (`devkit.chain_events`); the boxes' own spools are left out on
purpose: they run on the boxes, not here, and are measured by tests/chain.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psycopg

from devkit.broker import HOST
from devkit.chain import HubProcess
from devkit.chain_events import SimBox
from devkit.cluster import NatsCluster
from devkit.postgres import Postgres
from edge.contract import iso
from edge.hub.recount import gaps
from tools.bench_daemon import process_cpu_s

ROOT = Path(__file__).resolve().parents[1]
WARMUP_S = 10.0


def _with_children(pid: int) -> list[int]:
    """A process and its children (PostgreSQL: the postmaster and its backends)."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            pids.append(int(stat.parent.name))
    return pids


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds of processes (those gone since are left out)."""
    total = 0.0
    for pid in pids:
        try:
            total += process_cpu_s(pid)
        except OSError:
            pass
    return total


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": round(1000 * at(0.50), 1),
        "p90_ms": round(1000 * at(0.90), 1),
        "p99_ms": round(1000 * at(0.99), 1),
        "max_ms": round(1000 * ordered[-1], 1),
        "mean_ms": round(1000 * statistics.fmean(ordered), 1),
    }


class Probe:
    """A persistent QoS 1 subscriber to every rep, timing each against its `ts`."""

    def __init__(self, cluster: NatsCluster, node: int) -> None:
        self.latencies: list[float] = []
        self.client = cluster.paho_client("probe", cluster.hub_auth("probe"))
        self.client.on_message = self._on_message
        self.ready = threading.Event()
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_connect = lambda c, *_: c.subscribe("hinge/+/+/+/rep", qos=1)
        self.client.connect(HOST, cluster.mqtt_ports[node])
        self.client.loop_start()
        self.measuring = False

    def _on_message(self, client, userdata, message) -> None:
        if self.measuring:
            sent = json.loads(message.payload)["ts"]
            self.latencies.append(time.time() - _unix(sent))

    def close(self) -> None:
        """Disconnects."""
        self.client.disconnect()
        self.client.loop_stop()


def _unix(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()


def run(args: argparse.Namespace) -> dict:
    """Starts everything, offers the load, measures; returns the figures."""
    work = Path(tempfile.mkdtemp(prefix="bench-chain-"))
    gyms = [(f"g{n:03d}", "box-1") for n in range(args.gyms)]
    pg = Postgres(fast=False).start()
    dsn = pg.create_database("chain")
    cluster = NatsCluster(work / "cluster", boxes=gyms, hubs=("hub", "probe")).start_all(60)
    hub_user, hub_password = cluster.hub_auth("hub")
    hubs = [
        HubProcess(
            work / f"hub-{n}",
            {
                "broker": {
                    "host": HOST,
                    "port": cluster.mqtt_ports[n % 3],
                    "failover": [f"{HOST}:{p}" for p in cluster.mqtt_ports],
                    "username": hub_user,
                    "password": hub_password,
                },
                "database": {"dsn": dsn},
                "hub": {"name": f"bench{n}"},
            },
        ).start()
        for n in range(args.hubs)
    ]
    probe = Probe(cluster, 2)
    clients, boxes = [], []
    acked: list[int] = []  # one item per PUBACK (list.append is atomic)
    for n, (gym, box) in enumerate(gyms):
        client = cluster.paho_client(f"pub-{gym}", cluster.box_auth(gym, box))
        client.on_publish = lambda *_: acked.append(1)
        client.max_inflight_messages_set(100)
        client.connect(HOST, cluster.mqtt_ports[n % 3])
        client.loop_start()
        clients.append(client)
        boxes.append(SimBox(gym, box, seed=n))
    time.sleep(5.0)  # connections and the hubs' sessions settle
    probe.ready.wait(30)

    rate = args.gyms * args.cameras / args.rep_every
    interval = 1.0 / rate
    pids = {
        "nats (3 nodes)": cluster.pids,
        "hub": [h.proc.pid for h in hubs if h.proc is not None],
        "postgres": _with_children(int((pg.data / "postmaster.pid").read_text().split()[0])),
    }
    offered = 0
    total_s = WARMUP_S + args.seconds
    start = time.monotonic()
    cpu_start: dict[str, float] = {}
    measure_from = start + WARMUP_S
    first_measured: str | None = None
    turn = 0
    while (now := time.monotonic()) < start + total_s:
        if not probe.measuring and now >= measure_from:
            probe.measuring = True
            cpu_start = {k: _cpu_of(v) for k, v in pids.items()}
            cpu_start["this tool (publishers, probe)"] = time.process_time()
        gym = turn % args.gyms
        camera = f"p{turn // args.gyms % args.cameras + 1}"
        box = boxes[gym]
        event_id, (topic, payload) = box.rep(camera, f"{box.gym}-{box.box}-{camera}-s")
        data = json.loads(payload)
        data["ts"] = iso(time.time())  # sent now (the made-up box's own clock runs ahead)
        payload = json.dumps(data, separators=(",", ":")).encode()
        if probe.measuring and first_measured is None:
            first_measured = event_id
        clients[gym].publish(topic, payload, qos=1)
        offered += 1
        turn += 1
        delay = start + turn * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    elapsed = args.seconds
    cpu = {k: _cpu_of(v) - cpu_start[k] for k, v in pids.items()}
    cpu["this tool (publishers, probe)"] = (
        time.process_time() - cpu_start["this tool (publishers, probe)"]
    )
    probe.measuring = False

    def stored() -> int:
        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    drain_start = time.monotonic()
    while stored() < offered and time.monotonic() - drain_start < args.drain_s:
        time.sleep(0.5)
    drained_s = time.monotonic() - drain_start
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM received - ts) FROM events "
            "WHERE ts >= (SELECT ts FROM events WHERE id = %s)",
            [first_measured],
        ).fetchall()
        in_db = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        missing_by_seq = sum(gaps(conn).values())
        stored_bytes = conn.execute(
            "SELECT pg_total_relation_size('events') + pg_total_relation_size('reps')"
        ).fetchone()[0]
    for client in clients:
        client.disconnect()
        client.loop_stop()
    probe.close()
    for hub in hubs:
        hub.terminate()
    cluster.stop_all()
    pg.close()
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load": {
            "gyms": args.gyms,
            "cameras_per_gym": args.cameras,
            "rep_every_s": args.rep_every,
            "offered_per_s": round(rate, 1),
            "measured_s": elapsed,
            "hub_workers": args.hubs,
        },
        "cluster_latency": _percentiles(probe.latencies),
        "to_postgres_latency": _percentiles([float(r[0]) for r in rows]),
        "events": {
            "offered": offered,
            "acknowledged_by_cluster": len(acked),
            "in_postgres": in_db,
            "missing_by_seq_check": missing_by_seq,
            "drain_after_load_s": round(drained_s, 1),
            "bytes_per_event": round(stored_bytes / max(in_db, 1)),
        },
        "cpu_share_of_one_core": {k: round(v / elapsed, 2) for k, v in cpu.items()},
    }


def render(figures: dict) -> str:
    """The Markdown page."""
    load, cluster, db = figures["load"], figures["cluster_latency"], figures["to_postgres_latency"]
    lines = [
        "# The chain under a chain-sized load",
        "",
        "Generated by `.venv/bin/python -m tools.bench_chain` (docs/chain.md). Everything on",
        f"one machine ({figures['machine']}), on loopback: the 3-node NATS cluster",
        "(deploy/central, per-box accounts), PostgreSQL 15 with fsync and synchronous commit",
        f"on, {load['hub_workers']} `hinge-edge hub` worker(s), and the publishers: one MQTT",
        f"connection per gym. Load: {load['gyms']} gyms x {load['cameras_per_gym']} cameras,",
        f"one rep every {load['rep_every_s']:g} s per camera = {load['offered_per_s']:g} events/s,",
        f"measured for {load['measured_s']} s after {WARMUP_S:g} s of warm-up.",
        "",
        "| latency | n | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in (("publish -> subscriber on another node", cluster),
                    ("publish -> committed in PostgreSQL by the hub", db)):  # fmt: skip
        if p.get("n"):
            lines.append(
                f"| {name} | {p['n']} | {p['p50_ms']} ms | {p['p90_ms']} ms "
                f"| {p['p99_ms']} ms | {p['max_ms']} ms |"
            )
    events = figures["events"]
    lines += [
        "",
        f"Events offered: {events['offered']}; acknowledged by the cluster (PUBACK): "
        f"{events['acknowledged_by_cluster']}; in PostgreSQL at the end: {events['in_postgres']};"
        f" missing by the boxes' sequence numbers (`edge.hub.recount.gaps`): "
        f"{events['missing_by_seq_check']}"
        f" (the last arrived {events['drain_after_load_s']:.1f} s after the load stopped);"
        f" {events['bytes_per_event']} bytes each in PostgreSQL (events and reps tables with"
        " their indexes).",
        "",
        "CPU used during the measured period, in cores (this machine has "
        f"{os.cpu_count()}, shared by everything above):",
        "",
        "| part | cores |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in figures["cpu_share_of_one_core"].items()),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and writes the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gyms", type=int, default=200)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--rep-every", type=float, default=5.0)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--hubs", type=int, default=1)
    parser.add_argument(
        "--drain-s", type=float, default=120, help="how long to wait for the last events"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "chain-benchmark.md")
    args = parser.parse_args(argv)
    figures = run(args)
    print(json.dumps(figures, indent=1))
    args.out.write_text(render(figures))
    args.out.with_suffix(".json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
