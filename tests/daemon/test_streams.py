"""Live streams that fail: one camera's stream killed (RTSP) or frozen (MJPEG) while a file
camera goes on counting; each failing camera is reported, then back online on its return.

The streams come from local servers (tests/servers/streams.py) serving the swing clip:
gst-rtsp-server under the system Python, and `ffmpeg -listen 1` for MJPEG.
"""

from __future__ import annotations

import json
import time

import pytest

from devkit.broker import Collector
from devkit.daemon import wait_for
from tests.daemon.harness import Contract, camera, payloads, rep_ids, swing_camera
from tests.servers.streams import missing_ffmpeg, missing_rtsp, mjpeg_server, rtsp_server

FILE = "swing"


def statuses(sub: Collector, camera_id: str) -> list[dict]:
    """Every `hinge/<camera>/status` received so far, oldest first."""
    return payloads(sub.messages, f"hinge/{camera_id}/status")


def wait_state(sub: Collector, camera_id: str, states: set[str], timeout_s: float) -> dict:
    """Waits for a status of `camera_id` in `states`; returns it."""
    topic = f"hinge/{camera_id}/status"
    msg = sub.wait_for(
        lambda m: m.topic == topic and json.loads(m.payload)["state"] in states, timeout_s
    )
    return json.loads(msg.payload)


def stream_camera(url: str) -> dict:
    """A live camera analysed slowly: this test is about its status, not its reps."""
    return camera(url, analysis_fps=2.0, exercise="swing")


@pytest.mark.parametrize("kind", ["rtsp", "mjpeg"])
def test_stream_lost_and_back_while_another_camera_counts(
    kind, swing_clip, mosquitto_factory, daemons, subscribers
):
    if (reason := missing_rtsp() if kind == "rtsp" else missing_ffmpeg()) is not None:
        pytest.skip(reason)
    serve = rtsp_server if kind == "rtsp" else mjpeg_server
    broker = mosquitto_factory()
    sub = subscribers(broker.port, "hinge/+/+")
    with serve(swing_clip.path) as stream:
        cameras = {FILE: swing_camera(swing_clip.path), kind: stream_camera(stream.url)}
        daemon = daemons(cameras, broker.port).start()
        wait_state(sub, kind, {"online"}, 15.0)
        sub.wait_for(lambda m: m.topic == f"hinge/{FILE}/rep", 15.0)

        # The RTSP camera dies (connections drop); the MJPEG one hangs (SIGSTOP).
        stream.kill() if kind == "rtsp" else stream.freeze()
        lost = wait_state(sub, kind, {"stalled", "offline"}, 10.0)
        reps_at_loss = len(rep_ids(sub.messages, FILE))
        lost_at = time.monotonic()
        sub.collect(lambda: len(rep_ids(sub.messages, FILE)) >= reps_at_loss + 2, 10.0)
        assert daemon.health()["cameras"][kind] != "online"

        stream.restart() if kind == "rtsp" else stream.thaw()
        back = wait_state(sub, kind, {"online"}, 20.0)
        outage_s = time.monotonic() - lost_at
        during = len(rep_ids(sub.messages, FILE)) - reps_at_loss
        assert daemon.terminate() == 0, daemon.log()

    seen = [s["state"] for s in statuses(sub, kind)]
    print(f"{kind}: states {seen}; {during} reps on {FILE} in {outage_s:.1f} s of outage")
    assert during >= 2, f"the file camera stalled with the {kind} one: {during} reps"
    assert {s["state"] for s in statuses(sub, FILE)} <= {"connecting", "online", "stopped"}
    assert lost["last_error"], lost  # says why, in words
    assert "offline" in seen or "stalled" in seen
    assert back["reconnects"] >= 1
    if lost["state"] == "stalled":
        assert back["stalls"] >= 1
    wait_for(lambda: not daemon.running, 1.0, "the daemon exited")
    Contract().check(sub.messages)
