"""The main job on a fresh machine: `hinge-edge run` alone renders the demo athlete, starts
a local mosquitto and publishes rep events on it; the back check's live cost is reported."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devkit.broker import Collector, child_env, free_port, port_accepts, skip_reason
from devkit.daemon import wait_for
from edge.synth.demo import DEMO_CLIP_NAME
from tests.daemon.harness import Contract
from tests.daemon.test_contract import metric_values


def hinge_edge_command() -> list[str]:
    """The installed `hinge-edge` script beside this Python (else `python -m edge`)."""
    script = Path(sys.executable).with_name("hinge-edge")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "edge"]


def get_json(port: int, path: str) -> dict:
    """GET a JSON route of the daemon."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
        return json.loads(response.read())


def admin_get(port: int, log: str, *paths: str) -> list[bytes]:
    """Admin routes' bodies, signed in with the admin password the first start printed (once)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    shown = [line for line in log.splitlines() if "created with password" in line]
    assert len(shown) == 1, log
    password = shown[0].split("with password ", 1)[1].split()[0]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form = urllib.parse.urlencode({"user": "admin", "password": password}).encode()
    opener.open(f"http://127.0.0.1:{port}/login", data=form, timeout=5).close()
    bodies = []
    for path in paths:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            bodies.append(response.read())
    return bodies


def masked_status(message) -> bool:
    """A camera status of the demo that counts masked frames (the back check ran)."""
    if message.topic != "hinge/demo/status":
        return False
    pose = json.loads(message.payload).get("pose")
    return pose is not None and pose["mask_calls"] > 0 and pose["mask_calls_per_rep"] is not None


def assert_mask_cost(metrics: dict[str, dict[tuple, float]], status: dict) -> str:
    """The back check's live cost is there and sane, on /metrics and the camera's status."""
    calls, seconds = (
        metrics["hinge_pose_calls_total"],
        metrics["hinge_pose_inference_seconds_total"],
    )
    n = {p: calls[(("camera", "demo"), ("pass", p))] for p in ("landmark", "mask")}
    ms = {p: 1e3 * seconds[(("camera", "demo"), ("pass", p))] / n[p] for p in n}
    reps = metrics["hinge_reps_total"][(("camera", "demo"),)]
    # the mask model runs on a few frames a rep, in place of the landmark pass
    assert reps >= 1 and 0 < n["mask"] < n["landmark"], (n, reps)
    assert all(1.0 < v < 2000.0 for v in ms.values()), ms  # ms a call of a 256x256 crop
    pose = status["pose"]
    assert 0 < pose["mask_calls"] <= n["mask"] and 0 < pose["landmark_calls"] <= n["landmark"]
    assert 1.0 < pose["mask_ms"] < 2000.0 and 1.0 < pose["landmark_ms"] < 2000.0
    assert 0 < pose["mask_calls_per_rep"] <= pose["mask_calls"]
    return (
        f"mask {n['mask']:.0f} calls, {ms['mask']:.1f} ms a call against the landmark pass's "
        f"{ms['landmark']:.1f} ({n['landmark']:.0f} calls), {n['mask'] / reps:.1f} a rep"
    )


def web_answers(proc: subprocess.Popen, port: int) -> bool:
    """True once /healthz answers; fails if the daemon exited."""
    assert proc.poll() is None, f"hinge-edge run exited with {proc.returncode}"
    try:
        get_json(port, "/healthz")
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.model  # the demo's own pose stage, end to end
@pytest.mark.server  # a local mosquitto, the daemon as a process
def test_run_without_config_renders_the_demo_and_starts_a_broker(tmp_path: Path):
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    cache, mqtt_port, web_port = tmp_path / "cache", free_port(), free_port()
    env = child_env() | {
        "XDG_CACHE_HOME": str(cache),
        "HINGE_EDGE_MQTT__PORT": str(mqtt_port),
        "HINGE_EDGE_WEB__PORT": str(web_port),
        "HINGE_EDGE_WEB__HOST": "127.0.0.1",
        "HINGE_EDGE_STATS_INTERVAL_S": "1",  # the camera's status (with its pose cost) each s
    }
    log = (tmp_path / "run.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen([*hinge_edge_command(), "run"], env=env, cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)  # fmt: skip
    sub = None
    try:
        wait_for(lambda: web_answers(proc, web_port), 240.0, "the demo daemon's web side")
        ready_s = time.monotonic() - started
        assert port_accepts(mqtt_port), "no local broker"
        sub = Collector(mqtt_port, "hinge/#", qos=1).wait_subscribed()
        rep = json.loads(sub.wait_for(lambda m: m.topic == "hinge/demo/rep", 30.0).payload)
        assert rep["exercise"] == "rdl" and rep["camera"] == "demo"
        assert get_json(web_port, "/healthz") == {"status": "ok"}  # nothing private
        status = json.loads(sub.wait_for(masked_status, 15.0).payload)
        health, text = admin_get(web_port, (tmp_path / "run.log").read_text(), "/api/health",
                                 "/metrics")  # fmt: skip
        health = json.loads(health)
        assert health["mqtt"] == "connected" and health["cameras"] == {"demo": "online"}
        mask_cost = assert_mask_cost(metric_values(text.decode()), status)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        sub.collect(lambda: any(b'"stopped"' in m.payload for m in sub.messages), 5.0)
    finally:
        if sub is not None:
            sub.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    total_s = time.monotonic() - started
    print(f"demo: rendered and serving in {ready_s:.0f} s, whole test {total_s:.0f} s; {mask_cost}")
    assert (cache / "hinge-edge" / DEMO_CLIP_NAME).is_file()
    assert (cache / "hinge-edge" / "spool").is_dir()
    assert not port_accepts(mqtt_port), "the local broker outlived the daemon"
    text = (tmp_path / "run.log").read_text()
    assert "started a local MQTT broker (mosquitto)" in text and "Traceback" not in text
    Contract().check(sub.messages)

    # The clip is cached now: a bad override is reported at once, naming its variable.
    bad = subprocess.run(
        [*hinge_edge_command(), "run"],
        env=env | {"HINGE_EDGE_MQTT__PORT": "abc"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
    assert "the embedded default" in bad.stderr and "HINGE_EDGE_MQTT__PORT" in bad.stderr
    shutil.rmtree(cache, ignore_errors=True)
