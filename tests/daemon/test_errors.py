"""What an operator gets wrong: a bad config, wrong broker credentials, a camera that cannot
be read. Each gives a clear message; nothing crashes or restarts in a loop."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from devkit.broker import BrokerAuth, child_env
from devkit.daemon import wait_for
from tests.daemon.harness import Contract, camera, rep_ids, swing_camera

PASSWORD = "right-pw-4711"
WRONG = "wrong-pw-0815"


def edge_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m edge ARGS` to completion (it must not start anything long)."""
    return subprocess.run(
        [sys.executable, "-m", "edge", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env() | (env or {}),
    )


def test_bad_config_is_refused_with_key_paths(tmp_path: Path, swing_clip):
    config = tmp_path / "bad.yaml"
    config.write_text(
        "mqtt:\n  port: 70000\n  pasword: x\n"
        f"cameras:\n  platform-1:\n    source: {swing_clip.path}\n    analysis_fps: fast\n"
    )
    env = {"HINGE_EDGE_MQTT__KEEPALIVE_S": "often"}
    checked = edge_cli("check-config", str(config), env=env)
    run = edge_cli("run", "--config", str(config), env=env)
    for done in (checked, run):
        assert done.returncode != 0
        assert "Traceback" not in done.stderr, done.stderr
        for expected in (
            "mqtt.port: Input should be less than or equal to 65535 (got 70000; line 2)",
            "mqtt.pasword: unknown key; did you mean 'password'?",
            "cameras.platform-1.analysis_fps: Input should be a valid number",
            "mqtt.keepalive_s:",
            "HINGE_EDGE_MQTT__KEEPALIVE_S",
        ):
            assert expected in done.stderr, done.stderr
    assert "not starting" in run.stderr
    assert not (tmp_path / "spool").exists()  # refused before anything was made


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path):
    config = tmp_path / "broken.yaml"
    config.write_text("mqtt:\n  host: a: b\n")
    run = edge_cli("run", "--config", str(config))
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert f"{config}:2:" in run.stderr and "YAML syntax error" in run.stderr, run.stderr


def test_wrong_credentials_are_reported_not_fatal(swing_clip, mosquitto_factory, daemons):
    broker = mosquitto_factory(auth=BrokerAuth(users={"edge": PASSWORD}))
    mqtt = {"username": "edge", "password": WRONG}
    cameras = {"swing": swing_camera(swing_clip.path, analysis_fps=2.0)}
    daemon = daemons(cameras, broker.port, mqtt=mqtt).start()
    wait_for(lambda: daemon.health()["mqtt"].startswith("refused:"), 10.0, "refused", daemon.log)
    time.sleep(3.0)  # several reconnect attempts (backoff 0.2 .. 1 s)
    status, kind, body = daemon.get("/healthz")
    assert (status, kind, json.loads(body)) == (200, "application/json", {"status": "degraded"})
    health = daemon.health()
    assert health["mqtt"] == "refused:not authorized" and health["status"] == "degraded"
    assert daemon.running and daemon.starts == 1
    log = daemon.log()
    assert log.count("refused the connection") == 1, log  # once, not once per retry
    assert "mqtt.username / mqtt.password" in log
    assert broker.log().count("not authorised") >= 2  # it kept trying, without exiting
    assert WRONG not in log and PASSWORD not in log


def test_unreadable_sources_go_offline_others_count_on(
    tmp_path: Path, swing_clip, mosquitto_factory, daemons, subscribers
):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video\n" * 100)
    bad = {
        "garbage": camera(garbage, analysis_fps=2.0),
        "missing": camera(tmp_path / "missing.mp4", analysis_fps=2.0),
        "nobody": camera("rtsp://edge:cam-secret@127.0.0.1:9/stream1", analysis_fps=2.0),
    }
    broker = mosquitto_factory()
    sub = subscribers(broker.port, "hinge/+/+")
    daemon = daemons({"swing": swing_camera(swing_clip.path), **bad}, broker.port).start()
    sub.collect(lambda: len(rep_ids(sub.messages, "swing")) >= 2, 20.0)
    assert len(rep_ids(sub.messages, "swing")) >= 2

    status = daemon.state()["cameras"]
    health = daemon.health()
    assert daemon.terminate() == 0, daemon.log()
    for camera_id in bad:
        assert health["cameras"][camera_id] == "offline", health
        error = status[camera_id]["status"]["last_error"]
        assert error and "Traceback" not in error, (camera_id, error)
    print({c: status[c]["status"]["last_error"] for c in bad})
    assert health["cameras"]["swing"] == "online"
    assert str(garbage) in status["garbage"]["status"]["last_error"]
    assert "missing.mp4" in status["missing"]["status"]["last_error"]
    assert "cam-secret" not in daemon.log() and "cam-secret" not in json.dumps(status)
    Contract().check(sub.messages)


def test_second_daemon_on_a_spool_or_a_taken_port_exits_clearly(
    swing_clip, mosquitto_factory, daemons
):
    broker = mosquitto_factory()
    cameras = {"swing": swing_camera(swing_clip.path, analysis_fps=2.0)}
    first = daemons(cameras, broker.port).start()
    same_spool = edge_cli("run", "--config", str(first.config_path))
    other = daemons(cameras, broker.port, name="other", web={"port": first.web_port})
    same_port = edge_cli("run", "--config", str(other.config_path))
    assert first.running
    for done, words in (
        (same_spool, str(first.spool_file)),
        (same_port, "(Address already in use): set web.port to a free port"),
    ):
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert words in done.stderr, done.stderr
