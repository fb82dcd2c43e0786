"""tools/bench_daemon.py's reading of the daemon's /metrics and its verdict on the goal."""

from __future__ import annotations

import pytest

from edge.daemon.metrics import Metrics
from tools import bench_daemon


def _snapshot(cpu_s: dict[str, dict[str, float]]) -> dict:
    status = {"fps_in": 10.0, "fps_analysed": 10.0, "state": "online", "frames_skipped": 0}
    status |= {"reconnects": 0, "stalls": 0}
    cameras = {
        camera: {
            "status": status,
            "counters": {"reps": 1, "sets": 0, "cpu_s": stages, "passes": {}},
        }
        for camera, stages in cpu_s.items()
    }
    mqtt = {"connected": True, "published": 3, "reconnects": 0, "pending": 0}
    mqtt |= {"held_in_memory": 0, "dropped_by_reason": {}}
    return {"cameras": cameras, "mqtt": mqtt}


def test_the_stage_seconds_on_metrics_are_summed_over_the_cameras():
    stages = {"decode": 1.5, "pose": 4.25, "scoring": 0.5, "publish": 0.125}
    snapshot = _snapshot({"a": stages, "b": {k: 2 * v for k, v in stages.items()}})
    text = Metrics(lambda: snapshot).exposition().decode()
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = bench_daemon._CPU_LINE.match(line)
        if match:
            totals[match[2]] = totals.get(match[2], 0.0) + float(match[3])
    assert totals == pytest.approx({k: 3 * v for k, v in stages.items()})


def test_the_pose_passes_give_ms_a_call_and_masks_a_rep_over_the_sample():
    def scrape(calls: int, masks: int, reps: int) -> dict[str, float]:
        snapshot = _snapshot({"a": {}, "b": {}})
        for camera in snapshot["cameras"].values():  # the two cameras' figures add up
            camera["counters"]["reps"] = reps
            camera["counters"]["passes"] = {
                "landmark": {"calls": calls, "seconds": 0.02 * calls},
                "mask": {"calls": masks, "seconds": 0.03 * masks},
            }
        return bench_daemon.sum_metrics(Metrics(lambda: snapshot).exposition().decode())

    before, after = scrape(100, 4, 1), scrape(190, 14, 3)
    assert after["calls:mask"] == 28 and after["seconds:landmark"] == pytest.approx(7.6)
    assert after["reps"] == 6 and after["pose"] == 0.0  # the stages stay as they were
    cost = bench_daemon.pose_cost(before, after)
    assert cost == pytest.approx({"landmark_ms": 20.0, "mask_ms": 30.0, "masks_per_rep": 5.0})
    assert bench_daemon._cost_cell(cost) == "20.0 / 30.0 (5.0)"
    off = bench_daemon.pose_cost(scrape(100, 0, 1), scrape(190, 0, 1))  # back check off, no rep
    assert off == {"landmark_ms": pytest.approx(20.0), "mask_ms": None, "masks_per_rep": None}
    assert bench_daemon._cost_cell(off) == "20.0 / - (-)"
    assert bench_daemon._cost_cell({}) == "- / - (-)"  # a row measured before the figures


def _row(cameras: int, fps_min: float, skipped: float, p99: float, rss: float) -> dict:
    return {
        "cameras": cameras,
        "fps_analysed_mean": 10.0,
        "fps_analysed_min": fps_min,
        "skipped_pct": skipped,
        "latency_p99_ms": p99,
        "rss_mb_max": rss,
        "stage_cores": {"decode": 0.3, "pose": 1.2, "scoring": 0.04, "publish": 0.01},
    }


def test_the_verdict_names_every_target_missed_and_the_costliest_stage():
    assert bench_daemon._verdicts([_row(8, 9.8, 1.0, 150, 400)]) == [
        "- 8 cameras: goal met; most CPU in pose (77% of the stages' 1.55 cores)."
    ]
    (missed,) = bench_daemon._verdicts([_row(8, 6.0, 30.0, 250, 600)])
    assert (
        "not met (10 analysed fps, under 5% skipped, p99 under 200 ms, RSS under 500 MB)" in missed
    )
    assert bench_daemon._verdicts([_row(4, 10, 0, 50, 300)]) == []  # only 8 and 12 are judged
    (uneven,) = bench_daemon._verdicts([_row(12, 7.0, 30.0, 250, 600)])
    assert uneven.startswith("- 12 cameras: skips spread unevenly (slowest camera at 70%")
