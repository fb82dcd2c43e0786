"""The chain dashboard's pages in headless Chromium, on a real PostgreSQL, with a chain's data.

Two gyms: `north` with two boxes of four platforms each and two weeks of history,
`harbour` with a box up and one whose link was cut. What a person sees is checked
(`innerText`, the tiles' health, the charts' bars); a box going offline turns exactly its
tiles DOWN on the gym's floor view at the next refresh.

The screenshots go to a temporary folder, or, with
`HINGE_CHAIN_SCREENSHOTS=docs/screenshots`, to the docs:
    HINGE_CHAIN_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/hub/test_web_pages.py
"""

from __future__ import annotations

import json
import os
import random
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devkit.browser import Browser, Page
from edge.hub.views import LATEST_REPS
from edge.hub.web import HubWeb, HubWebConfig
from tests.hub.test_web import PASSWORD, ChainWriter, chain_db, make_users

FLOOR = {"box-a": ("p1", "p2", "p3", "p4"), "box-b": ("p5", "p6", "p7", "p8")}
EXERCISES = ("rdl", "deadlift", "swing", "good_morning", "rdl", "single_leg_rdl", "rdl", "swing")
FAULT_ODDS = {  # chance per rep, on a platform with a beginner on it
    "knee_dominant": 0.18,
    "spine_flexion": 0.09,
    "rushed_eccentric": 0.12,
    "incomplete_lockout": 0.06,
    "head_extension": 0.04,
}
DAYS = 14


def write_day(writer: ChainWriter, where: tuple[str, str, str], day: datetime, rng) -> int:
    """One platform's day from `day` on: sets of 5-8 reps, scores improving over the fortnight.

    Returns the reps written (sets that would start in the future are left out).
    """
    progress = 1 - (datetime.now(UTC) - day).days / DAYS  # 0 two weeks ago, 1 today
    reps = 0
    for set_no in range(1, rng.randint(3, 9)):
        start = day + timedelta(minutes=set_no * 9)
        count = rng.randint(5, 8)
        end = start + timedelta(seconds=count * 6 + 2)
        if end > datetime.now(UTC):
            break
        for rep in range(1, count + 1):
            faults = tuple(c for c, p in FAULT_ODDS.items() if rng.random() < p * (1.4 - progress))
            score = min(99.0, rng.gauss(70 + 14 * progress - 9 * len(faults), 5))
            writer.rep(where, start + timedelta(seconds=rep * 6), set_no, rep, score, faults)
        writer.set(where, end, set_no, count * 6.0)
        reps += count
    return reps


def fill_chain(writer: ChainWriter) -> dict[str, int]:
    """The chain of the screenshots; returns north's reps today by platform."""
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    today = {}
    for index, (box, cameras) in enumerate(FLOOR.items()):
        writer.box("north", box, seen=now - timedelta(seconds=3 + index))
        for number, camera in enumerate(cameras):
            writer.exercise = EXERCISES[number + 4 * index]
            where = ("north", box, camera)
            for back in range(DAYS - 1, 0, -1):
                write_day(writer, where, midnight - timedelta(days=back, hours=-16), rng)
            start = max(midnight, now - timedelta(minutes=80 + 5 * number))
            today[camera] = write_day(writer, where, start, rng)
            present = number % 2 == 0
            live = {"athlete_present": present, "phase": "descending" if present else "absent"}
            live |= {"exercise": writer.exercise, "set_id": f"{camera}-run1-9" if present else None}
            live |= {"reps_in_set": 3 if present else 0, "last_rep": None}
            writer.camera("north", box, camera, quality="degraded" if camera == "p7" else "good",
                          state=live)  # fmt: skip
    writer.box("harbour", "box-1", seen=now - timedelta(seconds=2))
    for camera in ("p1", "p2", "p3"):
        writer.camera("harbour", "box-1", camera, stream="stalled" if camera == "p3" else "online")
    writer.box("harbour", "box-2", status="offline", seen=now - timedelta(minutes=7))
    for camera in ("p4", "p5"):
        writer.camera("harbour", "box-2", camera)
    return today


def sign_in(browser: Browser, base: str, path: str) -> Page:
    """A page signed in as admin through the login form, showing `path`."""
    page = browser.page(f"{base}/login?next={urllib.parse.quote(path)}", 1400, 1000)
    page.wait_for("document.readyState === 'complete' && !!document.forms[0]")
    page.evaluate(
        "(() => { const f = document.forms[0]; f.user.value = 'admin';"
        f" f.password.value = {json.dumps(PASSWORD)}; f.submit(); }})()"
    )
    page.wait_for(f"location.pathname === {json.dumps(path)}")
    return page


def health_of(page: Page, selector: str) -> dict[str, str]:
    """camera (box/camera) -> data-health of the tiles matching `selector`."""
    return page.evaluate(
        f"Object.fromEntries([...document.querySelectorAll({json.dumps(selector)})]"
        ".map(t => [t.dataset.box + '/' + t.dataset.camera, t.dataset.health]))"
    )


def shots_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("HINGE_CHAIN_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_the_chain_pages_in_a_browser(hub_dsn, browser, tmp_path):
    out = shots_dir(tmp_path)
    with chain_db(hub_dsn) as writer:
        with writer.conn.transaction():
            today = fill_chain(writer)
        server = HubWeb(HubWebConfig(port=0, refresh_s=1), hub_dsn, make_users(tmp_path))
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        try:
            pages = [
                overview_page(sign_in(browser, base, "/"), out),
                floor_page(sign_in(browser, base, "/gym/north"), writer, today["p1"], out),
                history_page(sign_in(browser, base, "/platform/north/p1"), today["p1"], out),
            ]
        finally:
            server.stop()
    for page in pages:
        assert page.errors() == []


def overview_page(page: Page, out: Path) -> Page:
    """Both gyms, every box, every camera; harbour's cut box and stalled camera DOWN."""
    page.wait_for("document.querySelectorAll('article.cam').length === 13")
    north = health_of(page, "section.gym[data-gym=north] article.cam")
    assert len(north) == 8 and set(north.values()) == {"up"}
    harbour = health_of(page, "section.gym[data-gym=harbour] article.cam")
    assert harbour == {
        "box-1/p1": "up",
        "box-1/p2": "up",
        "box-1/p3": "down",
        "box-2/p4": "down",
        "box-2/p5": "down",
    }
    assert "DOWN: box box-2 offline" in page.text("div.box[data-box='box-2']")
    assert "2 gyms · 4 boxes · 13 cameras · 10 up · 3 down" in page.text("#meta")
    page.screenshot(out / "chain-overview.png")
    return page


def floor_page(page: Page, writer: ChainWriter, p1_today: int, out: Path) -> Page:
    """North's floor: both boxes' platforms; box-b's daemon gone turns exactly its tiles DOWN."""
    page.wait_for("document.querySelectorAll('article.tile').length === 8")
    assert set(health_of(page, "article.tile").values()) == {"up"}
    p1 = page.text("article.tile[data-camera=p1]")
    assert "box box-a" in p1 and f"{p1_today} reps" in p1
    rows = page.evaluate(
        "document.querySelectorAll('article.tile[data-camera=p1] tr.rep-row').length"
    )
    assert rows == min(p1_today, LATEST_REPS)
    page.screenshot(out / "chain-gym.png")

    writer.box("north", "box-b", status="offline")  # its last will, as the broker sends it
    page.wait_for("document.querySelectorAll('article.tile.down').length === 4", timeout_s=10)
    down = {k for k, v in health_of(page, "article.tile").items() if v == "down"}
    assert down == {"box-b/p5", "box-b/p6", "box-b/p7", "box-b/p8"}
    assert "DOWN: box box-b offline" in page.text("article.tile[data-camera=p6]")
    return page


def history_page(page: Page, p1_today: int, out: Path) -> Page:
    """Two weeks of bars, the score trend, the fault mix and today's reps."""
    page.wait_for(f"document.querySelectorAll('table.today-reps tr.rep-row').length === {p1_today}")
    bars = page.evaluate(
        "[...document.querySelectorAll('svg.chart rect.bar.reps:not(.minutes)')]"
        ".map(b => Number(b.dataset.value))"
    )
    assert len(bars) == DAYS and bars[-1] == p1_today and all(bars)
    assert page.evaluate("document.querySelectorAll('svg.chart circle.point').length") == DAYS
    assert page.evaluate("document.querySelectorAll('svg.chart rect.bar.fault').length") >= 4
    assert page.text(".today-count") == str(p1_today)
    page.screenshot(out / "chain-platform.png")
    return page
