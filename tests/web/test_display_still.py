"""The display's picture box: shown with a still, not displayed at all without one.

A page-only test: the real web server and pages in headless Chromium, fed a fixed
snapshot by a stub backend (no daemon, no models). It guards the `hidden` attribute
against a CSS rule that sets `display` on the same element (`figure { display: flex }`
once showed an empty, broken image box on platforms with pictures off).
"""

from __future__ import annotations

import json
from typing import Any

import cv2
import numpy as np
import pytest

from edge.daemon.auth import UserStore
from edge.daemon.config import WebConfig
from edge.daemon.web import Hub, WebServer


def _rep(camera: str) -> dict[str, Any]:
    return {
        "id": f"{camera}-r1",
        "camera": camera,
        "set_id": f"{camera}-s1",
        "rep": 1,
        "exercise": "rdl",
        "score": 72.0,
        "cue": "Push the hips back",
        "faults": [{"code": "knee_dominant"}],
        "metrics": {},
    }


class StubBackend:
    """One online camera per entry of `images` (camera -> pictures on), one rep each."""

    def __init__(self, images: dict[str, bool], stills: set[str]) -> None:
        self.images, self.stills = images, stills
        ok, png = cv2.imencode(".png", np.full((90, 160, 3), 80, np.uint8))
        assert ok
        self.png = png.tobytes()

    def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ok"}

    def snapshot(self) -> dict[str, Any]:
        cameras = {
            camera: {
                "status": {"camera": camera, "state": "online", "last_error": None},
                "state": {"camera": camera, "athlete_present": False, "set_id": None},
                "counters": {"reps": 1, "sets": 1, "analysed": 10},
                "reps": [_rep(camera)],
                "images": on,
            }
            for camera, on in self.images.items()
        }
        return {"run_id": "stub", "version": "0", "cameras": cameras, "mqtt": {}}

    def metrics(self) -> bytes:
        return b""

    def still(self, camera_id: str) -> bytes | None:
        return self.png if camera_id in self.stills else None


@pytest.fixture
def display_link(tmp_path):
    """Makes a camera's display link (as `hinge-edge display-token` does) on a stub server."""
    # "on-none": pictures on, but no still served (none kept yet, or it failed to load).
    backend = StubBackend({"on": True, "off": False, "on-none": True}, stills={"on"})
    users = UserStore(tmp_path / "users.json")
    server = WebServer(WebConfig(host="127.0.0.1", port=0), backend, Hub(), users)
    server.start()

    def link(camera: str) -> str:
        token = users.new_display_token(camera)[1]
        return f"http://127.0.0.1:{server.port}/display/{camera}?token={token}"

    yield link
    server.stop()


BOX = (
    "(() => { const box = document.querySelector('#still-box');"
    " return {hidden: box.hidden, display: getComputedStyle(box).display,"
    " shown: box.offsetParent !== null, height: box.getBoundingClientRect().height}; })()"
)
LIVE = "document.querySelector('#connection').innerText === 'Live'"
CUE = f"document.querySelector('#cue').innerText === {json.dumps(_rep('x')['cue'])}"


def test_the_picture_box_is_not_displayed_when_pictures_are_off(display_link, browser):
    page = browser.page(display_link("off"), 1280, 720)
    page.wait_for(LIVE)
    page.wait_for(CUE)  # the rep is rendered: the still decision has been made
    assert page.evaluate(BOX) == {"hidden": True, "display": "none", "shown": False, "height": 0}
    assert page.text("#privacy") == "No pictures are kept for this platform."
    assert page.errors() == []


def test_the_picture_box_stays_hidden_while_no_still_loads(display_link, browser):
    page = browser.page(display_link("on-none"), 1280, 720)
    page.wait_for(LIVE)
    page.wait_for(CUE)
    page.wait_for("document.querySelector('#still').dataset.src")  # the load was tried
    # The 404 is the page's own error; the box must stay out of sight after it.
    page.wait_for(
        "(() => { const i = document.querySelector('#still');"
        " return i.complete && i.naturalWidth === 0; })()"
    )
    assert page.evaluate(BOX) == {"hidden": True, "display": "none", "shown": False, "height": 0}


def test_the_picture_box_shows_a_loaded_still(display_link, browser):
    page = browser.page(display_link("on"), 1280, 720)
    page.wait_for(LIVE)
    box = page.wait_for(f"(() => {{ const b = {BOX}; return b.shown && b; }})()")
    assert box["hidden"] is False and box["display"] == "flex" and box["height"] > 0
    assert page.evaluate("document.querySelector('#still').naturalWidth") == 160
    assert page.errors() == []
