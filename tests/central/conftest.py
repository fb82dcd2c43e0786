"""Fixtures for the central cluster's tests: one TLS cluster with users, shared by the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.cluster import NatsCluster, skip_reason

BOXES = [("gym-1", "box-a"), ("gym-1", "box-b")]


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """Three nodes on loopback, TLS on MQTT, a box account per BOXES entry and `hub`."""
    if reason := skip_reason():
        pytest.skip(reason)
    with NatsCluster(tmp_path_factory.mktemp("nats"), boxes=BOXES, tls=True) as cluster:
        yield cluster
