"""The secret sweep (issue 15): everything the running daemon shows, searched for secrets.

The real daemon (`--log-level debug`, pose replayed from the swing clip) runs behind the
broker configuration the project ships (make-passwd.sh accounts, ACL, no anonymous), with
the MQTT password given in the YAML or through `HINGE_EDGE_MQTT__PASSWORD`. Its cameras
are tests/test_redact.py's sources (secrets in the userinfo, the query and the path; they
fail to open), the swing clip served as MJPEG under a URL holding those secrets too (it
works: frames, state and reps flow under it), and one file camera that counts swings.
Collected: every line the daemon wrote (stderr and stdout, OpenCV's and FFmpeg's own
included), `check-config` on the config and on a broken variant, `run` on the broken
variant, every MQTT message under the prefix as a display account gets it, `/api/state`,
`/api/health`, `/metrics` (as admin and with a scrape token) and seconds of `/api/events`
over HTTP, and the spool's files. No secret may be in any of it (nor the MQTT password,
the admin's or the scrape token), and the masked forms must be (so the sweep saw the data).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devkit.broker import Collector, child_env, free_port
from devkit.daemon import DaemonProcess
from tests.daemon.harness import camera, payloads, rep_ids, swing_camera
from tests.deploy.broker import DAEMON_USER, SHIPPED, adapt_config, make_accounts, running_broker
from tests.servers.streams import MjpegServer, missing_ffmpeg, mjpeg_server
from tests.test_redact import MASKED, PATH_SEGMENT, SECRETS, SOURCES, TOKEN, USERINFO

pytestmark = pytest.mark.usefixtures("clean_env")  # no machine's HINGE_EDGE_* leaks in

DISPLAY = "display-1"
EVENTS_S = 3.0


def edge_cli(*args: str) -> str:
    """stdout and stderr of `python -m edge ARGS` (this process's environment)."""
    done = subprocess.run(
        [sys.executable, "-m", "edge", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
    )
    return done.stdout + done.stderr


def read_events(daemon: DaemonProcess, seconds: float) -> str:
    """`seconds` of /api/events as the admin's browser gets them (raw HTTP, its cookie)."""
    cookie = "; ".join(f"{c.name}={c.value}" for c in daemon.cookies)
    request = (
        f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{daemon.web_port}\r\n"
        f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    )
    received = bytearray()
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", daemon.web_port), timeout=5) as sock:
        sock.sendall(request.encode())
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
    return received.decode(errors="replace")


def scrape(daemon: DaemonProcess, token: str) -> str:
    """/metrics with a scrape token, as Prometheus asks."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{daemon.web_port}/metrics",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def live_source(url: str) -> tuple[str, str]:
    """The MJPEG server's URL with secrets in its userinfo, path and query; and masked."""
    head, path = url.split("//", 1)[1].split("/", 1)
    secret = f"http://admin:{USERINFO}@{head}/password/{PATH_SEGMENT}/{path}?token={TOKEN}"
    return secret, f"http://admin:***@{head}/password/***/{path}?token=***"


def broken_config(config: Path) -> Path:
    """The config with three mistakes: a looped stream, an unknown key, no mqtt user name."""
    data = json.loads(config.read_text())
    data["cameras"]["all"] |= {"loop": True, "typo_key": 1}
    del data["mqtt"]["username"]
    broken = config.with_name("broken.yaml")
    broken.write_text(json.dumps(data, indent=1))
    return broken


def collect(daemon: DaemonProcess, display: Collector, served: MjpegServer) -> dict[str, str]:
    """Runs the daemon until the failing cameras are offline and `swing` and `live` counted
    a rep, then takes `live`'s server away until it is offline too; returns what the web
    port shows then. The MQTT messages up to the daemon's goodbye stay in `display`."""
    scrape_token = daemon.users.new_scrape_token()
    daemon.start()

    def offline() -> set[str]:
        return {
            p["camera"]
            for p in payloads(display.messages, "/status")
            if p.get("state") == "offline"
        }

    def counted() -> bool:
        return bool(rep_ids(display.messages, "swing") and rep_ids(display.messages, "live"))

    display.collect(lambda: offline() >= set(SOURCES) and counted(), 20.0)
    assert offline() >= set(SOURCES) and counted(), daemon.log()
    served.kill()  # the working stream drops: its errors name its source too
    display.collect(lambda: "live" in offline(), 10.0)
    assert "live" in offline(), daemon.log()
    assert daemon.login() == 200
    web = {
        "/api/state": daemon.get("/api/state")[2],
        "/api/health": daemon.get("/api/health")[2],
        "/metrics": daemon.get("/metrics")[2],
        "/metrics (scrape token)": scrape(daemon, scrape_token),
        "/api/events": read_events(daemon, EVENTS_S),
        "scrape token": scrape_token,  # a secret too: searched for, then left out
    }
    assert daemon.terminate() == 0, daemon.log()
    display.collect(lambda: False, 0.5)  # the goodbye: cameras stopped
    return web


@pytest.mark.skipif(missing_ffmpeg() is not None, reason=str(missing_ffmpeg()))
@pytest.mark.parametrize("password_in", ["yaml", "env"])
def test_no_secret_anywhere(
    password_in: str, tmp_path: Path, swing_clip, daemons, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker_dir = tmp_path / "broker"
    accounts = make_accounts(broker_dir, [DISPLAY])
    password = accounts[DAEMON_USER]
    port = free_port()
    mqtt = {"username": DAEMON_USER}
    if password_in == "yaml":
        mqtt["password"] = password
    else:
        monkeypatch.setenv("HINGE_EDGE_MQTT__PASSWORD", password)  # the daemon inherits it
    failing = {
        form: camera(url, open_timeout_s=1.0, analysis_fps=2.0) for form, url in SOURCES.items()
    }
    shipped = (SHIPPED / "mosquitto.conf").read_text()
    with (
        running_broker(adapt_config(shipped, broker_dir, port), broker_dir, [port]),
        mjpeg_server(swing_clip.path) as served,
    ):
        live, live_masked = live_source(served.url)
        cameras = {
            "swing": swing_camera(swing_clip.path),
            "live": camera(live, exercise="swing", analysis_fps=10.0),
            **failing,
        }
        daemon = daemons(cameras, port, mqtt=mqtt, log={"level": "debug"})
        daemon.options = ["--log-level", "debug"]  # OpenCV's and FFmpeg's own lines too
        display = Collector(port, "hinge/#", client_id=DISPLAY, auth=(DISPLAY, accounts[DISPLAY]))
        try:
            display.wait_subscribed()
            web = collect(daemon, display, served)
        finally:
            display.close()
    scrape_token = web.pop("scrape token")
    broken = broken_config(daemon.config_path)
    shown = {
        "daemon log": daemon.log(),
        "check-config": edge_cli("check-config", str(daemon.config_path)),
        "check-config (broken)": edge_cli("check-config", str(broken)),
        "run (broken)": edge_cli("--log-level", "debug", "run", "--config", str(broken)),
        **{f"mqtt #{i} {m.topic}": m.payload.decode() for i, m in enumerate(display.messages)},
        **web,
    }
    spool = {f"spool {p.name}": p.read_bytes() for p in (daemon.workdir / "spool").iterdir()}

    secrets = (*SECRETS, password, daemon.admin_password, scrape_token)
    leaks = [(where, s) for where, text in shown.items() for s in secrets if s in text]
    leaks += [(where, s) for where, data in spool.items() for s in secrets if s.encode() in data]
    assert not leaks, leaks
    # ... and the sweep saw what it searched: the masked sources, the data, the refusals.
    log, events = shown["daemon log"], web["/api/events"]
    statuses = "\n".join(text for where, text in shown.items() if where.endswith("/status"))
    assert f"live: online ({live_masked})" in log, log[-3000:]
    for form, masked in [*MASKED.items(), ("live", live_masked)]:
        assert f"{form}: offline ({masked})" in log, log[-3000:]
        assert f"  {form}: {masked} (" in shown["check-config"]
        # a camera's status names its source in its last error
        assert masked in statuses and masked in web["/api/state"] and masked in events
    assert "DEBUG" in log
    assert f"user {DAEMON_USER} with password" in shown["check-config"]
    if password_in == "env":
        assert "environment overrides: HINGE_EDGE_MQTT__PASSWORD" in shown["check-config"]
    for where in ("check-config (broken)", "run (broken)"):
        assert "invalid configuration" in shown[where]
        assert "password is set but username is not" in shown[where], shown[where]
        assert "cameras.all.typo_key: unknown key" in shown[where], shown[where]
    assert '"mqtt":"connected"' in web["/api/health"].replace(" ", "")
    assert 'hinge_camera_up{camera="swing"} 1.0' in web["/metrics (scrape token)"]
    assert 'hinge_camera_up{camera="all"} 0.0' in web["/metrics"]
    assert "event: snapshot" in events and "event: status" in events
    assert any(spool.values())
