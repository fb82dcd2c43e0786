"""The daemon's own bookkeeping, without cameras or a broker."""

from collections import deque

from edge.daemon.app import Daemon
from edge.settings import default_settings


def test_a_rep_update_is_applied_to_the_rep_history(tmp_path):
    daemon = Daemon(default_settings(tmp_path / "clip.mp4", tmp_path / "spool"))
    daemon._reps["demo"] = deque(maxlen=5)
    rep = {
        "event": "rep",
        "id": "demo-r-1-1",
        "rep": 1,
        "exercise": "deadlift",
        "score": 90.0,
        "cue": "Good rep",
        "faults": [],
        "metrics": {"depth_norm": 0.4, "eccentric_s": None},
    }
    update = {
        "event": "rep_update",
        "id": "demo-r-1-1-lowering",
        "rep_id": "demo-r-1-1",
        "rep": 1,
        "score": 80.0,
        "faults": [{"code": "rushed_eccentric", "severity": 0.5, "cue": "Lower slower"}],
        "metrics": {"eccentric_s": 0.3, "pause_s": 0.1},
    }
    daemon.on_event("demo", rep, 0.0)
    daemon.on_event("demo", update, 0.0)
    (kept,) = daemon._reps["demo"]
    assert kept["score"] == 80.0
    assert [f["code"] for f in kept["faults"]] == ["rushed_eccentric"]
    assert kept["metrics"] == {"depth_norm": 0.4, "eccentric_s": 0.3, "pause_s": 0.1}
    assert rep["metrics"]["eccentric_s"] is None  # what was emitted stays as it was
