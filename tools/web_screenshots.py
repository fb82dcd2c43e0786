"""Screenshots of the trainers' dashboard and a platform's display, for docs/screenshots/.

Renders two short sets (RDLs with the knees pushed forward, clean kettlebell swings),
runs the real daemon (`python -m edge run`) on them with a real mosquitto and a third
camera that cannot be reached (to show a camera DOWN), opens both pages in headless
Debian Chromium and captures them while the first set is still going, with the still of
its last rep shown.

    .venv/bin/python -m tools.web_screenshots [--out docs/screenshots]

Needs chromium and mosquitto (apt). About a minute, most of it rendering.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from devkit.broker import Mosquitto
from devkit.browser import Browser, missing_chromium
from devkit.daemon import PageDaemon
from edge.synth.clip import ClipCamera, render_clip
from edge.synth.motion import MotionSpec

ROOT = Path(__file__).resolve().parents[1]
CAMERA = ClipCamera(width_px=640, height_px=360, focal_px=450.0, fps=15.0)
SETS = {
    "platform-1": MotionSpec(exercise="rdl", reps=6, faults={"knee_dominant": 0.7}, tail_s=6.0),
    "platform-2": MotionSpec(exercise="swing", reps=8, tail_s=6.0),
}
SHOT_AT_REP = 4  # platform-1's rep count when the pictures are taken


def render(folder: Path) -> dict[str, Path]:
    """The clips of `SETS`, rendered into `folder`."""
    clips = {}
    for camera_id, spec in SETS.items():
        clips[camera_id] = folder / f"{camera_id}.mp4"
        print(f"rendering {camera_id} ({spec.exercise}, {spec.reps} reps)", file=sys.stderr)
        render_clip(spec, CAMERA, clips[camera_id], seed=3)
    return clips


def cameras(clips: dict[str, Path]) -> dict[str, dict]:
    """The daemon's cameras: the two sets, and one whose RTSP address answers nothing."""
    return {
        "platform-1": {"source": str(clips["platform-1"]), "exercise": "rdl", "images": True},
        "platform-2": {"source": str(clips["platform-2"]), "exercise": "swing"},
        "platform-3": {"source": "rtsp://127.0.0.1:9/cam", "open_timeout_s": 1},
    }


def shoot(daemon: PageDaemon, profile: Path, out: Path) -> None:
    """Opens both pages, waits for the moment, writes the two PNGs."""
    with Browser(profile) as browser:
        display = browser.page(daemon.display_link("platform-1"), 1280, 720)
        dashboard = daemon.sign_in(browser, "/", 1280, 1040)
        display.wait_for(f"Number(document.querySelector('#reps').innerText) >= {SHOT_AT_REP}", 90)
        for page in (display, dashboard):
            page.wait_for(
                "[...document.images].filter(i => i.offsetParent !== null)"
                ".every(i => i.complete && i.naturalWidth > 0)"
                " && [...document.images].some(i => i.offsetParent !== null)",
                10,
            )
        display.wait_for("document.querySelector('#presence').innerText.includes('Athlete on')")
        out.mkdir(parents=True, exist_ok=True)
        display.screenshot(out / "display.png")
        dashboard.screenshot(out / "dashboard.png")
        errors = display.errors() + dashboard.errors()
        if errors:
            raise SystemExit(f"the pages reported errors: {errors}")


def main() -> int:
    """Renders, runs, shoots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if (reason := missing_chromium()) is not None:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="web-shots-") as tmp:
        folder = Path(tmp)
        clips = render(folder)
        with Mosquitto(folder / "mosquitto") as broker:
            pose = {"pose": {"workers": 2}}  # both cores: the pages are shot at full rate
            daemon = PageDaemon(folder, cameras(clips), broker.port, pose)
            try:
                daemon.start()
                shoot(daemon, folder / "chromium", args.out)
            finally:
                daemon.stop()
    print(f"wrote {args.out / 'dashboard.png'} and {args.out / 'display.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
