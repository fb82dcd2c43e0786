"""Local camera streams for tests: HTTP MJPEG from ffmpeg, RTSP from gst-rtsp-server.

    with mjpeg_server(clip) as cam:      # cam.url == "http://127.0.0.1:PORT/cam.mjpg"
        cam.freeze(); cam.thaw()         # SIGSTOP / SIGCONT: a camera that hangs
        cam.kill(); cam.restart()        # a camera that goes away and comes back
    with rtsp_server(clip) as cam:       # or rtsp_server() for a live test pattern
        ...

Both listen on 127.0.0.1 only, on a free port, and are killed on exit (even frozen).
`missing_rtsp()` / `missing_ffmpeg()` tell a test why it must skip; `write_test_clip` makes
a small synthetic clip (a square moving across a dark frame); `wait_until` polls.
"""

from __future__ import annotations

import functools
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

import devkit

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SCRIPT = Path(devkit.__file__).with_name("rtsp_server.py")
START_TIMEOUT_S = 20.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (bind port 0, read it, close)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_test_clip(
    path: Path, seconds: float = 3.0, fps: float = 20.0, size: tuple[int, int] = (160, 120)
) -> Path:
    """Writes an mp4 (MPEG-4 part 2) of a yellow square moving right by 4 px a frame."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for index in range(round(seconds * fps)):
        image = np.full((height, width, 3), 30, np.uint8)
        x = (index * 4) % (width - 20)
        image[height // 2 - 10 : height // 2 + 10, x : x + 20] = (0, 255, 255)
        writer.write(image)
    writer.release()
    return path


def missing_ffmpeg() -> str | None:
    """Why the ffmpeg-based server cannot run here, or None."""
    return None if shutil.which("ffmpeg") else "ffmpeg not installed (apt-get install ffmpeg)"


@functools.cache
def missing_rtsp() -> str | None:
    """Why the RTSP server cannot run here, or None (asks the script under system Python)."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (the RTSP server needs the system Python with gi)"
    done = subprocess.run(
        [SYSTEM_PYTHON, str(RTSP_SCRIPT), "--check"], capture_output=True, text=True, timeout=30
    )
    if done.returncode == 0:
        return None
    return (
        f"RTSP test server unavailable ({(done.stdout + done.stderr).strip()}); install "
        "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly gstreamer1.0-libav"
    )


def _serving(port: int) -> bool:
    """True if something listens on the TCP port or has a client on it (read from /proc).

    `ffmpeg -listen 1` stops listening once a client connects; a reader retrying fast can
    connect before a poll sees the listening socket, hence the established state too.
    """
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] in ("0A", "01"):
                return True
    return False


class _Served:
    """A server process with freeze / thaw / kill / restart; subclasses say how to launch."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = ""
        self._workdir = workdir
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._up = False
        self._launches = 0

    @property
    def pid(self) -> int | None:
        """Process id of the current server process."""
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    @property
    def launches(self) -> int:
        """How many server processes were started so far."""
        return self._launches

    def log(self) -> str:
        """The server's stderr so far (for assertion messages)."""
        return "".join(p.read_text(errors="replace") for p in sorted(self._workdir.glob("*.log")))

    def freeze(self) -> None:
        """SIGSTOP: the connection stays open but nothing more comes (a hung camera)."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after `freeze`."""
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """Kills the server (connections drop; nothing listens until `restart`)."""
        with self._lock:
            self._up = False
            proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()  # SIGKILL works on a stopped process too
            proc.wait(10)

    def restart(self) -> None:
        """Starts the server again (after `kill`), on the same port."""
        self.kill()
        with self._lock:
            self._up = True
            self._proc = self._launch()
        self._wait_ready()

    def close(self) -> None:
        """Kills the server for good."""
        self.kill()

    def _signal(self, sig: signal.Signals) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                os.kill(self._proc.pid, sig)

    def _stderr(self) -> int:
        self._launches += 1
        path = self._workdir / f"server-{self._launches:03d}.log"
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def _launch(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _wait_ready(self) -> None:
        raise NotImplementedError


class MjpegServer(_Served):
    """ffmpeg serving a clip in an endless loop as HTTP multipart JPEG at its own frame rate.

    `ffmpeg -listen 1` serves one client and exits when it leaves; a supervisor thread
    starts it again at once, so a reader that reconnects finds it (as with a real camera).
    """

    def __init__(self, clip: Path, workdir: Path) -> None:
        super().__init__(workdir)
        self.clip = clip
        self.url = f"http://127.0.0.1:{self.port}/cam.mjpg"
        self._closed = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="mjpeg-server", daemon=True
        )

    def start(self) -> None:
        """Starts ffmpeg and its supervisor; returns once the port listens."""
        self.restart()
        self._supervisor.start()

    def close(self) -> None:
        """Stops the supervisor and kills ffmpeg."""
        self._closed.set()
        self.kill()
        self._supervisor.join(10)

    def _launch(self) -> subprocess.Popen[bytes]:
        command = [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-re", "-stream_loop", "-1", "-i", str(self.clip),
            "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1", self.url,
        ]  # fmt: skip
        stderr = self._stderr()
        try:
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        finally:
            os.close(stderr)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _serving(self.port):
            with self._lock:
                proc = self._proc
            if proc is None or proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ffmpeg MJPEG server did not start: {self.log()[-2000:]}")
            time.sleep(0.02)

    def _supervise(self) -> None:
        while not self._closed.wait(0.05):
            with self._lock:
                ended = self._up and self._proc is not None and self._proc.poll() is not None
                if ended:
                    self._proc = self._launch()


class RtspServer(_Served):
    """devkit/rtsp_server.py under the system Python: RTSP H.264 at rtsp://.../cam."""

    def __init__(self, clip: Path | None, workdir: Path, encoded: bool = False) -> None:
        super().__init__(workdir)
        self.clip = clip
        self.encoded = encoded  # send the clip's own H.264/H.265, not re-encoded
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> None:
        """Starts the server; returns once it listens."""
        self.restart()

    def _launch(self) -> subprocess.Popen[bytes]:
        command = [SYSTEM_PYTHON, str(RTSP_SCRIPT), "--port", str(self.port)]
        if self.clip is not None:
            command += ["--clip", str(self.clip)] + (["--encoded"] if self.encoded else [])
        stderr = self._stderr()
        try:
            return subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
            )
        finally:
            os.close(stderr)

    def _wait_ready(self) -> None:
        with self._lock:
            proc = self._proc
        assert proc is not None and proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_S):
                raise RuntimeError(f"RTSP server silent for {START_TIMEOUT_S} s: {self.log()}")
        line = proc.stdout.readline().decode(errors="replace")
        if not line.startswith("ready"):
            raise RuntimeError(f"RTSP server did not start ({line.strip()}): {self.log()}")


@contextmanager
def mjpeg_server(clip: Path) -> Iterator[MjpegServer]:
    """Serves `clip` in a loop as HTTP MJPEG on a free local port (see `MjpegServer`)."""
    with tempfile.TemporaryDirectory(prefix="mjpeg-") as workdir:
        server = MjpegServer(clip, Path(workdir))
        try:
            server.start()
            yield server
        finally:
            server.close()


@contextmanager
def rtsp_server(clip: Path | None = None, encoded: bool = False) -> Iterator[RtspServer]:
    """Serves `clip` in a loop (None: a live test pattern) over RTSP on a free local port.

    `encoded`: send the clip's own H.264/H.265 access units (see devkit/rtsp_server.py).
    """
    with tempfile.TemporaryDirectory(prefix="rtsp-") as workdir:
        server = RtspServer(clip, Path(workdir), encoded)
        try:
            server.start()
            yield server
        finally:
            server.close()


def wait_until(predicate: Callable[[], object], timeout_s: float, period_s: float = 0.02) -> bool:
    """Polls `predicate()` until it is true (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(period_s)
