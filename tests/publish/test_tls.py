"""TLS to a real mosquitto: a trusted CA connects; an unknown CA is reported, not fatal."""

import shutil

import pytest

from devkit.broker import make_tls_files
from edge.publish import Spool, SpoolConfig, TlsConfig
from tests.publish.helpers import make_publisher, publish_events, wait_until

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None,
    reason="`openssl` is absent: install the Debian package openssl",
)


@pytest.fixture
def tls_broker(mosquitto_factory, tmp_path):
    files = make_tls_files(tmp_path / "tls")
    return mosquitto_factory(tls=files), files


def test_trusted_ca_connects_and_delivers(tls_broker, tmp_path):
    broker, files = tls_broker
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(broker.port, spool, tls=TlsConfig(enabled=True, ca_file=files.ca))
    publish_events(publisher, ["t1", "t2"])
    wait_until(lambda: spool.count() == 0, what="delivered over TLS")
    assert publisher.connection_state == "connected"
    assert publisher.stop(5)


def test_unknown_ca_is_reported_and_events_kept(tls_broker, tmp_path):
    broker, _ = tls_broker
    other = make_tls_files(tmp_path / "other")  # a CA that did not sign the broker
    spool = Spool(SpoolConfig(path=tmp_path / "spool"))
    publisher = make_publisher(broker.port, spool, tls=TlsConfig(enabled=True, ca_file=other.ca))
    publish_events(publisher, ["t1"])
    wait_until(lambda: publisher.connection_state.startswith("unreachable:"))
    assert "TLS certificate not accepted" in publisher.connection_state
    assert spool.count() == 1
    assert publisher.stop(1)
