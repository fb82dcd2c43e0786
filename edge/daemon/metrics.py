"""Prometheus metrics of the daemon, read from its live counters at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

Snapshot = Callable[[], dict[str, Any]]


class _DaemonCollector(Collector):
    """Turns `Daemon.snapshot()` into metric families."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot()
        gauges = {
            "fps_in": GaugeMetricFamily(
                "hinge_camera_fps_in", "Frames per second the camera delivers", labels=["camera"]
            ),
            "fps_analysed": GaugeMetricFamily(
                "hinge_camera_fps_analysed", "Frames per second analysed", labels=["camera"]
            ),
            "up": GaugeMetricFamily(
                "hinge_camera_up", "1 while the camera delivers frames", labels=["camera"]
            ),
        }
        counters = {
            "frames_skipped": CounterMetricFamily(
                "hinge_camera_frames_skipped",
                "Analysis slots missed because the box fell behind",
                labels=["camera"],
            ),
            "reconnects": CounterMetricFamily(
                "hinge_camera_reconnects", "Stream reopenings", labels=["camera"]
            ),
            "stalls": CounterMetricFamily(
                "hinge_camera_stalls", "Times the stream stopped delivering", labels=["camera"]
            ),
            "reps": CounterMetricFamily("hinge_reps", "Reps counted", labels=["camera"]),
            "sets": CounterMetricFamily("hinge_sets", "Sets ended", labels=["camera"]),
        }
        cpu = CounterMetricFamily(
            "hinge_stage_cpu_seconds",
            "CPU seconds per camera and stage: decode (the reader thread: read, decode, "
            "convert), pose, scoring, publish (the analysis worker's)",
            labels=["camera", "stage"],
        )
        calls = CounterMetricFamily(
            "hinge_pose_calls",
            "Frames a pose model pass ran on, per camera and pass: landmark (the default) or "
            "mask (the back check's model, in place of the landmark pass on chosen frames)",
            labels=["camera", "pass"],
        )
        inference = CounterMetricFamily(
            "hinge_pose_inference_seconds",
            "Inference seconds (wall clock) of those passes: over hinge_pose_calls, the time "
            "of one call",
            labels=["camera", "pass"],
        )
        for camera, info in snap["cameras"].items():
            status = info["status"]
            gauges["fps_in"].add_metric([camera], status["fps_in"])
            gauges["fps_analysed"].add_metric([camera], status["fps_analysed"])
            gauges["up"].add_metric([camera], 1.0 if status["state"] == "online" else 0.0)
            for key in ("frames_skipped", "reconnects", "stalls"):
                counters[key].add_metric([camera], status[key])
            counters["reps"].add_metric([camera], info["counters"]["reps"])
            counters["sets"].add_metric([camera], info["counters"]["sets"])
            for stage, seconds in info["counters"]["cpu_s"].items():
                cpu.add_metric([camera, stage], seconds)
            for name, count in info["counters"]["passes"].items():
                calls.add_metric([camera, name], count["calls"])
                inference.add_metric([camera, name], count["seconds"])
        yield from gauges.values()
        yield from counters.values()
        yield from (cpu, calls, inference)
        yield from _mqtt_metrics(snap["mqtt"])
        if "upstream" in snap:  # a box that forwards to a gym's or chain's central broker
            yield from _mqtt_metrics(
                snap["upstream"], "hinge_upstream", "hinge_upstream_spool", "central "
            )


def _mqtt_metrics(
    mqtt: dict[str, Any], link: str = "hinge_mqtt", spool: str = "hinge_spool", to: str = ""
) -> Iterator[Metric]:
    """A publisher's link and spool figures (the upstream one's with its own names)."""
    broker = f"the {to}broker"
    yield GaugeMetricFamily(
        f"{link}_connected", f"1 while connected to {broker}", value=float(mqtt["connected"])
    )
    yield CounterMetricFamily(
        f"{link}_published", f"Events acknowledged by {broker}", value=mqtt["published"]
    )
    yield CounterMetricFamily(
        f"{link}_reconnects", "Connections after the first", value=mqtt["reconnects"]
    )
    yield GaugeMetricFamily(
        f"{spool}_pending", f"Events waiting in the spool for {broker}", value=mqtt["pending"]
    )
    yield GaugeMetricFamily(
        f"{spool}_held_in_memory",
        "Events held in memory because the spool cannot be written",
        value=mqtt["held_in_memory"],
    )
    dropped = CounterMetricFamily(
        f"{spool}_dropped",
        "Events lost: full (the spool's when_full policy), unwritable (spool failing and the "
        "memory queue full, or held at stop), unsendable (MQTT cannot carry it)",
        labels=["reason"],
    )
    for reason, count in mqtt["dropped_by_reason"].items():
        dropped.add_metric([reason], count)
    yield dropped


class Metrics:
    """A registry with the daemon's figures and the process's CPU, memory and threads."""

    def __init__(self, snapshot: Snapshot) -> None:
        """Registers the collectors; `snapshot` is called at every scrape."""
        self.registry = CollectorRegistry()
        self.registry.register(_DaemonCollector(snapshot))
        ProcessCollector(registry=self.registry)

    def exposition(self) -> bytes:
        """The text format for /metrics."""
        return generate_latest(self.registry)
