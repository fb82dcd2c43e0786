"""The web port holds under abuse, inside the deployment's own pid limit.

The real daemon as a process (a looping clip, its pose stage replaying the clip's true
landmarks, a real mosquitto), started inside a pids cgroup of 256 (deploy/compose.yaml's
`pids: 256`) where this machine lets the test make one (cgroup v1 or v2, as root); else
under `RLIMIT_NPROC` 256, which counts every process and thread of the user and which
root is exempt from, so there the thread count measured below is the evidence. Against
it, for `HINGE_ABUSE_S` seconds (default 20; the issue's figure is 60):

- 300 half-open connections (a request line and one header, then silence), each reopened
  as soon as the server closes it, as an attacker would;
- 500 event-stream clients, signed in, reading every message;
- a health probe every 0.25 s, as the container's health check, on a new connection,
  from the moment the daemon holds all 500 streams (their sign-in burst is not the load).

It asserts that every probe answered 200 within 100 ms, that rep events kept coming over
MQTT and on every stream, that half-open connections were closed by the server, and that
the daemon's threads and memory stayed bounded. The figures are printed (`-s`).
"""

from __future__ import annotations

import http.client
import itertools
import os
import resource
import selectors
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devkit.broker import Collector
from devkit.daemon import wait_for
from edge.daemon.app import rss_mb

HOLD_S = float(os.environ.get("HINGE_ABUSE_S", "20"))
HALF_OPEN = 300
STREAMS = 500
PIDS_MAX = 256  # deploy/compose.yaml
HEALTH_WITHIN_S = 0.100
PROBE_EVERY_S = 0.25
RSS_LIMIT_MB = 512  # the compose limit is 1536M: a third of it
THREADS_LIMIT = 64
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def pid_limit(name: str) -> tuple[str, Callable[[], None], Callable[[], None]]:
    """(what limits the child, the child's preexec function, the clean-up)."""
    for root in CGROUP_ROOTS:
        group = root / name
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(PIDS_MAX))
        except OSError:
            if group.is_dir():
                group.rmdir()
            continue
        procs = group / "cgroup.procs"

        def enter(procs: Path = procs) -> None:
            procs.write_text(str(os.getpid()))

        def remove(group: Path = group) -> None:
            for _ in range(50):
                try:
                    group.rmdir()
                    return
                except OSError:
                    time.sleep(0.1)

        return f"pids cgroup {group} (pids.max {PIDS_MAX})", enter, remove

    def nproc() -> None:
        resource.setrlimit(resource.RLIMIT_NPROC, (PIDS_MAX, PIDS_MAX))

    exempt = " (not enforced: root is exempt)" if os.geteuid() == 0 else ""
    return f"RLIMIT_NPROC {PIDS_MAX}{exempt}", nproc, lambda: None


class Load:
    """The half-open connections and the event streams, served by one selector thread."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.selector = selectors.DefaultSelector()
        self.reps = [0] * STREAMS  # rep events each stream delivered
        self.half_open_closed = 0  # by the server (its idle timeout)
        self.streams_closed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="load", daemon=True)

    def open(self) -> None:
        for _ in range(HALF_OPEN):
            self._half_open()
        for i in range(STREAMS):
            sock = self._connect()
            head = f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            sock.sendall(head.encode() + b"\r\n")
            self.selector.register(sock, selectors.EVENT_READ, i)
        self.thread.start()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.setblocking(False)
        return sock

    def _half_open(self) -> None:
        sock = self._connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
        self.selector.register(sock, selectors.EVENT_READ, None)

    def _run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(0.2):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    data = b""
                if data:
                    if key.data is not None:
                        self.reps[key.data] += data.count(b"event: rep\n")
                    continue
                self.selector.unregister(sock)
                sock.close()
                if key.data is None:
                    self.half_open_closed += 1
                    self._half_open()
                else:
                    self.streams_closed += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def probe(port: int) -> tuple[int, float]:
    """(status, seconds) of one GET /healthz on a new connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - started


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    what, enter, remove = pid_limit(f"hinge-abuse-{os.getpid()}-{tmp_path.name}")
    yield what, enter
    remove()


@pytest.mark.slow
def test_the_web_port_holds_under_abuse(swing_clip, daemon_factory, mosquitto, limited):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2 * (HALF_OPEN + STREAMS):
        pytest.skip(f"needs {2 * (HALF_OPEN + STREAMS)} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2 * (HALF_OPEN + STREAMS)), hard))
    limit, enter = limited
    clip, _ = swing_clip
    camera = {"source": str(clip), "exercise": "swing", "loop": True}
    daemon = daemon_factory({"platform-1": camera})
    daemon.preexec = enter
    reps = Collector(mosquitto.port, "hinge/+/rep").wait_subscribed()
    daemon.start()
    pid = daemon.proc.pid  # type: ignore[union-attr]
    assert daemon.login() == 200
    cookie = "; ".join(f"{c.name}={c.value}" for c in daemon.cookies)
    baseline_rss = rss_mb(pid)

    load = Load(daemon.web_port, cookie)
    load.open()
    # Held, not being opened: the daemon has taken every stream in (the 500 sign-in
    # handshakes are a burst of their own, over in well under a second).
    wait_for(
        lambda: daemon.health()["web"]["event_streams"] == STREAMS,
        30.0,
        f"the daemon holds {STREAMS} event streams",
        daemon.log,
    )
    probes: list[tuple[int, float]] = []
    rss: list[float] = []
    threads: list[int] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < HOLD_S:
            probes.append(probe(daemon.web_port))
            rss.append(rss_mb(pid))
            threads.append(threads_of(pid))
            time.sleep(PROBE_EVERY_S)
        held_s = time.monotonic() - started
        health = daemon.health()
    finally:
        load.close()
    messages = reps.collect(lambda: False, 0.2)
    reps.close()

    latencies = [s for _, s in probes]
    arrivals = sorted(m.timestamp for m in messages)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    print(
        f"\nabuse: {limit}; held {held_s:.0f} s: {HALF_OPEN} half-open (closed by the server "
        f"{load.half_open_closed} times), {STREAMS} streams ({load.streams_closed} closed); "
        f"/healthz {len(probes)} probes, p50 {statistics.median(latencies) * 1e3:.1f} ms, "
        f"max {max(latencies) * 1e3:.1f} ms; {len(messages)} reps over MQTT (longest gap "
        f"{max(gaps, default=0):.1f} s), per stream min {min(load.reps)} max {max(load.reps)}; "
        f"daemon threads max {max(threads)}, RSS {baseline_rss:.0f} MB before, max "
        f"{max(rss):.0f} MB, last {rss[-1]:.0f} MB; web {health['web']}"
    )
    assert all(status == 200 for status, _ in probes), probes
    assert max(latencies) < HEALTH_WITHIN_S, sorted(latencies)[-5:]
    assert len(messages) >= held_s / 7.0 and max(gaps) < 10.0, arrivals  # 3 reps per 7 s loop
    assert min(load.reps) >= 1 and load.streams_closed == 0
    assert health["web"]["event_streams"] == STREAMS
    if held_s > 15.0 + 2:  # web.idle_timeout_s: every half-open connection was closed
        assert load.half_open_closed >= HALF_OPEN
    assert max(threads) < THREADS_LIMIT and max(rss) < RSS_LIMIT_MB
    assert daemon.running and "Traceback" not in daemon.log()
