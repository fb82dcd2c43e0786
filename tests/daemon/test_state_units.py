"""The daemon's own bookkeeping, without cameras or a broker."""

import signal
import threading
import time
from collections import deque
from dataclasses import replace

from edge.contract import Fault, LoweringMetrics
from edge.daemon.app import Daemon
from edge.settings import default_settings
from tests.contract.samples import REP, UPDATE


def test_a_rep_update_is_applied_to_the_rep_history(tmp_path):
    daemon = Daemon(default_settings(tmp_path / "clip.mp4", tmp_path / "spool"))
    daemon._reps["demo"] = deque(maxlen=5)
    rep = replace(REP, id="demo-r-1-1", score=90.0, faults=(), camera=None)
    rep = replace(rep, metrics=replace(rep.metrics, eccentric_s=None, pause_s=None))
    update = replace(
        UPDATE,
        id="demo-r-1-1-lowering",
        rep_id="demo-r-1-1",
        score=80.0,
        faults=(Fault("rushed_eccentric", 0.5, "Lower slower"),),
        metrics=LoweringMetrics(0.3, 0.1),
        camera=None,
    )
    daemon.on_event("demo", rep, 0.0)
    daemon.on_event("demo", update, 0.0)
    (kept,) = daemon._reps["demo"]
    assert kept.score == 80.0 and kept.camera == "demo" and kept.frame_ts is not None
    assert [f.code for f in kept.faults] == ["rushed_eccentric"]
    assert (kept.metrics.depth_norm, kept.metrics.eccentric_s, kept.metrics.pause_s) == (
        rep.metrics.depth_norm,
        0.3,
        0.1,
    )
    assert rep.metrics.eccentric_s is None  # what was emitted stays as it was


def test_run_stops_on_a_signal_that_another_thread_received(tmp_path, monkeypatch):
    """The kernel hands a process's signal to any of its threads; `run()` still stops."""
    daemon = Daemon(default_settings(tmp_path / "clip.mp4", tmp_path / "spool"))
    monkeypatch.setattr(daemon, "start", lambda: None)
    stopped = []
    monkeypatch.setattr(daemon, "stop", lambda: stopped.append(time.monotonic()))

    def camera_thread() -> None:
        time.sleep(0.2)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
        time.sleep(5.0)
        daemon.stop_event.set()  # the test's own way out, were the signal slept through

    previous = signal.signal(signal.SIGUSR1, lambda *_: daemon.request_stop())
    try:
        threading.Thread(target=camera_thread, daemon=True).start()
        started = time.monotonic()
        daemon.run()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(stopped) == 1 and stopped[0] - started < 2.0
