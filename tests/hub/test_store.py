"""The hub's writes on a real PostgreSQL: each event once, summaries equal to a recount.

Two `Store`s are two workers (two connections); threads make them write at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from devkit.chain_events import SimBox, days_later
from edge.hub.recount import gaps
from edge.hub.store import Message, Outcome, Store
from edge.hub.views import Database, Views


@pytest.fixture
def store(hub_dsn):
    store = Store(hub_dsn)
    store.migrate()
    yield store
    store.close()


def rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def day_row(dsn: str, camera: str) -> tuple:
    return rows(
        dsn,
        "SELECT reps, sets, scored_reps, score_sum, set_seconds FROM platform_days "
        f"WHERE camera = '{camera}'",
    )[0]


def write_all(store: Store, messages, batch: int = 50) -> list[Outcome]:
    out = []
    for i in range(0, len(messages), batch):
        out += store.ingest_batch([Message(t, p) for t, p in messages[i : i + batch]])
    return out


def test_the_same_event_twice_is_one_row_and_one_increment(store, hub_dsn):
    box = SimBox("gym1", "box1")
    _, rep = box.rep("p1", "s1", score=80.0)
    assert store.ingest(*rep) is Outcome.INSERTED
    assert store.ingest(*rep) is Outcome.DUPLICATE
    assert store.ingest_batch([Message(*rep), Message(*rep)]) == [Outcome.DUPLICATE] * 2
    assert rows(hub_dsn, "SELECT count(*) FROM events") == [(1,)]
    assert day_row(hub_dsn, "p1") == (1, 0, 1, 80.0, 0.0)
    assert store.recount() == []


def test_two_workers_writing_the_same_events_at_once_count_each_once(store, hub_dsn):
    box = SimBox("gym1", "box1", seed=3)
    messages = box.workout(["p1", "p2", "p3"], sets=12, reps_per_set=5)
    stores = [store, Store(hub_dsn)]
    start = threading.Barrier(2)
    outcomes: list[list[Outcome]] = [[], []]

    def worker(n: int) -> None:
        start.wait()
        outcomes[n] = write_all(stores[n], messages, batch=7 + 13 * n)  # batches out of step

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stores[1].close()
    inserted = [o0 is Outcome.INSERTED for o0 in outcomes[0]]
    assert [o1 is Outcome.INSERTED for o1 in outcomes[1]] == [not i for i in inserted]
    assert rows(hub_dsn, "SELECT count(*) FROM events") == [(len(messages),)]
    assert rows(hub_dsn, "SELECT sum(reps), sum(sets) FROM platform_days") == [(60, 12)]
    assert store.recount() == []


@pytest.mark.parametrize("together", [False, True], ids=["apart", "one-batch"])
def test_an_update_before_its_rep_is_applied_when_the_rep_arrives(store, hub_dsn, together):
    box = SimBox("gym1", "box1")
    rep_id, rep = box.rep("p1", "s1", score=70.0)
    update = box.update("p1", rep_id, score=55.0)
    if together:
        assert store.ingest_batch([Message(*update), Message(*rep)]) == [Outcome.INSERTED] * 2
    else:
        assert store.ingest(*update) is Outcome.INSERTED
        assert rows(hub_dsn, "SELECT count(*) FROM reps") == [(0,)]  # waits in events
        assert store.ingest(*rep) is Outcome.INSERTED
    update_id = json.loads(update[1])["id"]
    assert rows(hub_dsn, "SELECT score, updated_by FROM reps") == [(55.0, update_id)]
    assert day_row(hub_dsn, "p1") == (1, 0, 1, 55.0, 0.0)
    assert store.recount() == []


def test_a_rep_and_its_update_by_two_workers_at_once_meet(hub_dsn, store):
    """Each worker holds one of the pair; whichever commits second applies the update."""
    other = Store(hub_dsn)
    for n in range(30):
        box = SimBox("gym1", f"box{n}")
        rep_id, rep = box.rep("p1", "s1", score=60.0)
        update = box.update("p1", rep_id, score=90.0)
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=lambda s=s, m=m, b=start: (b.wait(), s.ingest(*m)))
            for s, m in ((store, rep), (other, update))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    other.close()
    assert rows(hub_dsn, "SELECT count(*), sum(score) FROM reps") == [(30, 2700.0)]
    assert store.recount() == []


def test_fault_codes_count_once_per_rep_and_a_score_back_to_null(store, hub_dsn):
    box = SimBox("gym1", "box1")
    rep_id, (topic, payload) = box.rep("p1", "s1", score=70.0)
    rep = json.loads(payload)
    rep["faults"] = [{"code": "knee_dominant", "severity": 0.5, "cue": "c"}] * 2
    update = json.loads(box.update("p1", rep_id)[1])
    update["faults"] = [{"code": "knee_dominant", "severity": 0.5, "cue": "c"}]
    update["faults"] += [{"code": "rushed_eccentric", "severity": 0.5, "cue": "c"}]
    update["score"] = None
    store.ingest(topic, json.dumps(rep).encode())
    store.ingest(topic, json.dumps(update).encode())
    assert rows(hub_dsn, "SELECT code, reps FROM platform_day_faults ORDER BY 1") == [
        ("knee_dominant", 1),
        ("rushed_eccentric", 1),
    ]
    assert day_row(hub_dsn, "p1") == (1, 0, 0, 0.0, 0.0)
    assert store.recount() == []


def test_summaries_equal_a_recount_after_a_shuffled_stream_with_duplicates(store, hub_dsn):
    rng = random.Random(17)
    messages = []
    for n in range(6):
        box = SimBox(f"gym{n % 2}", f"box{n}", seed=n)
        stream = box.workout(["p1", "p2"], sets=8, reps_per_set=rng.randint(1, 6))
        messages += [days_later(m, rng.randint(0, 2)) for m in stream]
    stream = messages + rng.sample(messages, len(messages) // 3)  # redeliveries
    rng.shuffle(stream)  # an update may come before its rep, a set before its reps
    other = Store(hub_dsn)
    halves = [stream[: len(stream) // 2], stream[len(stream) // 2 :]]
    threads = [
        threading.Thread(target=write_all, args=(s, h, rng.randint(1, 60)))
        for s, h in ((store, halves[0]), (other, halves[1]))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.close()
    assert rows(hub_dsn, "SELECT count(*) FROM events") == [(len(messages),)]
    assert store.recount() == []
    assert rows(hub_dsn, "SELECT count(DISTINCT day) FROM platform_days") == [(3,)]


def test_the_recount_sees_a_summary_that_is_off(store, hub_dsn):
    box = SimBox("gym1", "box1")
    store.ingest(*box.rep("p1", "s1", score=70.0)[1])
    with psycopg.connect(hub_dsn) as conn:
        conn.execute("UPDATE platform_days SET reps = reps + 1")
    assert store.recount() == [
        "platform_days ('gym1', 'p1', datetime.date(2026, 3, 1)): reps stored 2, recounted 1"
    ]


def test_the_day_is_the_date_in_the_hubs_time_zone(hub_dsn):
    store = Store(hub_dsn, timezone="America/New_York")
    store.migrate()
    box = SimBox("gym1", "box1")
    box.clock -= 12 * 3600  # 2026-02-28 21:00 UTC: 16:00 in New York
    store.ingest(*box.rep("p1", "s1")[1])
    box.clock += 4 * 3600  # 2026-03-01 01:00 UTC: still 2026-02-28 in New York
    store.ingest(*box.rep("p1", "s1")[1])
    store.close()
    assert rows(hub_dsn, "SELECT day, reps FROM platform_days") == [(date(2026, 2, 28), 2)]


def test_a_box_status_is_latest_wins_by_its_own_time(store, hub_dsn):
    box = SimBox("gym1", "box1")
    old = box.status("online", "run1")
    new = box.status("degraded", "run1")
    assert store.ingest(*new) is Outcome.APPLIED
    assert store.ingest(*old) is Outcome.STALE  # a late, redelivered or retained old one
    assert rows(hub_dsn, "SELECT status FROM boxes") == [("degraded",)]
    assert store.ingest(*box.status("offline", "run1", since=False)) is Outcome.APPLIED  # will
    box.clock -= 3600  # the new run's clock is behind the hub's: still a new run
    assert store.ingest(*box.status("online", "run2")) is Outcome.APPLIED
    assert rows(hub_dsn, "SELECT status, run_id FROM boxes") == [("online", "run2")]


def test_camera_status_and_state_are_latest_wins_each_and_any_message_is_seen(store, hub_dsn):
    box = SimBox("gym1", "box1")
    old_status = box.camera_status("p1", "online")
    state = box.camera_state("p1", reps_in_set=3)
    new_status = box.camera_status("p1", "stalled")
    outcomes = store.ingest_batch([Message(*m) for m in (new_status, state, old_status)])
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.STALE]
    status, state_doc, box_name = rows(hub_dsn, "SELECT status, state, box FROM cameras")[0]
    assert (status["state"], state_doc["reps_in_set"], box_name) == ("stalled", 3, "box1")
    seen = rows(hub_dsn, "SELECT status, last_seen FROM boxes")
    stats = box.stats()
    assert store.ingest(*stats) is Outcome.APPLIED
    later = rows(hub_dsn, "SELECT status, last_seen FROM boxes")
    assert seen[0][0] == later[0][0] == "unknown"  # no DaemonStatus yet
    assert later[0][1] > seen[0][1]


def test_malformed_messages_are_counted_and_the_rest_of_the_batch_is_stored(store, hub_dsn):
    box = SimBox("gym1", "box1")
    good = box.rep("p1", "s1")[1]
    topic, payload = box.rep("p1", "s1")[1]
    data = json.loads(payload)
    bad = [
        (topic, b"{not json"),
        ("hinge/gym1/box1/p1/other", payload),
        ("hinge/Gym.1/box1/p1/rep", payload),
        ("hinge/gym1/box1/p2/rep", payload),  # the payload's camera is p1
        ("hinge/gym2/box1/p1/rep", payload),  # the payload's gym is gym1
        (topic, json.dumps({**data, "ts": None}).encode()),  # a replay's event
        (topic, json.dumps({**data, "cue": "nul \u0000 inside"}).encode()),  # PostgreSQL refuses
        (topic.replace("/rep", "/set"), payload),  # a rep on a set topic
        (topic, json.dumps({**data, "seq": 0}).encode()),
    ]
    outcomes = store.ingest_batch([Message(*m) for m in [*bad, good]])
    assert outcomes == [Outcome.MALFORMED] * len(bad) + [Outcome.INSERTED]
    assert store.counts.malformed == len(bad)
    assert rows(hub_dsn, "SELECT count(*) FROM events") == [(1,)]
    assert store.recount() == []


def test_the_gap_check_names_a_box_with_a_lost_event(store, hub_dsn):
    north, south = SimBox("north", "box-a", seed=1), SimBox("south", "box-a", seed=2)
    north_events = north.workout(["p1"], sets=1, reps_per_set=3)  # seq 1..7
    lost = north_events.pop(2)  # seq 3 never arrives
    write_all(store, north_events + south.workout(["p1"], sets=1, reps_per_set=2))
    with psycopg.connect(hub_dsn) as conn:
        assert gaps(conn) == {("north", "box-a"): 1}
        assert missing_on_the_dashboard(hub_dsn) == {"north/box-a": 1, "south/box-a": 0}
        assert store.recount() == []  # the tally agrees with the events
        store.ingest(*lost)  # late, but there
        assert gaps(conn) == {}
        assert missing_on_the_dashboard(hub_dsn) == {"north/box-a": 0, "south/box-a": 0}
        write_all(store, [lost, *north_events])  # redelivered: counted once
        assert rows(hub_dsn, "SELECT events FROM box_sequences WHERE gym = 'north'") == [(7,)]
        assert store.recount() == []


def missing_on_the_dashboard(dsn: str) -> dict[str, int]:
    """Each box's `missing_events` as /api/chain serves it."""

    async def chain() -> dict:
        return await Views(Database(dsn)).chain(datetime.now(UTC))

    tree = asyncio.run(chain())
    return {f"{b['gym']}/{b['box']}": b["missing_events"] for g in tree["gyms"] for b in g["boxes"]}


def test_a_heartbeat_after_a_stale_last_will_brings_the_box_back(store, hub_dsn):
    box = SimBox("gym1", "box1")
    assert store.ingest(*box.status("online", "run1")) is Outcome.APPLIED
    # the will of a connection the box has since replaced, delivered again by the broker
    will_at = datetime.now(UTC)
    store.ingest_batch([Message(*box.status("offline", "run1", since=False), will_at)])
    assert rows(hub_dsn, "SELECT status FROM boxes") == [("offline",)]
    before = Message(*box.stats(), will_at - timedelta(seconds=5))  # sent before the will
    store.ingest_batch([before])
    assert rows(hub_dsn, "SELECT status FROM boxes") == [("offline",)]
    store.ingest(*box.stats())  # QoS 0, never re-sent: the box is connected now
    assert rows(hub_dsn, "SELECT status, run_id FROM boxes") == [("online", "run1")]
