"""The dashboard's camera tile shows the pose stage's cost: the landmark pass, the mask beside it.

A page-only test: the real web server and dashboard in headless Chromium, fed a fixed
snapshot by a stub backend (no daemon, no models). The figures' accounting and the
running daemon's are tests/daemon/test_pose_cost.py and tests/daemon/test_demo.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from edge.daemon.auth import Role, UserStore
from edge.daemon.config import WebConfig
from edge.daemon.web import Hub, WebServer
from tests.contract.samples import POSE
from tests.web.test_display_still import StubBackend

PASSWORD = "a-long-enough-password"
POSES: dict[str, dict[str, Any] | None] = {
    "masked": POSE.to_dict(),  # the back check on: 20.6 ms, the mask 28.4 ms beside it
    "plain": {**POSE.to_dict(), "mask_calls": 0, "mask_ms": None, "mask_calls_per_rep": None},
    "old": None,  # a status without the figures (a daemon before them)
}


class CostBackend(StubBackend):
    """The stub's cameras, each status with its `pose` figures (or none)."""

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        for camera, pose in POSES.items():
            status = snap["cameras"][camera]["status"]
            status |= {"quality": "good", "fps_in": 15.0, "fps_analysed": 10.0, "reconnects": 0}
            if pose is not None:
                status["pose"] = pose
        return snap


@pytest.fixture
def dashboard(tmp_path, browser):
    users = UserStore(tmp_path / "users.json")
    users.add_user("coach", Role.TRAINER, PASSWORD, iterations=1000)
    server = WebServer(
        WebConfig(host="127.0.0.1", port=0),
        CostBackend(dict.fromkeys(POSES, False), set()),
        Hub(),
        users,
    )
    server.start()
    page = browser.page(f"http://127.0.0.1:{server.port}/login?next=/", 1280, 900)
    page.wait_for("document.readyState === 'complete' && !!document.forms[0]")
    page.evaluate(
        f"(() => {{ const f = document.forms[0]; f.user.value = 'coach';"
        f" f.password.value = {json.dumps(PASSWORD)}; f.submit(); }})()"
    )
    page.wait_for("location.pathname === '/'")
    page.wait_for("document.querySelectorAll('article.tile').length === 3")
    yield page
    server.stop()


def cost_text(page, camera: str) -> str:
    return page.evaluate(
        f"document.querySelector('article.tile[data-camera={json.dumps(camera)}] .pose-cost')"
        ".innerText"
    )


def test_the_tile_shows_the_mask_cost_beside_the_landmark_pass(dashboard):
    assert cost_text(dashboard, "masked") == (
        "pose 20.6 ms a frame · back check: mask 28.4 ms (1.38×) on 1203 frames, 5.0 a rep"
    )
    assert cost_text(dashboard, "plain") == "pose 20.6 ms a frame"  # the back check off
    assert cost_text(dashboard, "old") == ""
    assert dashboard.errors() == []
