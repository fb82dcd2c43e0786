"""An RTSP camera on loopback sending a clip's H.264/H.265 as it is, for benchmarks.

    with encoded_rtsp(Path("cam.mp4")) as url:   # rtsp://127.0.0.1:PORT/cam
        ...                                      # any number of clients, each from frame 0

devkit/rtsp_server.py --encoded under the system Python (it needs PyGObject and Debian's
GStreamer RTSP server: `make system-deps`); nothing is decoded or re-encoded, so the server
costs next to nothing and a client's CPU is its own decoding. The tests' freezable servers
(tests/servers/streams.py) run the same script.
"""

from __future__ import annotations

import selectors
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devkit.broker import free_port

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("rtsp_server.py")
START_TIMEOUT_S = 60.0  # reading a 1080p clip's access units takes a few seconds


@contextmanager
def encoded_rtsp(clip: Path) -> Iterator[str]:
    """Serves `clip` (MP4, H.264 or H.265, no B-frames) in a loop; yields its URL."""
    port = free_port()
    command = [SYSTEM_PYTHON, str(SCRIPT), "--port", str(port), "--clip", str(clip), "--encoded"]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_S):
                raise RuntimeError(f"RTSP server for {clip} silent for {START_TIMEOUT_S} s")
        line = proc.stdout.readline().decode(errors="replace").strip()
        if not line.startswith("ready "):
            raise RuntimeError(f"RTSP server for {clip} did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.kill()
        proc.wait(10)
