"""Made-up boxes' upstream messages, as the contract writes them (tests and benchmarks).

`SimBox(gym, box)` numbers its events 1, 2, 3 ... (`seq`) as a box with a site does and
returns each message as `(topic, payload bytes)` on the upstream topics
(`hinge/<gym>/<box>/<camera>/rep` ...). Its payloads are the contract's own types, so
they are exactly what `edge.contract` parses.
"""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta

from edge.contract import (
    CameraState,
    CameraStatus,
    DaemonStatus,
    Event,
    Fault,
    LoweringMetrics,
    Payload,
    RepEvent,
    RepMetrics,
    RepUpdate,
    SetEvent,
    Stats,
    Tempo,
    iso,
)
from edge.contract.daemon import MqttStats, SpoolStats
from edge.contract.wire import Sited

FAULTS = ("knee_dominant", "spine_flexion", "head_extension", "incomplete_lockout")
BASE_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()
Message = tuple[str, bytes]

_METRICS = RepMetrics(*([None] * 16))  # type: ignore[arg-type]


class SimBox:
    """One box of a chain: its cameras' reps, updates, sets and its status messages."""

    def __init__(self, gym: str, box: str, prefix: str = "hinge", seed: int = 0) -> None:
        """A box whose clock starts at `BASE_TIME` and whose events are numbered from 1."""
        self.gym, self.box, self.prefix = gym, box, prefix
        self.seq = 0
        self.random = random.Random(seed)
        self.clock = BASE_TIME
        self._reps = 0

    def topic(self, camera: str | None, leaf: str) -> str:
        """The upstream topic of one of this box's messages."""
        levels = [self.prefix, self.gym, self.box] + ([camera] if camera else []) + [leaf]
        return "/".join(levels)

    def tick(self, seconds: float) -> str:
        """Moves the box's clock on; returns the new time as the payloads write it."""
        self.clock += seconds
        return iso(self.clock)

    def _event(self, event: Event) -> bytes:
        self.seq += 1
        return event.sited(self.gym, self.box).numbered(self.seq).to_json().encode()

    def rep(self, camera: str, set_id: str, *, score: float | None = None) -> tuple[str, Message]:
        """A rep (returns its id and the message); a random score and faults if not given."""
        self._reps += 1
        rep_id = f"{self.gym}-{self.box}-{camera}-{self._reps}"  # unique in the chain
        codes = self.random.sample(FAULTS, self.random.randint(0, 2))
        event = RepEvent(
            id=rep_id, set_id=set_id, rep=1, exercise="rdl", exercise_source="config",
            exercise_confidence=1.0,
            score=score if score is not None else round(self.random.uniform(40, 100), 1),
            cue="Good rep", view="side_left", confidence=0.9,
            faults=tuple(Fault(c, 0.5, "cue") for c in codes), withheld=(), metrics=_METRICS,
            from_floor=True, t_start_s=1.0, t_bottom_s=2.0, t_lockout_s=3.0,
            camera=camera, ts=self.tick(3.0),
        )  # fmt: skip
        return rep_id, (self.topic(camera, "rep"), self._event(event))

    def update(self, camera: str, rep_id: str, score: float | None = None) -> Message:
        """The rep_update of a rep from the floor: a new score and maybe a fault."""
        codes = self.random.sample(("rushed_eccentric", *FAULTS), self.random.randint(0, 2))
        event = RepUpdate(
            id=f"{rep_id}-lowering", rep_id=rep_id, set_id="s", rep=1,
            score=score if score is not None else round(self.random.uniform(30, 100), 1),
            faults=tuple(Fault(c, 0.5, "cue") for c in codes),
            metrics=LoweringMetrics(0.5, 0.1), t_start_s=3.0, t_bottom_s=4.0,
            camera=camera, ts=self.tick(1.0),
        )  # fmt: skip
        return self.topic(camera, "rep"), self._event(event)

    def set(self, camera: str, set_id: str, rep_ids: list[str], seconds: float = 30.0) -> Message:
        """The set event after its reps."""
        event = SetEvent(
            id=f"{set_id}-set", set_id=set_id, exercise="rdl", exercise_confidence=1.0,
            reps=len(rep_ids), mean_score=None, fault_counts={},
            tempo=Tempo(None, None, None, None),
            rep_ids=tuple(rep_ids), end_reason="idle", t_start_s=10.0, t_end_s=10.0 + seconds,
            camera=camera, ts=self.tick(2.0),
        )  # fmt: skip
        return self.topic(camera, "set"), self._event(event)

    def status(self, status: str = "online", run_id: str = "run1", since: bool = True) -> Message:
        """The box's DaemonStatus (`since=False`: a last will's null time)."""
        payload = DaemonStatus(status, run_id, "0.1.0", self.tick(0.1) if since else None)  # type: ignore[arg-type]
        return self.topic(None, "status"), self._plain(payload)

    def camera_status(self, camera: str, state: str = "online", at: float | None = None) -> Message:
        """A camera's CameraStatus at the box's time (or `at`, Unix seconds)."""
        payload = CameraStatus(
            camera=camera, state=state, quality="good", fps_in=10.0, fps_analysed=10.0,  # type: ignore[arg-type]
            frames_skipped=0, reconnects=0, stalls=0, last_frame_age_s=0.1, last_error=None,
            ts=iso(at) if at is not None else self.tick(0.1),
        )  # fmt: skip
        return self.topic(camera, "status"), self._plain(payload)

    def camera_state(self, camera: str, reps_in_set: int = 0) -> Message:
        """A camera's CameraState."""
        payload = CameraState(
            camera=camera, athlete_present=True, phase="top", exercise="rdl", set_id="s",
            reps_in_set=reps_in_set, last_rep=None, ts=self.tick(0.1),
        )  # fmt: skip
        return self.topic(camera, "state"), self._plain(payload)

    def stats(self) -> Message:
        """The box's periodic Stats."""
        payload = Stats(
            run_id="run1", uptime_s=10.0, cpu_percent=50.0, rss_mb=300.0, cameras={},
            spool=SpoolStats(0, 0), mqtt=MqttStats(True, 0, self.seq), ts=self.tick(0.1),
        )  # fmt: skip
        return self.topic(None, "stats"), self._plain(payload)

    def _plain(self, payload: Sited) -> bytes:
        return payload.sited(self.gym, self.box).to_json().encode()

    def workout(self, cameras: list[str], sets: int, reps_per_set: int) -> list[Message]:
        """A session's events in order: per set, reps each followed by its update, then the set."""
        out: list[Message] = []
        for n in range(sets):
            camera = cameras[n % len(cameras)]
            set_id = f"{self.gym}-{self.box}-{camera}-set{n}"
            rep_ids = []
            for _ in range(reps_per_set):
                rep_id, message = self.rep(camera, set_id)
                rep_ids.append(rep_id)
                out += [message, self.update(camera, rep_id)]
            out.append(self.set(camera, set_id, rep_ids))
        return out


def days_later(message: Message, days: int) -> Message:
    """The same event moved `days` days later (its ts), for summaries over several days."""
    topic, payload = message
    data = json.loads(payload)
    moment = datetime.fromisoformat(data["ts"]) + timedelta(days=days)
    data["ts"] = moment.isoformat(timespec="milliseconds")
    return topic, json.dumps(data, separators=(",", ":")).encode()


def replace_payload(payload: Payload, **changes: object) -> Payload:
    """`dataclasses.replace` for a payload (tests that bend one field)."""
    return dataclasses.replace(payload, **changes)  # type: ignore[type-var]
