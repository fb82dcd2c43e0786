"""A box of a gym: `site:`, `upstream:`, failover endpoints, the box's event numbers."""

from __future__ import annotations

import logging
from contextlib import nullcontext as DoesNotRaise

import pytest
from pydantic import ValidationError

from edge.contract import DaemonStatus, RepEvent
from edge.errors import ConfigError
from edge.publish.config import MqttConfig, SiteConfig, SpoolConfig, UpstreamConfig
from edge.publish.sequence import COUNTER, BoxSequence
from edge.publish.spool import Spool
from edge.settings import load_settings
from tests.contract.samples import REP


@pytest.mark.parametrize(
    ("site", "expectation"),
    [
        ({}, DoesNotRaise()),  # a single box
        ({"gym": "downtown", "box": "rack-2"}, DoesNotRaise()),
        ({"gym": "downtown"}, pytest.raises(ValidationError, match="go together")),
        ({"gym": "Down.Town", "box": "b"}, pytest.raises(ValidationError, match="pattern")),
        ({"gym": "g", "box": "a/b"}, pytest.raises(ValidationError, match="pattern")),
    ],
)
def test_site_ids(site, expectation):
    with expectation:
        SiteConfig(**site)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("central-2.example.com:8883", ("central-2.example.com", 8883)),
        ("10.0.0.7:1883", ("10.0.0.7", 1883)),
        ("[fd00::7]:1883", ("fd00::7", 1883)),
    ],
)
def test_failover_endpoints_in_order(endpoint, expected):
    config = MqttConfig(host="central-1.example.com", port=8883, failover=[endpoint])
    assert config.endpoints() == [("central-1.example.com", 8883), expected]


@pytest.mark.parametrize("bad", ["central-2", "a:0", "a:70000", "http://a:1", "a b:1"])
def test_a_bad_failover_endpoint_is_refused(bad):
    with pytest.raises(ValidationError, match="failover"):
        MqttConfig(host="central-1", failover=[bad])


def test_upstream_client_id_is_the_site_unless_set():
    upstream = UpstreamConfig(host="central")
    assert upstream.client_id is None
    assert upstream.for_site("downtown", "rack-2").client_id == "hinge-downtown-rack-2"
    named = UpstreamConfig(host="central", client_id="box-17")
    assert named.for_site("downtown", "rack-2").client_id == "box-17"
    assert MqttConfig().client_id.startswith("hinge-edge-")  # the box's own broker: as before


def test_upstream_needs_a_host_and_a_site(tmp_path):
    with pytest.raises(ValidationError, match="host"):
        UpstreamConfig()
    config = tmp_path / "box.yaml"
    config.write_text("cameras: {p1: {source: clip.mp4}}\nupstream: {host: central}\n")
    with pytest.raises(ConfigError, match=r"set site\.gym and site\.box"):
        load_settings(config)


def test_site_on_payloads_only_when_configured():
    rep = REP
    assert "gym" not in rep.to_dict() and "seq" not in rep.to_dict()  # a single box: as before
    sited = rep.sited("downtown", "rack-2").numbered(7)
    wire = sited.to_dict()
    assert (wire["gym"], wire["box"], wire["seq"]) == ("downtown", "rack-2", 7)
    assert RepEvent.from_json(sited.to_json()) == sited
    status = DaemonStatus("online", "run", "0.1.0", since=None).sited("downtown", "rack-2")
    assert DaemonStatus.from_json(status.to_json()).box == "rack-2"


def test_box_numbers_continue_after_a_restart(tmp_path):
    config = SpoolConfig(path=tmp_path)
    with Spool(config) as spool:
        sequence = BoxSequence(spool)
        assert [sequence.next() for _ in range(3)] == [1, 2, 3]
    with Spool(config) as spool:
        assert BoxSequence(spool).next() == 4


def test_box_numbers_go_on_in_memory_while_the_spool_cannot_be_written(tmp_path, caplog):
    caplog.set_level(logging.INFO, "edge.publish.sequence")
    config = SpoolConfig(path=tmp_path)
    with Spool(config) as spool:
        sequence = BoxSequence(spool)
        sequence.next()
        spool._db.execute("PRAGMA query_only=ON")  # every write now fails, as on a full disk
        assert [sequence.next(), sequence.next()] == [2, 3]
        assert caplog.text.count("event numbers cannot be saved") == 1
        spool._db.execute("PRAGMA query_only=OFF")
        assert sequence.next() == 4
        assert spool.counter(COUNTER) == 4
        assert "event numbers are saved again (last 4)" in caplog.text
