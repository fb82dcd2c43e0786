"""The on-disk outbox: idempotent keys, order, bounds and policies, reopening, bad files."""

import logging
import sqlite3

import pytest
from pydantic import ValidationError

from edge.errors import SpoolError
from edge.publish.config import SpoolConfig
from edge.publish.spool import SPOOL_FILE, Spool


def _put(spool, *keys, qos=1):
    return [spool.put(key, f"hinge/cam/{key}", f'{{"id":"{key}"}}', qos) for key in keys]


def test_put_is_idempotent_on_key(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        assert _put(spool, "a", "b", "a") == [True, True, True]
        # the repeated key keeps its first payload and its place
        spool.put("b", "other/topic", "changed", 0)
        assert spool.count() == 2
        assert [(m.key, m.topic, m.payload) for m in spool.pending()] == [
            ("a", "hinge/cam/a", '{"id":"a"}'),
            ("b", "hinge/cam/b", '{"id":"b"}'),
        ]


def test_pending_is_oldest_first_and_ack_removes(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        _put(spool, *[f"k{i}" for i in range(10)])
        assert [m.key for m in spool.pending(limit=3)] == ["k0", "k1", "k2"]
        assert spool.ack("k1") is True
        assert spool.ack("k1") is False  # already gone
        assert spool.ack_many(["k0", "k5", "nope"]) == 2
        assert [m.key for m in spool.pending(limit=4)] == ["k2", "k3", "k4", "k6"]
        assert spool.count() == 7
        # a key that was acked may come back (a re-sent event): it goes to the end
        _put(spool, "k0")
        assert spool.pending(limit=100)[-1].key == "k0"


def test_qos_and_creation_time_are_kept(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        spool.put("x", "t", "p", 2)
        (msg,) = spool.pending()
        assert msg.qos == 2
        assert msg.created_s > 1.6e9


def test_drop_oldest_when_full_counts_and_logs_the_dropped_id(tmp_path, caplog):
    with Spool(SpoolConfig(path=tmp_path, max_messages=3, when_full="drop_oldest")) as spool:
        caplog.set_level(logging.WARNING, "edge.publish.spool")
        assert _put(spool, "a", "b", "c", "d", "e") == [True] * 5
        assert [m.key for m in spool.pending()] == ["c", "d", "e"]
        assert spool.count() == 3
        assert spool.dropped == 2
        dropped = [r.getMessage() for r in caplog.records]
        assert len(dropped) == 1  # once per episode, not once per event
        assert "dropped oldest a" in dropped[0]
        assert spool.full_episode_drops == 2
        # a key already stored is not a new message: nothing dropped
        assert spool.put("e", "t", "p", 1) is True
        assert spool.dropped == 2


def test_reject_new_when_full_counts_and_logs_the_rejected_id(tmp_path, caplog):
    with Spool(SpoolConfig(path=tmp_path, max_messages=2, when_full="reject_new")) as spool:
        caplog.set_level(logging.WARNING, "edge.publish.spool")
        assert _put(spool, "a", "b", "c") == [True, True, False]
        assert [m.key for m in spool.pending()] == ["a", "b"]
        assert spool.dropped == 1
        assert "rejected new c" in caplog.records[0].getMessage()
        assert _put(spool, "d") == [False]
        assert len(caplog.records) == 1 and spool.full_episode_drops == 2
        spool.ack("a")
        assert spool.full_episode_drops is None  # the episode is over
        assert _put(spool, "c") == [True]


def test_survives_reopen_in_order(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        _put(spool, "a", "b", "c")
        spool.ack("b")
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        assert spool.count() == 2
        assert [m.key for m in spool.pending()] == ["a", "c"]
        _put(spool, "d")
        assert [m.key for m in spool.pending()] == ["a", "c", "d"]


def test_lowered_bound_on_reopen_trims_to_the_newest(tmp_path):
    with Spool(SpoolConfig(path=tmp_path, max_messages=10)) as spool:
        _put(spool, *"abcdef")
    with Spool(SpoolConfig(path=tmp_path, max_messages=3)) as spool:
        _put(spool, "g")
        assert [m.key for m in spool.pending()] == ["e", "f", "g"]
        assert spool.dropped == 4


def test_corrupt_file_is_moved_aside_loudly(tmp_path, caplog):
    (tmp_path / SPOOL_FILE).write_bytes(b"this is not an sqlite database at all" * 200)
    caplog.set_level(logging.ERROR, "edge.publish.spool")
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        assert spool.count() == 0
        _put(spool, "a")
    aside = sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name)
    assert len(aside) == 1 and aside[0].startswith(SPOOL_FILE + ".corrupt-")
    (record,) = caplog.records
    assert str(tmp_path / SPOOL_FILE) in record.getMessage()
    assert "moved aside" in record.getMessage()


def test_truncated_file_is_moved_aside(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        _put(spool, *[f"k{i}" for i in range(200)])
    path = tmp_path / SPOOL_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # cut mid-page: a crash of the disk, not of us
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        _put(spool, "new")
        assert [m.key for m in spool.pending()] == ["new"]
    assert any(".corrupt-" in p.name for p in tmp_path.iterdir())


def test_a_second_opener_is_refused_with_a_clear_error(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        _put(spool, "a")
        with pytest.raises(SpoolError, match="locked by another process"):
            Spool(SpoolConfig(path=tmp_path))
        assert spool.count() == 1  # the first one is unharmed
    assert Spool(SpoolConfig(path=tmp_path)).count() == 1


def test_unusable_folder_names_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SpoolError, match=r"cannot create the spool folder .*file"):
        Spool(SpoolConfig(path=blocker / "spool"))


def test_spool_of_another_format_is_not_silently_reused(tmp_path, caplog):
    with Spool(SpoolConfig(path=tmp_path)):
        pass
    db = sqlite3.connect(tmp_path / SPOOL_FILE)
    db.execute("PRAGMA user_version=99")
    db.close()
    caplog.set_level(logging.ERROR, "edge.publish.spool")
    with Spool(SpoolConfig(path=tmp_path)) as spool:  # moved aside, logged, fresh
        assert spool.count() == 0
    assert "spool format 99, this hinge-edge reads 1" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_messages": 0}, "greater than or equal to 1"),  # no room at all
        ({"when_full": "drop_newest"}, "'drop_oldest' or 'reject_new'"),  # typo
    ],
)
def test_bad_settings_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        SpoolConfig(path=tmp_path, **kwargs)
