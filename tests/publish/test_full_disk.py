"""The spool's disk fills up while the broker is down: nothing lost silently.

The spool lives on a real, small tmpfs that a filler file fills to ENOSPC, so SQLite
itself hits "database or disk is full" (no write is faked). Mounting needs root (or
CAP_SYS_ADMIN); elsewhere these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from devkit.broker import Collector, payload_json, retained_snapshot
from edge.daemon.metrics import Metrics
from edge.publish import Publisher, Spool, SpoolConfig
from tests.publish.helpers import ids_of, make_publisher, publish_events, wait_until

MEMORY = 8  # events the publisher may hold in memory while the spool cannot be written


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs, unmounted after the test."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mount.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Writes a filler file until the filesystem is full; returns it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as err:
            assert err.errno == 28, err  # ENOSPC
    return filler


def _dropped_metric(publisher: Publisher, reason: str) -> float:
    snapshot = {"cameras": {}, "mqtt": publisher.stats()}
    text = Metrics(lambda: snapshot).exposition().decode()
    line = f'hinge_spool_dropped_total{{reason="{reason}"}} '
    (value,) = [row[len(line) :] for row in text.splitlines() if row.startswith(line)]
    return float(value)


def test_disk_full_while_broker_down_then_broker_back(
    mosquitto_factory, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "edge.publish")
    # A persistent subscriber, registered while the broker was up: the broker queues for
    # it, so every event the daemon delivers after the broker comes back is seen.
    broker = mosquitto_factory(persistence=True)
    watcher = Collector(broker.port, "hinge/#", client_id="watcher", clean_session=False)
    watcher.wait_subscribed()
    broker.stop()

    spool = Spool(SpoolConfig(path=small_disk / "spool"))
    publisher = make_publisher(broker.port, spool, "full-disk", MEMORY)
    publish_events(publisher, ["disk-1", "disk-2", "disk-3"])  # on disk, broker away
    assert spool.count() == 3
    filler = _fill(small_disk)

    # Memory allows MEMORY more: none lost, the health says why it is degraded.
    held = [f"mem-{i}" for i in range(MEMORY)]
    publish_events(publisher, held)
    stats = publisher.stats()
    assert spool.count() == 3 and stats["held_in_memory"] == MEMORY
    assert stats["pending"] == 3 + MEMORY and stats["dropped"] == 0
    assert "spool cannot be written (database or disk is full)" in stats["problem"]

    # Beyond it, the oldest held are dropped (spool.when_full: drop_oldest), each counted.
    publish_events(publisher, ["late-1", "late-2"])
    stats = publisher.stats()
    assert stats["dropped_by_reason"] == {"full": 0, "unwritable": 2, "unsendable": 0}
    assert "2 dropped" in stats["problem"]
    assert _dropped_metric(publisher, "unwritable") == 2
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 2  # once when the disk failed, once at the first drop
    assert "held in memory" in logged[0] and "first mem-0" in logged[1]
    assert not [r for r in caplog.records if "without a retry" in r.getMessage()]

    # The broker comes back, the disk is still full: everything still held is delivered
    # from memory and the disk, and the retained status says degraded, with why.
    broker.start()
    expected = {"disk-1", "disk-2", "disk-3", *held[2:], "late-1", "late-2"}
    wait_until(lambda: publisher.stats()["published"] == len(expected), what="all delivered")
    status = payload_json(retained_snapshot(broker.port, "hinge/status"))
    assert status["status"] == "degraded"
    assert "2 dropped" in status["problem"]
    watcher.collect(until=lambda: set(ids_of(watcher.messages)) >= expected)
    assert set(ids_of(watcher.messages)) == expected  # only the two counted drops missing
    assert publisher.stats()["pending"] == 0

    # Room on the disk again: the acknowledged events leave the spool file and the status
    # is online again; the drops stay counted.
    filler.unlink()
    wait_until(lambda: publisher.stats()["problem"] is None, what="spool writable again")
    wait_until(
        lambda: payload_json(retained_snapshot(broker.port, "hinge/status"))["status"] == "online",
        what="status online again",
    )
    assert spool.count() == 0
    assert publisher.stats()["dropped"] == 2
    assert any("spool writable again" in r.getMessage() for r in caplog.records)
    assert publisher.stop(5)
    spool.close()
    watcher.close()


def test_stop_with_events_only_in_memory_counts_them(
    mosquitto_factory, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto_factory(start=False)
    spool = Spool(SpoolConfig(path=small_disk / "spool", when_full="reject_new"))
    publisher = make_publisher(broker.port, spool, "full-disk", MEMORY)
    _fill(small_disk)
    publish_events(publisher, [f"e{i}" for i in range(MEMORY + 1)])
    stats = publisher.stats()
    # reject_new: the one beyond memory is the one refused, the held ones are kept.
    assert stats["held_in_memory"] == MEMORY
    assert stats["dropped_by_reason"]["unwritable"] == 1
    publisher.stop(1)
    assert publisher.stats()["dropped_by_reason"]["unwritable"] == MEMORY + 1
    assert any("they are lost" in r.getMessage() for r in caplog.records)
    assert json.loads(json.dumps(publisher.stats()))["held_in_memory"] == 0
    spool.close()
