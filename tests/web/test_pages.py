"""The display and the dashboard, in headless Chromium, follow the real daemon live.

The daemon runs as a process on a rendered clip (three swings, knees forward; its pose
stage replays the clip's true landmarks) with a real mosquitto; `platform-1` plays the
file once with pictures on, `platform-2` is an MJPEG camera (ffmpeg) with pictures off
that the test kills. Assertions are on what a person sees (`innerText` of shown elements,
pictures that loaded), checked against the rep events an MQTT subscriber received from
the same run.
"""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest

from devkit.broker import Collector, payload_json
from devkit.browser import poll
from edge.report.draw import HIGHLIGHT_BGR
from tests.servers.streams import missing_ffmpeg, mjpeg_server
from tests.web.conftest import CLIP_SPEC, STRICT_SWING

REPS = CLIP_SPEC.reps
LIVE_S = 30.0  # the clip lasts 7 s; room for a slow shared CI box


def _js(selector: str) -> str:
    return json.dumps(selector)


def tile_text(page, camera: str, cls: str) -> str | None:
    return page.text(f"article.tile[data-camera={_js(camera)}] .{cls}")


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def assert_metrics_shown(row: list[str], rep: dict) -> None:
    """A history row (set.rep, time, score, depth, knee, hip, tempo, ...) shows the event's."""
    m = rep["metrics"]
    assert row[0] == f"1.{rep['rep']}", row
    shown = [numbers(cell) for cell in row[2:7]]
    wanted = [
        [rep["score"]],
        [m["depth_norm"] * 100],
        [m["min_knee_deg"]],
        [m["min_hip_deg"]],
        [m["eccentric_s"], m["pause_s"], m["concentric_s"]],
    ]
    assert row[3].endswith("%") and row[4].endswith("°"), row
    for got, want, unit in zip(shown, wanted, [1, 1, 1, 1, 0.1], strict=True):
        assert got == pytest.approx(want, abs=unit / 2 + 1e-6), (row, want)


def watch_count(display) -> list[str]:
    """The rep counts the display showed, in order, until it shows all the clip's reps."""
    seen: list[str] = []

    def probe() -> bool:
        value = display.text("#reps")
        if not seen or seen[-1] != value:
            seen.append(value)
        return value == str(REPS)

    poll(probe, LIVE_S, 0.1, "the display showing every rep")
    return seen


@pytest.fixture
def mjpeg_camera(swing_clip):
    if (reason := missing_ffmpeg()) is not None:
        pytest.skip(reason)
    with mjpeg_server(swing_clip[0]) as camera:
        yield camera


def test_display_and_dashboard_follow_the_daemon(
    swing_clip, mjpeg_camera, daemon_factory, browser, mosquitto
):
    clip, _ = swing_clip
    quick = {"open_timeout_s": 1, "read_timeout_s": 1, "stall_timeout_s": 1}
    daemon = daemon_factory(
        {
            "platform-1": {"source": str(clip), "exercise": "swing", "images": True},
            "platform-2": {"source": mjpeg_camera.url, "exercise": "swing", **quick},
        },
        {"hinge": {"faults": {"hip_knee_ratio": STRICT_SWING}}},
    )
    events = Collector(mosquitto.port, "hinge/+/rep").wait_subscribed()
    try:
        daemon.start()
        display = browser.page(daemon.display_link("platform-1"), 1280, 720)
        dashboard = daemon.sign_in(browser, "/", 1280, 900)

        # The display counts the reps as they happen (not from a reload: one snapshot only).
        seen = watch_count(display)
        assert seen[-1] == str(REPS) and len(seen) >= 2, seen
        assert [int(n) for n in seen if n.isdigit()] == sorted(int(n) for n in seen if n.isdigit())
        assert display.evaluate("hingeLive.connects") == 1

        # Score and cue are those of the last rep event integrators got over MQTT.
        reps = events.collect(
            lambda: sum(m.topic == "hinge/platform-1/rep" for m in events.messages) >= REPS, 10
        )
        last = [payload_json(m) for m in reps if m.topic == "hinge/platform-1/rep"][-1]
        assert last["rep"] == REPS
        display.wait_for(f"document.querySelector('#cue').innerText === {_js(last['cue'])}")
        assert display.text("#score") == f"{last['score']:.0f}"
        assert last["cue"] and last["faults"]  # the clip's knees-forward fault

        # The still of the last rep: shown on the display, a PNG with the faulty segment red.
        width = display.wait_for(
            "(() => { const i = document.querySelector('#still');"
            " return i.offsetParent !== null && i.complete && i.naturalWidth; })()"
        )
        assert width == 320
        assert "Pictures are on" in display.text("#privacy")
        status, png, headers = daemon.fetch("/api/still/platform-1")
        assert status == 200 and headers["Content-Type"] == "image/png"
        still = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert still.shape == (180, 320, 3)
        assert np.all(still == HIGHLIGHT_BGR, axis=2).sum() > 20  # the thighs and shins

        # Pictures off: nothing served, nothing shown, and the page says so.
        assert daemon.fetch("/api/still/platform-2")[0] == 404
        assert tile_text(dashboard, "platform-2", "images") == "Pictures off for this camera"
        assert dashboard.evaluate(
            "document.querySelector('article.tile[data-camera=\"platform-2\"] img').hidden"
        )

        # The dashboard: the tile, the rep history with its metrics, the chart.
        dashboard.wait_for(
            "document.querySelectorAll('#history-platform-1 tr.rep-row').length === 3"
        )
        assert tile_text(dashboard, "platform-1", "reps") == str(REPS)
        assert tile_text(dashboard, "platform-1", "score") == f"{last['score']:.0f}"
        assert tile_text(dashboard, "platform-1", "cue") == last["cue"]
        assert "knees forward" in tile_text(dashboard, "platform-1", "chips")
        ids = dashboard.evaluate(
            "[...document.querySelectorAll('#history-platform-1 tr.rep-row')]"
            ".map(r => r.dataset.rep)"
        )
        mqtt_ids = [payload_json(m)["id"] for m in reps if m.topic == "hinge/platform-1/rep"]
        assert ids == mqtt_ids[::-1]  # newest first
        rows = dashboard.evaluate(
            "[...document.querySelectorAll('#history-platform-1 tr.rep-row')]"
            ".map(r => [...r.cells].map(c => c.innerText))"
        )
        by_id = {payload_json(m)["id"]: payload_json(m) for m in reps}
        for rep_id, row in zip(ids, rows, strict=True):
            assert_metrics_shown(row, by_id[rep_id])
        bars = dashboard.evaluate(
            "[...document.querySelectorAll('#history-platform-1 svg.chart rect.bar')]"
            ".map(b => b.dataset.rep)"
        )
        assert bars == ["1", "2", "3"]
        assert dashboard.text("article.tile[data-camera=platform-1] .display-link") == "Display"

        # The file ends: platform-1 shows DOWN on both pages.
        display.wait_for(
            "document.querySelector('#banner').innerText.includes('CAMERA DOWN')", LIVE_S
        )
        assert "ended" in display.text("#banner")
        assert display.text("#reps") == str(REPS)  # still shows the last set's count
        dashboard.wait_for(
            "document.querySelector('article.tile[data-camera=\"platform-1\"] .badge')"
            ".innerText === 'DOWN'"
        )
        assert tile_text(dashboard, "platform-2", "badge") == "ONLINE"

        # The MJPEG camera dies: its tile goes DOWN with the reason.
        mjpeg_camera.kill()
        reason = dashboard.wait_for(
            "(() => { const t = document.querySelector("
            "'article.tile[data-camera=\"platform-2\"]');"
            " return t.classList.contains('down')"
            " && t.querySelector('.down-reason').innerText; })()"
        )
        assert "stalled" in reason or "offline" in reason, reason

        # A quiet feed still pings, and the page stays live; an unknown camera is named.
        dashboard.wait_for("(hingeLive.counts.ping || 0) >= 1", 12)
        assert dashboard.text("#connection") == "Live"
        unknown = browser.page(f"{daemon.base}/display/nope", 800, 450)
        banner = unknown.wait_for("document.querySelector('#banner').innerText")
        assert "Unknown camera" in banner and "platform-1, platform-2" in banner
        for page in (display, dashboard, unknown):
            assert page.errors() == []
    finally:
        events.close()
        daemon.stop()
