"""The report opens in headless Chromium (Debian's `chromium`) without an error."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from devkit.chromium import CHROMIUM, HEADLESS_FLAGS
from edge.report.svg import CHARTS
from tests.report.pages import parse_page

pytestmark = [
    pytest.mark.model,  # the report comes from a real replay
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
]
FLAGS = [
    *HEADLESS_FLAGS,
    "--enable-logging=stderr",  # console messages and uncaught errors, as INFO:CONSOLE lines
    "--v=0",
]
# Appended to a copy of the page: Chromium logs no console line for a file:// picture that
# fails to load, so the page is asked what it shows once everything has loaded.
PROBE = """<pre id="probe">pending</pre><script>
const video = document.querySelector('video');
const state = {images: null, charts: null, video: 'pending'};
function show() {
  if (state.images !== null && state.video !== 'pending') {
    document.getElementById('probe').textContent = JSON.stringify(state);
  }
}
function videoLoaded() { state.video = [video.videoWidth, video.videoHeight]; show(); }
if (video.readyState >= 2) videoLoaded();
video.addEventListener('loadeddata', videoLoaded);
video.addEventListener('error', () => { state.video = 'error ' + video.error.code; show(); });
window.addEventListener('load', () => {
  state.images = [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth,
                                                i.naturalHeight]);
  state.charts = [...document.querySelectorAll('svg.chart')].map(
    s => Math.round(s.getBoundingClientRect().width));
  show();
});
</script>"""


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def probe(report: Path, tmp_path: Path) -> dict:
    """What a copy of the report shows in Chromium once loaded (pictures, charts, video)."""
    page = report / "probe.html"
    html = (report / "index.html").read_text(encoding="utf-8")
    html = html.replace('preload="metadata"', 'preload="auto"')  # so that it loads a frame
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = chromium(page, tmp_path / "probe", "--virtual-time-budget=10000", "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1) != "pending", done.stdout[-1000:]
    assert console_lines(done.stderr) == []
    return json.loads(found.group(1))


def test_the_report_opens_with_its_table_and_charts_and_no_error(replay_run, tmp_path):
    done = chromium(replay_run.report / "index.html", tmp_path / "p", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_lines(done.stderr) == []
    dom = tmp_path / "dom.html"
    dom.write_text(done.stdout, encoding="utf-8")
    page = parse_page(dom)
    reps = [e["id"] for e in replay_run.events if e["event"] == "rep"]
    assert [r.attrs["data-rep"] for r in page.find("tr", "rep-row")] == reps
    assert len(page.find("svg", "chart")) == len(CHARTS)
    assert len(page.find("path", "trace")) == len(CHARTS)
    assert len(page.find("line", "mark")) == 3 * len(reps) * len(CHARTS)


def test_every_picture_chart_and_the_video_show_in_chromium(replay_run, tmp_path):
    copy = tmp_path / "report"
    shutil.copytree(replay_run.report, copy)
    shown = probe(copy, tmp_path)
    size = replay_run.truth["frame_size"]
    reps = sum(1 for e in replay_run.events if e["event"] == "rep")
    assert len(shown["images"]) == 2 * reps
    assert all([width, height] == size for _, width, height in shown["images"])
    assert len(shown["charts"]) == len(CHARTS) and min(shown["charts"]) > 500
    assert shown["video"] == size  # VP9 in MP4: Chromium decodes it


def test_the_probe_sees_a_missing_picture(replay_run, tmp_path):
    """The check above can fail: a key frame deleted from the folder shows as not loaded."""
    copy = tmp_path / "report"
    shutil.copytree(replay_run.report, copy)
    missing = sorted((copy / "keyframes").glob("*.png"))[0]
    missing.unlink()
    shown = probe(copy, tmp_path)
    broken = [src for src, width, _ in shown["images"] if width == 0]
    assert broken == [f"keyframes/{missing.name}"]
