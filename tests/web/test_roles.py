"""A trainer limited to one camera, against the real daemon: the other camera stays unseen.

The daemon as a process with two cameras playing the swing clip in a loop (pictures on
for both), a real mosquitto; a trainer `coach` allowed `platform-1` only, added to the
daemon's users file as `hinge-edge users add` would. Over real HTTP: the other camera's
still is refused, and neither the state nor the live event stream names it, while the
admin sees both cameras' reps happening.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse

from devkit.daemon import TEST_KDF_ITERATIONS, wait_for
from edge.daemon.auth import Role

PASSWORD = "coach's long password"


def sign_in(port: int, user: str, password: str) -> str:
    """The session cookie (`name=value`) of a login through POST /login."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    form = urllib.parse.urlencode({"user": user, "password": password})
    conn.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    assert response.status == 303, response.read()
    return response.headers["Set-Cookie"].split(";", 1)[0]


def get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    return response.status, response.read()


def test_a_trainer_limited_to_one_camera_never_sees_the_other(swing_clip, daemon_factory):
    clip, _ = swing_clip
    camera = {"source": str(clip), "exercise": "swing", "loop": True, "images": True}
    daemon = daemon_factory({"platform-1": camera, "platform-2": camera})
    daemon.users.add_user("coach", Role.TRAINER, PASSWORD, ("platform-1",), TEST_KDF_ITERATIONS)
    daemon.start()
    port = daemon.web_port
    coach = sign_in(port, "coach", PASSWORD)

    stream = socket.create_connection(("127.0.0.1", port), timeout=30)
    stream.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {coach}\r\n".encode())
    stream.sendall(b"\r\n")
    seen = b""
    deadline = time.monotonic() + 40
    while seen.count(b"event: rep\n") < 2:  # two reps of platform-1, live
        assert time.monotonic() < deadline, seen[-2000:]
        seen += stream.recv(65536)
    stream.close()

    def reps_of(camera_id: str) -> int:
        return len(daemon.state()["cameras"][camera_id]["reps"])

    wait_for(lambda: reps_of("platform-2") >= 1, 20, "a rep on platform-2 (admin sees it)")
    assert b"platform-1" in seen and b"platform-2" not in seen

    status, body = get(port, "/api/state", coach)
    assert status == 200 and set(json.loads(body)["cameras"]) == {"platform-1"}
    assert b"platform-2" not in body
    assert get(port, "/api/still/platform-1", coach)[0] == 200
    status, body = get(port, "/api/still/platform-2", coach)
    assert status == 403 and not body.startswith(b"\x89PNG")
    assert get(port, "/display/platform-2", coach)[0] == 403
    assert get(port, "/metrics", coach)[0] == 403 and get(port, "/api/health", coach)[0] == 403
    assert daemon.fetch("/api/still/platform-2")[0] == 200  # the admin does see it
