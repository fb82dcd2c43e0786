"""What the chain dashboard shows, read from the hub's tables (migrations/001_initial.sql).

Read only: every connection is opened with `default_transaction_read_only=on`, so a bug
here cannot change the history. Three views, each one JSON-ready dict:

- `chain(now)`: gyms -> boxes -> cameras, each camera `up`, `wait` or `down` with why,
  its stream quality and live state, and its reps and sets today;
- `gym(gym, now)`: the trainers' floor view, every camera of a gym across its boxes with
  its live state and latest reps today;
- `platform(gym, camera, days, now)`: a platform's history, per day (reps, sets, mean
  score, minutes in use, fault mix) and today's reps.

A camera is DOWN when its box is (status offline or stopped, or silent longer than
`stale_after_s`: three stats intervals by default) or its own stream is (CameraStatus
state stalled, offline, ended or stopped). "Today" is the date in the hub's time zone,
as the `day` columns are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from edge.contract import iso
from edge.hub.config import MAX_DAYS, STALE_AFTER_S

LATEST_REPS = 8
"""Reps per camera on the trainers' floor view."""
TODAY_REPS = 500
"""Reps of today listed at most on a platform's page (the counts are never cut)."""
BOX_DOWN = ("offline", "stopped")
STREAM_DOWN = ("stalled", "offline", "ended", "stopped")
_OPTIONS = "-c default_transaction_read_only=on -c statement_timeout=10000"


class Database:
    """A few read-only connections to the hub's PostgreSQL, opened when first needed.

    At most `size` queries run at once; the rest wait. A connection that failed is closed
    and replaced by a fresh one at the next query, so a restarted PostgreSQL costs one
    failed request, not a restart of the hub.
    """

    def __init__(self, dsn: str, size: int = 4) -> None:
        """`dsn`: a libpq connection string or URI (its `options` are replaced by ours)."""
        self.dsn = dsn
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection[dict[str, Any]]] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
        """A connection for one request (autocommit, read only, rows as dicts)."""
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                yield conn
            except psycopg.Error:
                await conn.close()
                raise
            if not conn.closed and not conn.broken:
                self._idle.append(conn)

    async def _connect(self) -> psycopg.AsyncConnection[dict[str, Any]]:
        return await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, row_factory=dict_row, options=_OPTIONS, connect_timeout=5
        )

    async def rows(self, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of one query."""
        async with self.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def close(self) -> None:
        """Closes the idle connections."""
        while self._idle:
            await self._idle.pop().close()


@dataclass(frozen=True)
class Health:
    """A camera's or a box's verdict: `up`, `wait` (starting, no status yet) or `down`."""

    state: str
    reason: str | None = None


def box_health(box: dict[str, Any] | None, now: datetime, stale_after_s: float) -> Health:
    """Whether a box (its `boxes` row; None: never heard of) is up, and why not."""
    if box is None:
        return Health("down", "its box never reported")
    if box["status"] in BOX_DOWN:
        return Health("down", f"box {box['box']} {box['status']}")
    silent = (now - box["last_seen"]).total_seconds()
    if silent > stale_after_s:
        return Health("down", f"box {box['box']} silent for {silent:.0f} s")
    return Health("up")


def camera_health(box: Health, status: dict[str, Any] | None) -> Health:
    """A camera's verdict from its box's and its CameraStatus payload (None: none yet)."""
    if box.state == "down":
        return box
    if status is None:
        return Health("wait", "no status yet")
    stream = status.get("state")
    if stream in STREAM_DOWN:
        error = status.get("last_error")
        return Health("down", f"stream {stream}" + (f": {error}" if error else ""))
    if stream == "connecting":
        return Health("wait", "connecting")
    return Health("up")


def camera_view(row: dict[str, Any], box: Health) -> dict[str, Any]:
    """One camera as the pages show it (a `cameras` row, its box's verdict)."""
    status, state = row["status"], row["state"] or {}
    health = camera_health(box, status)
    live = health.state != "down"
    return {
        "gym": row["gym"],
        "box": row["box"],
        "camera": row["camera"],
        "health": health.state,
        "reason": health.reason,
        "stream": status.get("state") if status else None,
        "quality": status.get("quality") if status else None,
        "fps": status.get("fps_analysed") if status else None,
        "athlete_present": bool(state.get("athlete_present")) and live,
        "phase": state.get("phase") if live else None,
        "exercise": state.get("exercise"),
        "set_id": state.get("set_id"),
        "reps_in_set": state.get("reps_in_set", 0),
        "last_rep": state.get("last_rep"),
        "updated": _iso(row["updated"]),
        "today": {"reps": row.get("reps_today") or 0, "sets": row.get("sets_today") or 0},
    }


class Views:
    """The dashboard's three views over a `Database`."""

    def __init__(
        self, database: Database, timezone: str = "UTC", stale_after_s: float = STALE_AFTER_S
    ) -> None:
        """`timezone`: the hub's (hub.timezone): the one its `day` columns are dated in."""
        self.database = database
        self.zone = ZoneInfo(timezone)
        self.stale_after_s = stale_after_s

    def today(self, now: datetime) -> date:
        """`now`'s date in the hub's time zone."""
        return now.astimezone(self.zone).date()

    async def chain(self, now: datetime, gyms: Sequence[str] | None = None) -> dict[str, Any]:
        """Gyms -> boxes -> cameras (of `gyms` only, if given), with totals."""
        gyms = list(gyms) if gyms is not None else None  # a text[] (a tuple is a record)
        boxes = await self._boxes(gyms)
        cameras = await self._cameras(now, gyms)
        verdicts = {k: box_health(b, now, self.stale_after_s) for k, b in boxes.items()}
        tree: dict[str, dict[str, dict[str, Any]]] = {}
        for key, box in boxes.items():
            tree.setdefault(key[0], {})[key[1]] = _box_view(box, verdicts[key], now)
        for row in cameras:
            key = (row["gym"], row["box"])
            verdict = verdicts.get(key) or box_health(None, now, self.stale_after_s)
            if key[1] not in tree.setdefault(key[0], {}):
                tree[key[0]][key[1]] = _unknown_box(key, verdict)
            tree[key[0]][key[1]]["cameras"].append(camera_view(row, verdict))
        out = [_gym_view(name, list(tree[name].values())) for name in sorted(tree)]
        return {
            "now": _iso(now),
            "stale_after_s": self.stale_after_s,
            "totals": _count([c for g in out for b in g["boxes"] for c in b["cameras"]])
            | {"gyms": len(out), "boxes": sum(len(g["boxes"]) for g in out)},
            "gyms": out,
        }

    async def gym(self, gym: str, now: datetime) -> dict[str, Any]:
        """Every camera of one gym (all its boxes), each with its latest reps today."""
        chain = await self.chain(now, [gym])
        boxes = chain["gyms"][0]["boxes"] if chain["gyms"] else []
        rows = await self.database.rows(
            "SELECT * FROM (SELECT r.camera, r.id, r.ts, r.set_id, r.exercise, r.score,"
            " r.faults, e.payload->'rep' AS rep, e.payload->>'cue' AS cue, row_number()"
            " OVER (PARTITION BY r.camera ORDER BY r.ts DESC) AS n FROM reps r JOIN events e"
            " USING (id) WHERE r.gym = %s AND r.day = %s) latest WHERE n <= %s ORDER BY ts DESC",
            (gym, self.today(now), LATEST_REPS),
        )
        latest: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            latest.setdefault(row["camera"], []).append(_rep_view(row))
        cameras = sorted((c for b in boxes for c in b["cameras"]), key=lambda c: c["camera"])
        for camera in cameras:
            camera["latest_reps"] = latest.get(camera["camera"], [])
        return {
            "now": chain["now"],
            "gym": gym,
            "known": bool(boxes),
            "boxes": [{k: v for k, v in b.items() if k != "cameras"} for b in boxes],
            "totals": _count(cameras),
            "cameras": cameras,
        }

    async def platform(self, gym: str, camera: str, days: int, now: datetime) -> dict[str, Any]:
        """A platform's last `days` days (today included) and today's reps, newest first."""
        days = max(1, min(days, MAX_DAYS))
        today = self.today(now)
        first = today - timedelta(days=days - 1)
        span = (gym, camera, first, today)
        summary = await self.database.rows(
            "SELECT day, reps, sets, scored_reps, score_sum, set_seconds FROM platform_days"
            " WHERE gym = %s AND camera = %s AND day BETWEEN %s AND %s",
            span,
        )
        faults = await self.database.rows(
            "SELECT day, code, reps FROM platform_day_faults"
            " WHERE gym = %s AND camera = %s AND day BETWEEN %s AND %s",
            span,
        )
        reps = await self.database.rows(
            "SELECT r.id, r.box, r.ts, r.set_id, r.exercise, r.score, r.faults,"
            " e.payload->'rep' AS rep, e.payload->>'cue' AS cue FROM reps r JOIN events e"
            " USING (id) WHERE r.gym = %s AND r.camera = %s AND r.day = %s"
            " ORDER BY r.ts DESC LIMIT %s",
            (gym, camera, today, TODAY_REPS),
        )
        live = [c for c in (await self.gym(gym, now))["cameras"] if c["camera"] == camera]
        series = _days(first, today, summary, faults)
        window = _window(series)
        return {
            "now": _iso(now),
            "gym": gym,
            "camera": camera,
            "known": bool(live) or window["reps"] > 0 or bool(reps),
            "live": live[0] if live else None,
            "days": series,
            "window": window,
            "today": {**series[-1], "reps_list": [_rep_view(r) for r in reps]},
        }

    async def _boxes(self, gyms: Sequence[str] | None) -> dict[tuple[str, str], dict[str, Any]]:
        rows = await self.database.rows(
            "SELECT b.gym, b.box, b.status, b.run_id, b.version, b.problem, b.since,"
            " b.last_seen, q.last_seq, q.last_seq - q.first_seq + 1 - q.events AS missing"
            " FROM boxes b LEFT JOIN box_sequences q USING (gym, box)"
            " WHERE %s::text[] IS NULL OR b.gym = ANY(%s::text[]) ORDER BY b.gym, b.box",
            (gyms, gyms),
        )
        return {(r["gym"], r["box"]): r for r in rows}

    async def _cameras(self, now: datetime, gyms: Sequence[str] | None) -> list[dict[str, Any]]:
        return await self.database.rows(
            "SELECT c.gym, c.camera, c.box, c.status, c.state, c.updated,"
            " d.reps AS reps_today, d.sets AS sets_today FROM cameras c"
            " LEFT JOIN platform_days d ON d.gym = c.gym AND d.camera = c.camera AND d.day = %s"
            " WHERE %s::text[] IS NULL OR c.gym = ANY(%s::text[]) ORDER BY c.gym, c.camera",
            (self.today(now), gyms, gyms),
        )


def _box_view(box: dict[str, Any], health: Health, now: datetime) -> dict[str, Any]:
    return {
        "gym": box["gym"],
        "box": box["box"],
        "health": health.state,
        "reason": health.reason,
        "status": box["status"],
        "problem": box["problem"],
        "version": box["version"],
        "run_id": box["run_id"],
        "since": _iso(box["since"]),
        "last_seen": _iso(box["last_seen"]),
        "silent_s": round((now - box["last_seen"]).total_seconds(), 1),
        # the box's event numbers absent between its first and last here (docs/chain.md):
        # lost on the way, or still on their way from the box's spool
        "last_seq": box["last_seq"],
        "missing_events": box["missing"] or 0,
        "cameras": [],
    }


def _unknown_box(key: tuple[str, str], health: Health) -> dict[str, Any]:
    """A box named by a camera but never heard from itself."""
    none = dict.fromkeys(("status", "problem", "version", "run_id", "since", "last_seen"))
    named = {"gym": key[0], "box": key[1], "health": health.state, "reason": health.reason}
    return named | none | {"silent_s": None, "last_seq": None, "missing_events": 0, "cameras": []}


def _gym_view(name: str, boxes: list[dict[str, Any]]) -> dict[str, Any]:
    cameras = [c for b in boxes for c in b["cameras"]]
    return {"gym": name, "totals": _count(cameras), "boxes": boxes}


def _count(cameras: list[dict[str, Any]]) -> dict[str, int]:
    states = [c["health"] for c in cameras]
    return {
        "cameras": len(states),
        "up": states.count("up"),
        "wait": states.count("wait"),
        "down": states.count("down"),
        "reps_today": sum(c["today"]["reps"] for c in cameras),
    }


def _rep_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "ts": _iso(row["ts"]),
        "set_id": row["set_id"],
        "rep": row["rep"],
        "exercise": row["exercise"],
        "score": row["score"],
        "faults": list(row["faults"]),
        "cue": row["cue"],
    } | ({"box": row["box"]} if "box" in row else {})


def _days(
    first: date, last: date, summary: list[dict[str, Any]], faults: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per day from `first` to `last`, zeros where nothing happened."""
    by_day = {r["day"]: r for r in summary}
    codes: dict[date, dict[str, int]] = {}
    for row in faults:
        codes.setdefault(row["day"], {})[row["code"]] = row["reps"]
    out = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        reps, scored = row.get("reps", 0), row.get("scored_reps", 0)
        out.append(
            {
                "day": str(day),  # YYYY-MM-DD
                "reps": reps,
                "sets": row.get("sets", 0),
                "scored_reps": scored,
                "score_sum": row.get("score_sum", 0.0),
                "mean_score": round(row["score_sum"] / scored, 1) if scored else None,
                "minutes": round(row.get("set_seconds", 0.0) / 60, 1),
                "faults": {c: n for c, n in sorted(codes.get(day, {}).items())},
            }
        )
    return out


def _window(series: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole window's totals: reps, sets, minutes, mean score, fault rates."""
    reps = sum(d["reps"] for d in series)
    scored = sum(d["scored_reps"] for d in series)
    score_sum = sum(d["score_sum"] for d in series)
    faults: dict[str, int] = {}
    for day in series:
        for code, n in day["faults"].items():
            faults[code] = faults.get(code, 0) + n
    return {
        "reps": reps,
        "sets": sum(d["sets"] for d in series),
        "minutes": round(sum(d["minutes"] for d in series), 1),
        "mean_score": round(score_sum / scored, 1) if scored else None,
        "fault_rates": {
            c: round(n / reps, 3) for c, n in sorted(faults.items(), key=lambda kv: -kv[1])
        }
        if reps
        else {},
    }


def _iso(moment: datetime | None) -> str | None:
    return iso(moment.timestamp()) if moment is not None else None
