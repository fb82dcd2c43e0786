"""`make run` (tools/run_demo.sh): the daemon on its embedded default plus an event printer.

Its user has no config file and a terminal: a taken port must end it at once with the
command to type instead, and Ctrl-C must end it cleanly (exit 0) after the set it closes
was printed. The demo clip is replaced by the swing clip through the environment, as a
user could; a stand-in file in the cache keeps the demo clip from being rendered.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from devkit.broker import free_port, port_accepts, skip_reason
from devkit.daemon import wait_for
from edge.synth.clip import truth_path
from edge.synth.demo import DEMO_CLIP_NAME

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "run_demo.sh"
pytestmark = pytest.mark.server  # the daemon as a process, with a mosquitto of its own


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """The script's environment: free ports, a cache of its own (the clip never rendered)."""
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    if not (ROOT / ".venv" / "bin" / "hinge-edge").is_file():
        pytest.skip("tools/run_demo.sh runs .venv/bin/hinge-edge: `make setup` first")
    clip = tmp_path / "cache" / "hinge-edge" / DEMO_CLIP_NAME
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"")  # present, so not rendered; the camera reads another source
    truth_path(clip).write_text("{}")
    return dict(os.environ) | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HINGE_EDGE_MQTT__PORT": str(free_port()),
        "HINGE_EDGE_WEB__HOST": "127.0.0.1",
        "HINGE_EDGE_WEB__PORT": str(free_port()),
    }


def test_a_taken_port_ends_it_at_once_with_the_command_to_type(demo_env):
    with socket.socket() as taken:  # listening and silent: not our broker
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            ["bash", str(SCRIPT)],
            env=demo_env | {"HINGE_EDGE_MQTT__PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - started < 30
    assert f"HINGE_EDGE_MQTT__PORT={port + 1} make run" in done.stderr  # the script's hint
    assert f"HINGE_EDGE_MQTT__PORT={port + 1})" in done.stderr  # and the daemon's own
    assert "Traceback" not in done.stderr


def test_ctrl_c_prints_the_set_it_closes_and_exits_0(demo_env, swing_clip, tmp_path):
    env = demo_env | {
        "HINGE_EDGE_CAMERAS__DEMO__SOURCE": str(swing_clip.path),
        "HINGE_EDGE_CAMERAS__DEMO__EXERCISE": "swing",
        "HINGE_EDGE_CAMERAS__DEMO__ANALYSIS_FPS": "10",
    }
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        # Its own process group, which Ctrl-C in a terminal signals as a whole.
        proc = subprocess.Popen(["bash", str(SCRIPT)], env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: "hinge/demo/rep " in out.read_text(), 90.0, "a printed rep",
                 lambda: out.read_text() + err.read_text())  # fmt: skip
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(30) == 0, err.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    printed = [line.split(" ", 1) for line in out.read_text().splitlines() if " {" in line]
    events = [(topic, json.loads(payload)) for topic, payload in printed]
    reps = [e["id"] for topic, e in events if topic == "hinge/demo/rep" and e["event"] == "rep"]
    sets = [e for topic, e in events if topic == "hinge/demo/set"]
    assert sets and sorted(sets[-1]["rep_ids"]) == sorted(reps)  # one set, closed at the stop
    assert not port_accepts(int(env["HINGE_EDGE_MQTT__PORT"])), "the local broker outlived it"
    assert "Traceback" not in err.read_text()
