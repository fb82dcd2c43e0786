"""The hub worker's figures for Prometheus.

Served on the dashboard's `/metrics`, to an admin or a scrape token as on a box:

    hinge_hub_events_total{outcome}   inserted, duplicate, applied, stale, malformed
    hinge_hub_received_total          messages written and acknowledged
    hinge_hub_batches_total           transactions
    hinge_hub_db_retries_total        batches retried while PostgreSQL was away
    hinge_hub_reconnects_total        moves to another broker node
    hinge_hub_connected               1 while connected and subscribed
    hinge_hub_queued                  messages received, not yet written
    hinge_hub_lag_max_seconds         the longest a message waited to be written

An ingest-only worker (`--no-web`) serves no page and so no metrics; its figures are in its
log every `hub.stats_interval_s`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

OUTCOMES = ("inserted", "duplicate", "applied", "stale", "malformed")


class _HubCollector:
    def __init__(self, figures: Callable[[], dict[str, Any]]) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self._figures()
        events = CounterMetricFamily(
            "hinge_hub_events", "Messages written, by what they did", labels=["outcome"]
        )
        for outcome in OUTCOMES:
            events.add_metric([outcome], f[outcome])
        yield events
        for key, text in (
            ("received", "Messages written and acknowledged"),
            ("batches", "Transactions"),
            ("db_retries", "Batches retried while PostgreSQL was away"),
            ("reconnects", "Moves to another broker node"),
        ):
            yield CounterMetricFamily(f"hinge_hub_{key}", text, value=f[key])
        connected = float(bool(f["connected"] and f["subscribed"]))
        yield GaugeMetricFamily(
            "hinge_hub_connected", "1 while connected and subscribed", value=connected
        )
        yield GaugeMetricFamily(
            "hinge_hub_queued", "Messages received, not yet written", value=f["queued"]
        )
        yield GaugeMetricFamily(
            "hinge_hub_lag_max_seconds",
            "The longest a message waited between arrival and its commit",
            value=f["lag_max_ms"] / 1000,
        )


class HubMetrics:
    """A registry over a worker's `figures()` and the process's CPU, memory and threads."""

    def __init__(self, figures: Callable[[], dict[str, Any]]) -> None:
        """`figures`: `HubWorker.figures`, called at every scrape."""
        self.registry = CollectorRegistry()
        self.registry.register(_HubCollector(figures))
        ProcessCollector(registry=self.registry)

    def metrics(self) -> bytes:
        """The text format for /metrics (the daemon's route calls its backend's `metrics`)."""
        return generate_latest(self.registry)
