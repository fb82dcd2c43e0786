"""The chain dashboard's API over real HTTP, on a real PostgreSQL with the hub's schema.

Rows are written as the hub writes them (an event, its rep row and the platform's daily
summaries in one transaction; each box's and camera's latest status): `ChainWriter`. The
server is `HubWeb` on a free port; requests go over sockets with a logged-in session.
"""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from edge.contract import CameraStatus, DaemonStatus
from edge.daemon.auth import Role, UserStore
from edge.errors import EdgeError
from edge.hub.migrate import migrate
from edge.hub.store import Store
from edge.hub.web import CSP, HubWeb, HubWebConfig

FAST_KDF = 1000  # PBKDF2 rounds for test users (the real 600,000 take 0.3 s a login)
PASSWORD = "correct horse battery"


class ChainWriter:
    """Writes the hub's tables as `hinge-edge hub` does, for tests and screenshots."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.seq: dict[tuple[str, str], int] = {}
        self.exercise = "rdl"  # of the reps written next

    def box(self, gym: str, box: str, status: str = "online", seen: datetime | None = None) -> None:
        seen = seen or datetime.now(UTC)
        self.conn.execute(
            "INSERT INTO boxes (gym, box, status, run_id, version, since, last_seen)"
            " VALUES (%s, %s, %s, 'run1', '0.1.0', %s, %s) ON CONFLICT (gym, box) DO UPDATE"
            " SET status = EXCLUDED.status, last_seen = EXCLUDED.last_seen",
            (gym, box, status, seen - timedelta(hours=2), seen),
        )

    def camera(
        self,
        gym: str,
        box: str,
        camera: str,
        stream: str = "online",
        quality: str = "good",
        state: dict[str, Any] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        status = {
            "camera": camera,
            "state": stream,
            "quality": quality if stream == "online" else "offline",
            "fps_in": 10.0,
            "fps_analysed": 9.8 if stream == "online" else 0.0,
            "frames_skipped": 0,
            "reconnects": 0,
            "stalls": 0,
            "last_frame_age_s": 0.1,
            "last_error": None if stream == "online" else "no frames for 5 s",
            "ts": now.isoformat(),
        }
        live = {"camera": camera, "athlete_present": False, "phase": "absent", "exercise": None}
        live |= {"set_id": None, "reps_in_set": 0, "last_rep": None, "ts": now.isoformat()}
        self.conn.execute(
            "INSERT INTO cameras (gym, camera, box, status, state, updated)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (gym, camera) DO UPDATE SET"
            " box = EXCLUDED.box, status = EXCLUDED.status, state = EXCLUDED.state,"
            " updated = EXCLUDED.updated",
            (gym, camera, box, Jsonb(status), Jsonb(live | (state or {})), now),
        )

    def _event(self, kind: str, where: tuple[str, str, str], ts: datetime, payload: dict) -> str:
        gym, box, _ = where
        seq = self.seq[(gym, box)] = self.seq.get((gym, box), 0) + 1
        event_id = f"{gym}-{box}-{seq}"
        self.conn.execute(
            "INSERT INTO events (id, kind, gym, box, camera, seq, ts, day, payload)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (event_id, kind, *where, seq, ts, ts.date(), Jsonb(payload | {"id": event_id})),
        )
        return event_id

    def rep(
        self,
        where: tuple[str, str, str],
        ts: datetime,
        set_no: int,
        rep: int,
        score: float | None = 80.0,
        faults: tuple[str, ...] = (),
    ) -> str:
        gym, box, camera = where
        exercise = self.exercise
        set_id = f"{camera}-run1-{set_no}"
        cue = "Push the hips back" if faults else "Good rep"
        payload = {"set_id": set_id, "rep": rep, "exercise": exercise, "score": score, "cue": cue}
        payload["faults"] = [{"code": c, "severity": 0.5, "cue": cue} for c in faults]
        rep_id = self._event("rep", where, ts, payload)
        self.conn.execute(
            "INSERT INTO reps (id, gym, box, camera, day, ts, set_id, exercise, score, faults)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (rep_id, gym, box, camera, ts.date(), ts, set_id, exercise, score, list(faults)),
        )
        self._day(gym, camera, ts, reps=1, scored=int(score is not None), score=score or 0.0)
        for code in faults:
            self.conn.execute(
                "INSERT INTO platform_day_faults (gym, camera, day, code, reps)"
                " VALUES (%s, %s, %s, %s, 1) ON CONFLICT (gym, camera, day, code)"
                " DO UPDATE SET reps = platform_day_faults.reps + 1",
                (gym, camera, ts.date(), code),
            )
        return rep_id

    def set(self, where: tuple[str, str, str], ts: datetime, set_no: int, seconds: float) -> None:
        gym, _, camera = where
        payload = {"set_id": f"{camera}-run1-{set_no}", "t_start_s": 0.0, "t_end_s": seconds}
        self._event("set", where, ts, payload)
        self._day(gym, camera, ts, sets=1, seconds=seconds)

    def _day(self, gym: str, camera: str, ts: datetime, **add: float) -> None:
        self.conn.execute(
            "INSERT INTO platform_days AS d (gym, camera, day, reps, sets, scored_reps,"
            " score_sum, set_seconds) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (gym, camera, day) DO UPDATE SET reps = d.reps + EXCLUDED.reps,"
            " sets = d.sets + EXCLUDED.sets, scored_reps = d.scored_reps + EXCLUDED.scored_reps,"
            " score_sum = d.score_sum + EXCLUDED.score_sum,"
            " set_seconds = d.set_seconds + EXCLUDED.set_seconds",
            (
                gym,
                camera,
                ts.date(),
                add.get("reps", 0),
                add.get("sets", 0),
                add.get("scored", 0),
                add.get("score", 0.0),
                add.get("seconds", 0.0),
            ),
        )


class Client:
    """HTTP over a socket, with a cookie jar (a signed-in person)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def login(self, user: str, password: str = PASSWORD) -> Client:
        form = urllib.parse.urlencode({"user": user, "password": password, "next": "/"})
        status, _, _ = self.request("/login", form.encode())
        assert status == 200, status  # redirected to / and served it
        return self

    def request(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def json(self, path: str) -> tuple[int, Any]:
        status, body, _ = self.request(path)
        return status, json.loads(body) if body.startswith(b"{") else body.decode()


@contextmanager
def chain_db(dsn: str) -> Iterator[ChainWriter]:
    """A writer on the database `dsn`, migrated to the hub's schema first."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn)
        yield ChainWriter(conn)


def make_users(folder: Path) -> UserStore:
    """A users file with an admin and a trainer of gym `north` only."""
    store = UserStore(folder / "hub-users.json")
    store.add_user("admin", Role.ADMIN, PASSWORD, iterations=FAST_KDF)
    store.add_user("coach", Role.TRAINER, PASSWORD, ("north",), iterations=FAST_KDF)
    return store


@pytest.fixture
def hub_db(hub_dsn: str) -> Iterator[tuple[str, ChainWriter]]:
    """(dsn, writer) of a fresh database of the session's PostgreSQL, with the schema."""
    with chain_db(hub_dsn) as writer:
        yield hub_dsn, writer


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    return make_users(tmp_path)


@pytest.fixture
def hub_web(hub_db, users) -> Iterator[HubWeb]:
    server = HubWeb(HubWebConfig(port=0, refresh_s=1), hub_db[0], users)
    server.start()
    yield server
    server.stop()


def base_of(server: HubWeb) -> str:
    return f"http://127.0.0.1:{server.port}"


NORTH = {"box-a": ("p1", "p2", "p3"), "box-b": ("p4", "p5")}


def fill_north(writer: ChainWriter) -> datetime:
    """Gym north: two boxes, five platforms; gym south: one box. Returns the time used."""
    now = datetime.now(UTC)
    for box, cameras in NORTH.items():
        writer.box("north", box, seen=now)
        for camera in cameras:
            writer.camera("north", box, camera)
    writer.box("south", "box-1", seen=now)
    writer.camera("south", "box-1", "p1")
    return now


def cameras_of(chain: dict, gym: str) -> dict[str, dict]:
    boxes = next(g for g in chain["gyms"] if g["gym"] == gym)["boxes"]
    return {c["camera"]: c for b in boxes for c in b["cameras"]}


def test_chain_lists_gyms_boxes_and_cameras_with_live_state(hub_db, hub_web):
    _, writer = hub_db
    fill_north(writer)
    writer.camera(
        "north",
        "box-a",
        "p1",
        state={"athlete_present": True, "phase": "descending", "set_id": "p1-run1-2"}
        | {"reps_in_set": 4, "exercise": "rdl"},
    )
    writer.camera("north", "box-b", "p5", quality="degraded")
    admin = Client(base_of(hub_web)).login("admin")

    status, chain = admin.json("/api/chain")
    assert status == 200
    assert [g["gym"] for g in chain["gyms"]] == ["north", "south"]
    north = next(g for g in chain["gyms"] if g["gym"] == "north")
    assert [b["box"] for b in north["boxes"]] == ["box-a", "box-b"]
    assert north["totals"] | {"reps_today": 0} == {
        "cameras": 5,
        "up": 5,
        "wait": 0,
        "down": 0,
        "reps_today": 0,
    }
    assert chain["totals"]["gyms"] == 2 and chain["totals"]["cameras"] == 6
    p1 = cameras_of(chain, "north")["p1"]
    assert (p1["health"], p1["quality"], p1["athlete_present"]) == ("up", "good", True)
    assert (p1["phase"], p1["reps_in_set"], p1["box"]) == ("descending", 4, "box-a")
    assert cameras_of(chain, "north")["p5"]["quality"] == "degraded"
    assert chain["refresh_s"] == 1


def test_a_gym_with_two_boxes_shows_all_its_cameras(hub_db, hub_web):
    _, writer = hub_db
    now = fill_north(writer)
    for rep in (1, 2, 3):
        writer.rep(("north", "box-b", "p4"), now - timedelta(minutes=10 - rep), 1, rep, 70.0 + rep)
    admin = Client(base_of(hub_web)).login("admin")

    status, gym = admin.json("/api/gym/north")
    assert status == 200
    assert [(c["camera"], c["box"]) for c in gym["cameras"]] == [
        ("p1", "box-a"),
        ("p2", "box-a"),
        ("p3", "box-a"),
        ("p4", "box-b"),
        ("p5", "box-b"),
    ]
    p4 = next(c for c in gym["cameras"] if c["camera"] == "p4")
    assert [r["rep"] for r in p4["latest_reps"]] == [3, 2, 1]  # newest first
    assert [r["score"] for r in p4["latest_reps"]] == [73.0, 72.0, 71.0]
    assert p4["today"] == {"reps": 3, "sets": 0}
    assert admin.json("/api/gym/nowhere")[0] == 404


def test_an_offline_box_turns_only_its_cameras_down(hub_db, hub_web):
    _, writer = hub_db
    now = fill_north(writer)
    admin = Client(base_of(hub_web)).login("admin")
    north = cameras_of(admin.json("/api/chain")[1], "north")
    assert all(c["health"] == "up" for c in north.values())

    writer.box("north", "box-b", status="offline", seen=now)  # its last will
    north = cameras_of(admin.json("/api/chain")[1], "north")
    assert {c: v["health"] for c, v in north.items()} == {
        "p1": "up",
        "p2": "up",
        "p3": "up",
        "p4": "down",
        "p5": "down",
    }
    assert north["p4"]["reason"] == "box box-b offline"
    assert north["p4"]["athlete_present"] is False

    # Back online, then silent past the limit (a cut link with no last will yet).
    writer.box("north", "box-b", status="online", seen=now - timedelta(seconds=120))
    north = cameras_of(admin.json("/api/chain")[1], "north")
    assert [c for c, v in north.items() if v["health"] == "down"] == ["p4", "p5"]
    assert north["p5"]["reason"].startswith("box box-b silent for 12")

    # One camera's own stream stalls: only that one.
    writer.box("north", "box-b", seen=datetime.now(UTC))
    writer.camera("north", "box-a", "p2", stream="stalled")
    north = cameras_of(admin.json("/api/chain")[1], "north")
    assert [c for c, v in north.items() if v["health"] == "down"] == ["p2"]
    assert north["p2"]["reason"] == "stream stalled: no frames for 5 s"


def test_a_platforms_history_shows_todays_reps(hub_db, hub_web):
    _, writer = hub_db
    now = fill_north(writer)
    where = ("north", "box-a", "p1")
    for days_ago in (3, 1):
        day = now - timedelta(days=days_ago)
        for rep in range(1, 5):
            faults = ("knee_dominant",) if rep == 4 else ()
            writer.rep(where, day + timedelta(seconds=rep), 1, rep, 60.0 + days_ago * 5, faults)
        writer.set(where, day + timedelta(seconds=30), 1, 90.0)
    today = [
        writer.rep(where, now - timedelta(minutes=5), 1, 1, 90.0),
        writer.rep(where, now - timedelta(minutes=4), 1, 2, None, ("spine_flexion",)),
    ]
    admin = Client(base_of(hub_web)).login("admin")

    status, platform = admin.json("/api/platform/north/p1?days=7")
    assert status == 200
    days = platform["days"]
    assert len(days) == 7 and days[-1]["day"] == now.date().isoformat()
    assert [d["reps"] for d in days] == [0, 0, 0, 4, 0, 4, 2]
    assert [d["mean_score"] for d in days][3:] == [75.0, None, 65.0, 90.0]
    assert days[3]["minutes"] == 1.5 and days[3]["faults"] == {"knee_dominant": 1}
    assert platform["window"]["reps"] == 10 and platform["window"]["sets"] == 2
    assert platform["window"]["fault_rates"] == {"knee_dominant": 0.2, "spine_flexion": 0.1}
    assert platform["window"]["mean_score"] == pytest.approx((4 * 75 + 4 * 65 + 90) / 9, abs=0.05)
    assert platform["today"]["reps"] == 2
    assert [r["id"] for r in platform["today"]["reps_list"]] == today[::-1]
    assert platform["today"]["reps_list"][0]["faults"] == ["spine_flexion"]
    assert platform["live"]["health"] == "up"
    assert admin.json("/api/platform/north/p1?days=0")[0] == 400
    assert admin.json("/api/platform/north/nope")[0] == 404


def test_logins_roles_and_headers(hub_db, hub_web):
    fill_north(hub_db[1])
    base = base_of(hub_web)
    anonymous = Client(base)
    assert anonymous.json("/api/chain")[0] == 401
    status, body, headers = anonymous.request("/gym/north")
    assert status == 200 and b"Sign in" in body  # redirected to the login form

    coach = Client(base).login("coach")  # a trainer of gym north
    status, chain = coach.json("/api/chain")
    assert [g["gym"] for g in chain["gyms"]] == ["north"]
    assert coach.json("/api/gym/south")[0] == 403
    assert coach.json("/api/platform/south/p1")[0] == 403
    status, body, headers = coach.request("/gym/north")
    assert status == 200 and b'<script type="module" src="/chain.js">' in body
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert coach.request("/gym/NOT..AN-ID")[0] == 404
    assert coach.request("/api/chain", headers={"Host": "evil.example"})[0] == 421
    assert Client(base).request("/healthz")[1] == b'{"status": "ok"}'


def test_without_logins_for_a_closed_bench(hub_db):
    """web.auth.enabled: false (the lead's chain test, a bench): every route open."""
    fill_north(hub_db[1])
    config = HubWebConfig(port=0, auth={"enabled": False})
    with pytest.raises(EdgeError, match="users file"):
        HubWeb(HubWebConfig(port=0), hub_db[0])  # logins on need users
    server = HubWeb(config, hub_db[0])
    server.start()
    try:
        status, chain = Client(base_of(server)).json("/api/chain")
    finally:
        server.stop()
    assert status == 200 and chain["totals"]["cameras"] == 6


def upstream(gym: str, box: str, payload: Any) -> bytes:
    """A box's message as it reaches the hub: the contract's payload with gym and box."""
    return json.dumps(payload.to_dict() | {"gym": gym, "box": box}).encode()


def test_the_hubs_own_writes_show_a_dead_box_down(hub_dsn):
    """Through `Store.ingest`, as the hub worker writes: a box's last will turns its cameras
    DOWN and no other's (what the chain test checks with real daemons)."""
    store = Store(hub_dsn)
    store.migrate()
    now = datetime.now(UTC).isoformat()
    for box, cameras in NORTH.items():
        status = DaemonStatus(status="online", run_id=f"run-{box}", version="0.1.0", since=now)
        store.ingest(f"hinge/north/{box}/status", upstream("north", box, status))
        for camera in cameras:
            stream = CameraStatus(camera, "online", "good", 10.0, 9.9, 0, 0, 0, 0.1, None, now)
            store.ingest(f"hinge/north/{box}/{camera}/status", upstream("north", box, stream))
    will = DaemonStatus(status="offline", run_id="run-box-b", version="0.1.0", since=None)
    server = HubWeb(HubWebConfig(port=0, auth={"enabled": False}), hub_dsn)
    server.start()
    try:
        client = Client(base_of(server))
        before = cameras_of(client.json("/api/chain")[1], "north")
        store.ingest("hinge/north/box-b/status", upstream("north", "box-b", will))
        after = cameras_of(client.json("/api/chain")[1], "north")
    finally:
        server.stop()
        store.close()
    assert {c: v["health"] for c, v in before.items()} == dict.fromkeys(before, "up")
    assert len(before) == 5
    assert [c for c, v in after.items() if v["health"] == "down"] == ["p4", "p5"]


def test_postgresql_going_away_and_back(pg_server, hub_db, hub_web):
    """503 while PostgreSQL is down (the pages say so and retry), answers again after."""
    fill_north(hub_db[1])
    admin = Client(base_of(hub_web)).login("admin")
    assert admin.json("/api/chain")[0] == 200  # a pooled connection now exists
    hub_db[1].conn.close()
    pg_server.restart()
    # The pooled connection died with the server: one request may fail, then a fresh one.
    statuses = [admin.json("/api/chain")[0] for _ in range(2)]
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    pg_server.stop()
    try:
        status, body = admin.json("/api/chain")
        assert status == 503 and "database" in body["error"]
        assert Client(base_of(hub_web)).request("/healthz")[0] == 503
    finally:
        pg_server.start()
    assert admin.json("/api/chain")[0] == 200
