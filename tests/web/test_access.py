"""Who may use which route: every route x every login (and none, and a foreign Host).

The real web server (aiohttp on its loop thread, `edge.daemon.web.WebServer`) on a free
port, over real sockets, in front of a small backend with two cameras (`a`, `b`), a still
for each, and a state and rep stream for each; the users file is a real one. What the
table checks is the status code, and that no camera's data (its id in JSON, a still's
bytes, an event) reaches a login that may not see it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from edge.daemon.access import FREE_FAILURES
from edge.daemon.auth import Role, UserStore
from edge.daemon.config import WebConfig
from edge.daemon.web import DISPLAY_COOKIE, OPEN, SESSION_COOKIE, Hub, WebServer
from edge.errors import EdgeError
from tests.contract.samples import REP, STATE

ITERATIONS = 1000  # cheap hashes: these tests are about the routes, not the KDF
PASSWORD = "correct horse battery"
PNG = {"a": b"\x89PNG-still-of-a", "b": b"\x89PNG-still-of-b"}


class Backend:
    """Two cameras, a still each; what a daemon's web backend answers."""

    def __init__(self) -> None:
        self.healthy = True

    def health(self) -> tuple[bool, dict[str, Any]]:
        return self.healthy, {"status": "ok", "run_id": "r1", "cameras": {"a": "online"}}

    def snapshot(self) -> dict[str, Any]:
        cameras = {c: {"status": {"camera": c}, "reps": [], "images": True} for c in PNG}
        return {"run_id": "r1", "cameras": cameras, "mqtt": {"last_error": "broker.lan: refused"}}

    def metrics(self) -> bytes:
        return b'hinge_reps_total{camera="a"} 1\nhinge_reps_total{camera="b"} 2\n'

    def still(self, camera_id: str) -> bytes | None:
        return PNG.get(camera_id)


class Server:
    """A running WebServer with its users: admin, trainer (all), coach-a (only a)."""

    def __init__(self, tmp_path: Path, **web: Any) -> None:
        self.users = UserStore(tmp_path / "users.json")
        self.users.add_user("admin", Role.ADMIN, PASSWORD, (), ITERATIONS)
        self.users.add_user("trainer", Role.TRAINER, PASSWORD, (), ITERATIONS)
        self.users.add_user("coach-a", Role.TRAINER, PASSWORD, ("a",), ITERATIONS)
        self.backend = Backend()
        self.hub = Hub()
        config = WebConfig.model_validate({"host": "127.0.0.1", "port": 0} | web)
        self.web = WebServer(config, self.backend, self.hub, self.users)
        self.web.start()
        self.port = self.web.port

    def request(
        self,
        path: str,
        cookie: str | None = None,
        method: str = "GET",
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        sent = {"Host": f"127.0.0.1:{self.port}"} | (headers or {})
        if cookie:
            sent["Cookie"] = cookie
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        response.body = response.read(200_000) if path != "/api/events" else b""  # type: ignore[attr-defined]
        conn.close()
        return response

    def login(self, user: str, password: str = PASSWORD) -> http.client.HTTPResponse:
        form = urllib.parse.urlencode({"user": user, "password": password, "next": "/"})
        return self.request("/login", method="POST", body=form)

    def cookie(self, user: str) -> str:
        response = self.login(user)
        assert response.status == 303, response.body  # type: ignore[attr-defined]
        value = response.headers["Set-Cookie"].split(";", 1)[0]
        assert value.startswith(SESSION_COOKIE + "=")
        return value

    def display_cookie(self, camera_id: str) -> str:
        _, token = self.users.new_display_token(camera_id)
        return f"{DISPLAY_COOKIE}={token}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    yield running
    running.web.stop()


# Route -> the status each login gets. `anon`: no cookie; `display-a`: the display link of
# camera a. Pages redirect (303) to /login without a login; API routes answer 401.
OK, NO, LOGIN, FORBID = 200, 401, 303, 403
ROUTES: dict[str, dict[str, int]] = {
    # route                  anon    admin  trainer coach-a display-a
    "/healthz":          dict(anon=OK, admin=OK, trainer=OK, coach=OK, display=OK),
    "/login":            dict(anon=OK, admin=OK, trainer=OK, coach=OK, display=OK),
    "/hinge.css":        dict(anon=OK, admin=OK, trainer=OK, coach=OK, display=OK),
    "/hinge.js":         dict(anon=OK, admin=OK, trainer=OK, coach=OK, display=OK),
    "/api/health":       dict(anon=NO, admin=OK, trainer=FORBID, coach=FORBID, display=FORBID),
    "/metrics":          dict(anon=NO, admin=OK, trainer=FORBID, coach=FORBID, display=FORBID),
    "/api/state":        dict(anon=NO, admin=OK, trainer=OK, coach=OK, display=OK),
    "/api/events":       dict(anon=NO, admin=OK, trainer=OK, coach=OK, display=OK),
    "/api/still/a":      dict(anon=NO, admin=OK, trainer=OK, coach=OK, display=OK),
    "/api/still/b":      dict(anon=NO, admin=OK, trainer=OK, coach=FORBID, display=FORBID),
    "/":                 dict(anon=LOGIN, admin=OK, trainer=OK, coach=OK, display=FORBID),
    "/display/a":        dict(anon=LOGIN, admin=OK, trainer=OK, coach=OK, display=OK),
    "/display/b":        dict(anon=LOGIN, admin=OK, trainer=OK, coach=FORBID, display=FORBID),
    "/nothing-here":     dict(anon=404, admin=404, trainer=404, coach=404, display=404),
    "/dashboard.html":   dict(anon=404, admin=404, trainer=404, coach=404, display=404),
}  # fmt: skip
WHO = ("anon", "admin", "trainer", "coach", "display")
# What each login may see of camera b's data (a is visible to all who pass)
SEES_B = {"admin": True, "trainer": True, "coach": False, "display": False}


def _cookies(server: Server) -> dict[str, str | None]:
    return {
        "anon": None,
        "admin": server.cookie("admin"),
        "trainer": server.cookie("trainer"),
        "coach": server.cookie("coach-a"),
        "display": server.display_cookie("a"),
    }


def test_every_route_by_every_login(server: Server):
    cookies = _cookies(server)
    wrong: list[str] = []
    for route, wanted in ROUTES.items():
        for who in WHO:
            if route == "/api/events" and wanted[who] == OK:
                continue  # a stream never ends: test_event_streams_carry_only_allowed_cameras
            response = server.request(route, cookies[who])
            body: bytes = response.body  # type: ignore[attr-defined]
            if response.status != wanted[who]:
                wrong.append(f"{route} as {who}: {response.status}, wanted {wanted[who]}")
            if response.status != OK:
                # Refusals carry no data: no still, no camera id, no metric
                assert b"PNG" not in body and b"hinge_" not in body, (route, who, body)
                assert b'"cameras"' not in body, (route, who)
            if response.status == LOGIN:
                assert response.headers["Location"] == f"/login?next={route}"
            if route in ("/api/state", "/metrics") and response.status == OK:
                assert (b'"b"' in body or b'camera="b"' in body) == SEES_B[who], (route, who)
            if route == "/api/state" and response.status == OK:
                assert (b"broker.lan" in body) == (who == "admin"), who  # the broker link
            if route.startswith("/api/still/") and response.status == OK:
                assert body == PNG[route[-1]]
    assert wrong == []


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "", "localhost.evil"],
)
def test_a_foreign_host_header_is_refused_on_every_route(server: Server, host: str):
    admin = server.cookie("admin")
    for route in ROUTES:
        response = server.request(route, admin, headers={"Host": host})
        assert response.status in (400, 421), (route, host, response.status)
        assert b"PNG" not in response.body and b'"cameras"' not in response.body  # type: ignore[attr-defined]


def test_own_names_and_addresses_are_served(tmp_path: Path):
    server = Server(tmp_path, allowed_hosts=["hinge.gym.lan", "*.tv.gym.lan"])
    try:
        names = ["localhost", socket.gethostname(), "127.0.0.1", "[::1]", "10.0.0.7:8080"]
        names += ["hinge.gym.lan", "HINGE.gym.lan:8080", "tv3.tv.gym.lan"]
        for name in names:
            assert server.request("/healthz", headers={"Host": name}).status == 200, name
        assert server.request("/healthz", headers={"Host": "gym.lan"}).status == 421
    finally:
        server.web.stop()


def _stream(server: Server, cookie: str) -> tuple[socket.socket, bytes]:
    """Opens /api/events; returns the socket and what came up to the snapshot's end."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(
        f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    got = b""
    while b"\n\n" not in got.partition(b"event: snapshot")[2]:  # (chunked: no fixed end)
        got += sock.recv(65536)
    return sock, got


def _read_until(sock: socket.socket, marker: bytes, timeout_s: float = 5.0) -> bytes:
    got, deadline = b"", time.monotonic() + timeout_s
    while marker not in got:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        got += sock.recv(65536)
    return got


def test_event_streams_carry_only_allowed_cameras(server: Server):
    cookies = _cookies(server)
    streams = {who: _stream(server, cookies[who]) for who in SEES_B}  # type: ignore[arg-type]
    for who, (_, head) in streams.items():
        snapshot = json.loads(head.split(b"data: ", 1)[1].split(b"\n", 1)[0])
        assert set(snapshot["cameras"]) == ({"a", "b"} if SEES_B[who] else {"a"}), who
    rep_b = replace(REP, camera="b", id="rep-of-b")
    server.hub.publish("rep", rep_b)
    server.hub.publish("state", replace(STATE, camera="b"))
    server.hub.publish("rep", replace(REP, camera="a", id="rep-of-a"))  # the end marker
    for who, (sock, _) in streams.items():
        got = _read_until(sock, b"rep-of-a")
        assert (b"rep-of-b" in got) == SEES_B[who], who
        assert (b'"camera":"b"' in got) == SEES_B[who], who
        sock.close()


def test_an_event_stream_misses_nothing_after_its_snapshot_and_is_forgotten_when_closed(
    server: Server,
):
    # Reps published all the while the stream signs in: whatever the first one after the
    # snapshot is, every later one follows it, in order (none lost between the snapshot
    # and the stream's first live message).
    stop = threading.Event()
    published = [0]

    def publish() -> None:
        while not stop.is_set():
            server.hub.publish("rep", replace(REP, camera="a", id=f"rep-{published[0]}"))
            published[0] += 1
            time.sleep(0.002)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    try:
        sock, head = _stream(server, server.cookie("admin"))
        after = published[0] + 20
        while published[0] < after:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(5)
    last = f"rep-{published[0] - 1}"
    got = head.partition(b"event: snapshot")[2] + _read_until(sock, f'"{last}"'.encode())
    ids = [int(m) for m in re.findall(rb'"id":"rep-(\d+)"', got)]
    assert len(ids) >= 2 and ids == list(range(ids[0], published[0])), ids[:5]
    assert len(server.hub) == 1
    sock.close()
    deadline = time.monotonic() + 5
    while len(server.hub):  # found by the hub's tick (every second), no message needed
        assert time.monotonic() < deadline, "a closed stream was never forgotten"
        time.sleep(0.05)


def test_messages_published_before_a_stream_s_snapshot_is_out_follow_it():
    # The hub's side of the above, where it cannot be timed from outside: a message that
    # comes while the snapshot is still being written waits, then follows the snapshot.
    async def run() -> bytes:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        hub = Hub()
        hub.attach(loop)
        client = hub.subscribe(OPEN, 8, transport)
        hub.publish("rep", replace(REP, id="early"))
        await asyncio.sleep(0.01)  # delivered meanwhile
        transport.write(b"event: snapshot\n\n")
        hub.started(client)
        hub.publish("rep", replace(REP, id="late"))
        await asyncio.sleep(0.01)
        hub.attach(None)
        transport.close()
        await asyncio.sleep(0.01)  # the loop flushes and closes it
        theirs.settimeout(2)
        got = b""
        while chunk := theirs.recv(65536):
            got += chunk
        theirs.close()
        return got

    got = asyncio.run(run())
    order = [got.find(marker) for marker in (b"snapshot", b'"early"', b'"late"')]
    assert -1 not in order and order == sorted(order), got[:200]


def test_a_slow_event_client_is_dropped_not_buffered(tmp_path: Path):
    server = Server(tmp_path, event_queue=8)
    try:
        sock, _ = _stream(server, server.cookie("admin"))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        big = replace(REP, camera="a", cue="x" * 2000)
        deadline = time.monotonic() + 10
        while server.hub.dropped == 0:  # never read: the kernel buffers fill, then the queue
            assert time.monotonic() < deadline, "the stalled client was never dropped"
            for _ in range(20):
                server.hub.publish("rep", big)
            time.sleep(0.01)
        assert len(server.hub) == 0
        sock.close()
    finally:
        server.web.stop()


def test_cookies_are_httponly_samesite_strict_and_expire(server: Server):
    response = server.login("admin")
    cookie = response.headers["Set-Cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path"} <= flags, cookie
    assert "samesite=strict" in cookie.lower() and "secure" not in flags  # plain HTTP here
    assert int(cookie.lower().split("max-age=")[1].split(";")[0]) == 12 * 3600
    _, token = server.users.new_display_token("a")
    page = server.request(f"/display/a?token={token}")
    assert page.status == 200
    shown = page.headers["Set-Cookie"]
    assert shown.startswith(f"{DISPLAY_COOKIE}={token};")
    assert "httponly" in shown.lower() and "samesite=strict" in shown.lower()
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_secure_cookies_when_asked(tmp_path: Path):
    server = Server(tmp_path, auth={"secure_cookies": True})
    try:
        cookie = server.login("admin").headers["Set-Cookie"]
        assert "secure" in {p.strip().lower() for p in cookie.split(";")}
    finally:
        server.web.stop()


@pytest.mark.slow  # waits for a session to expire
def test_sessions_expire_and_end_with_logout_password_change_and_removal(tmp_path: Path):
    server = Server(tmp_path, auth={"session_hours": 0.0003})  # about a second
    try:
        cookie = server.cookie("trainer")
        assert server.request("/api/state", cookie).status == 200
        time.sleep(1.3)
        assert server.request("/api/state", cookie).status == 401  # expired
        cookie = server.cookie("trainer")
        server.users.set_password("trainer", "another long password", ITERATIONS)
        assert server.request("/api/state", cookie).status == 401
        cookie = server.cookie("coach-a")
        server.users.remove_user("coach-a")
        assert server.request("/api/state", cookie).status == 401
        cookie = server.cookie("admin")
        assert server.request("/logout", cookie).status == 303
        assert server.request("/api/state", cookie).status == 401
        # A forged or unknown token is nobody
        assert server.request("/api/state", f"{SESSION_COOKIE}=forged").status == 401
    finally:
        server.web.stop()


def test_a_revoked_display_link_signs_the_display_out(server: Server):
    entry, token = server.users.new_display_token("a")
    cookie = f"{DISPLAY_COOKIE}={token}"
    assert server.request("/api/still/a", cookie).status == 200
    assert server.request(f"/display/b?token={token}").status == 403  # a's link, b's page
    server.users.revoke_display_tokens(token_id=entry.id)
    assert server.request("/api/still/a", cookie).status == 401
    assert server.request(f"/display/a?token={token}").status == 403


def test_metrics_take_the_scrape_token(server: Server):
    token = server.users.new_scrape_token()
    bearer = {"Authorization": f"Bearer {token}"}
    response = server.request("/metrics", headers=bearer)
    assert response.status == 200 and b"hinge_reps_total" in response.body  # type: ignore[attr-defined]
    assert server.request("/api/state", headers=bearer).status == 401  # metrics only
    assert server.request("/metrics", headers={"Authorization": "Bearer wrong"}).status == 401
    server.users.new_scrape_token()  # rotated: the old one is gone
    assert server.request("/metrics", headers=bearer).status == 401


@pytest.mark.slow  # waits out two lockouts (3 s)
def test_failed_logins_back_off_per_user_and_per_address(server: Server):
    for _ in range(FREE_FAILURES):
        assert server.login("trainer", "wrong password").status == 401
    refused = server.login("trainer", PASSWORD)  # right password, but locked: not checked
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    # The address is locked too: another user from it waits as well
    assert server.login("admin", "also wrong!").status == 429
    time.sleep(1.1)  # the first lockout is 1 s; the next failure doubles it
    assert server.login("trainer", "wrong password").status == 401
    assert server.login("trainer", PASSWORD).status == 429
    time.sleep(2.1)
    assert server.login("trainer", PASSWORD).status == 303  # and the record is cleared
    assert server.login("trainer", "wrong password").status == 401


def test_login_refuses_other_sites_and_foreign_redirects(server: Server):
    form = urllib.parse.urlencode({"user": "admin", "password": PASSWORD, "next": "//evil"})
    other = server.request("/login", method="POST", body=form,
                           headers={"Origin": "http://evil.example"})  # fmt: skip
    assert other.status == 403 and "Set-Cookie" not in other.headers
    same = server.request("/login", method="POST", body=form)
    assert same.status == 303 and same.headers["Location"] == "/"


def test_healthz_says_nothing_private(server: Server):
    response = server.request("/healthz")
    assert json.loads(response.body) == {"status": "ok"}  # type: ignore[attr-defined]
    server.backend.healthy = False
    assert server.request("/healthz").status == 503


def test_connections_past_the_bound_are_refused_and_half_open_ones_closed(tmp_path: Path):
    server = Server(tmp_path, max_connections=16, idle_timeout_s=1.0)
    try:
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(16)]
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        time.sleep(0.2)
        refused = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        assert refused.recv(100).startswith(b"HTTP/1.1 503")
        # Half-open for longer than idle_timeout_s: closed by the server
        for sock in held:
            sock.settimeout(5)
            assert sock.recv(100) == b""
        assert server.request("/healthz").status == 200
    finally:
        server.web.stop()


def test_auth_off_opens_everything_with_a_warning(tmp_path: Path, caplog):
    from edge.daemon.web import open_users

    config = WebConfig.model_validate({"auth": {"enabled": False}})
    assert open_users(config, tmp_path) is None
    assert "open to anyone" in caplog.text
    assert not (tmp_path / "web-users.json").exists()
    web = WebServer(
        WebConfig.model_validate({"host": "127.0.0.1", "port": 0, "auth": {"enabled": False}}),
        Backend(),
        Hub(),
        None,
    )
    web.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
        conn.request("GET", "/api/still/b")
        assert conn.getresponse().read() == PNG["b"]
    finally:
        web.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl); skips where openssl is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_serves_https_with_secure_cookies(tmp_path: Path, certificate):
    cert, key = certificate
    server = Server(tmp_path, tls={"cert": str(cert), "key": str(key)})
    try:
        context = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=5, context=context)
        form = urllib.parse.urlencode({"user": "admin", "password": PASSWORD})
        conn.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        assert response.status == 303
        assert "secure" in {p.strip().lower() for p in response.headers["Set-Cookie"].split(";")}
        plain = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b'"status"' not in plain.recv(1000)  # no answer in clear
        plain.close()
    finally:
        server.web.stop()


def test_an_unreadable_certificate_is_a_clear_error(tmp_path: Path):
    (tmp_path / "cert.pem").write_text("not a certificate")
    config = WebConfig.model_validate(
        {"port": 0, "tls": {"cert": str(tmp_path / "cert.pem"), "key": str(tmp_path / "k")}}
    )
    with pytest.raises(EdgeError, match=r"web\.tls: cannot load the certificate"):
        WebServer(config, Backend(), Hub(), None)
