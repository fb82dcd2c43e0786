"""The daemon's own messages: its status, each camera's status and state, its statistics.

Described in docs/mqtt.md; the events are in `edge.contract.events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from edge.contract.events import Exercise
from edge.contract.wire import Payload, Sited, Wire

StatusName = Literal["online", "degraded", "offline", "stopped"]
StreamState = Literal["connecting", "online", "stalled", "offline", "ended", "stopped"]
Quality = Literal["good", "degraded", "poor", "offline"]
Phase = Literal["absent", "top", "descending", "bottom", "ascending", "locking", "floor"]

_CAMERA_ID = Wire("Camera id from the configuration (one topic level)", pattern="^[^/+#]+$")
_STREAM_STATE = Wire(
    "connecting: opening the stream; online: frames arrive; stalled: open but no frames; "
    "offline: cannot be opened, retrying; ended: a file source reached its end; stopped: the "
    "daemon stopped it"
)
_RUN_ID = Wire("Id of this run of the daemon (as in <prefix>/status)", min_length=1)
_FPS_IN = Wire("Frames per second received from the camera", minimum=0)
_FPS_ANALYSED = Wire("Frames per second that went through pose estimation", minimum=0)
_SKIPPED = Wire(
    "Frames dropped unanalysed since the daemon started (only the latest frame is kept)",
    minimum=0,
)
_RECONNECTS = Wire("Times the stream was reopened since the daemon started", minimum=0)
_POSE = Wire(
    "What the pose stage costs on this camera since the daemon started; absent before the "
    "camera's analysis is set up (and from daemons that predate it)",
    omit_none=True,
)


@dataclass(frozen=True)
class PoseCost(Payload):
    """The pose model's passes on one camera's frames, since the daemon started.

    A call is one analysed frame's pass through that model (a lost athlete searched again
    on the same frame included); the time is the model's inference alone, wall clock. The
    mask pass (the back check, docs/back.md) runs in place of the landmark pass on the
    frames the hinge engine chooses, so the two ms side by side are its price per frame.
    """

    PRECISION = 2

    landmark_calls: Annotated[
        int, Wire("Frames whose pose came from the landmark model (the default pass)", minimum=0)
    ]
    landmark_ms: Annotated[
        float | None,
        Wire("Mean inference time of a landmark pass, ms; null before the first", minimum=0),
    ]
    mask_calls: Annotated[
        int,
        Wire(
            "Frames whose pose and person mask came from the mask model (the back check); 0 "
            "while the back check is off",
            minimum=0,
        ),
    ]
    mask_ms: Annotated[
        float | None,
        Wire("Mean inference time of a mask pass, ms; null before the first", minimum=0),
    ]
    mask_calls_per_rep: Annotated[
        float | None,
        Wire(
            "mask_calls over the reps counted on this camera; null before the first rep",
            minimum=0,
        ),
    ]


@dataclass(frozen=True)
class DaemonStatus(Sited):
    """Retained on <prefix>/status: online on every connect, stopped after a clean stop.

    degraded instead of online while events are at risk; offline is the last will, sent by
    the broker when the daemon vanishes.
    """

    kind = "status"
    title = "hinge-edge daemon status"
    TOP_LEVEL = True

    status: Annotated[
        StatusName,
        Wire(
            "online: connected and working; degraded: connected and working, but events are "
            "at risk or being lost (see problem); stopped: shut down cleanly; offline: the "
            "connection was lost without a goodbye (crash, power cut, network)"
        ),
    ]
    run_id: Annotated[
        str,
        Wire(
            "Id of this run of the daemon; a new one after each restart. Rep ids contain it.",
            min_length=1,
        ),
    ]
    version: Annotated[str, Wire("hinge-edge version")]
    since: Annotated[
        str | None,
        Wire(
            "When this status began, ISO 8601 UTC; null in the last will (the daemon cannot know "
            "when the broker sends it)",
            format="date-time",
        ),
    ]
    problem: Annotated[
        str | None,
        Wire(
            "Only with degraded: why, e.g. the spool cannot be written (disk full) and how "
            "many events are held in memory or were dropped",
            omit_none=True,
        ),
    ] = None


@dataclass(frozen=True)
class CameraStatus(Sited):
    """Retained on <prefix>/<camera>/status: the health of one camera's stream.

    Sent on change and periodically.
    """

    kind = "camera_status"
    title = "hinge-edge camera status"
    TOP_LEVEL = True

    camera: Annotated[str, _CAMERA_ID]
    state: Annotated[StreamState, _STREAM_STATE]
    quality: Annotated[
        Quality,
        Wire(
            "How usable the stream is for coaching: good; degraded (frames skipped, low frame "
            "rate); poor (verdicts unreliable); offline (no frames)"
        ),
    ]
    fps_in: Annotated[float, _FPS_IN]
    fps_analysed: Annotated[float, _FPS_ANALYSED]
    frames_skipped: Annotated[int, _SKIPPED]
    reconnects: Annotated[int, _RECONNECTS]
    stalls: Annotated[
        int,
        Wire(
            "Times the stream stopped delivering frames without closing, since the daemon started",
            minimum=0,
        ),
    ]
    last_frame_age_s: Annotated[
        float | None,
        Wire("Seconds since the last frame arrived; null before the first frame", minimum=0),
    ]
    last_error: Annotated[
        str | None,
        Wire("The latest error of this stream, in words, credentials removed; null if none"),
    ]
    ts: Annotated[str, Wire("Wall-clock time of this status, ISO 8601 UTC", format="date-time")]
    pose: Annotated[PoseCost | None, _POSE] = None


@dataclass(frozen=True)
class LastRep(Payload):
    """A rep as the live state shows it."""

    rep: Annotated[int, Wire("1-based rep number in the set", minimum=1)]
    score: Annotated[
        float | None, Wire("As in the rep event; null for a squat", minimum=0, maximum=100)
    ]
    cue: Annotated[str, Wire("The coaching cue of that rep")]


@dataclass(frozen=True)
class CameraState(Sited):
    """Retained on <prefix>/<camera>/state, on change: what the camera sees, for a display.

    The rep and set events, not this, are the record of what happened.
    """

    kind = "state"
    title = "hinge-edge camera state"
    TOP_LEVEL = True

    camera: Annotated[str, _CAMERA_ID]
    athlete_present: Annotated[bool, Wire("Someone is tracked on the platform")]
    phase: Annotated[
        Phase,
        Wire(
            "Where the athlete is in the rep: absent (nobody), top (standing), descending, "
            "bottom (deepest), ascending, locking (finishing at the top), floor (a deadlift bar "
            "at rest on the floor)"
        ),
    ]
    exercise: Annotated[
        Exercise | None, Wire("The current set's exercise; null before it is known")
    ]
    set_id: Annotated[
        str | None,
        Wire("The current set's id (as in the rep and set events); null between sets"),
    ]
    reps_in_set: Annotated[int, Wire("Reps counted in the current set so far", minimum=0)]
    last_rep: Annotated[LastRep | None, Wire("The set's latest rep, or null before its first")]
    ts: Annotated[str, Wire("Wall-clock time of the change, ISO 8601 UTC", format="date-time")]


@dataclass(frozen=True)
class CameraStats(Payload):
    """One camera's figures in <prefix>/stats."""

    fps_in: Annotated[float, _FPS_IN]
    fps_analysed: Annotated[float, _FPS_ANALYSED]
    frames_skipped: Annotated[int, _SKIPPED]
    reconnects: Annotated[int, _RECONNECTS]
    state: Annotated[StreamState, Wire("As in <prefix>/<camera>/status")]
    pose: Annotated[PoseCost | None, _POSE] = None


@dataclass(frozen=True)
class SpoolStats(Payload):
    """The spool's figures in <prefix>/stats."""

    pending: Annotated[
        int, Wire("Events waiting in the spool for the broker's acknowledgement", minimum=0)
    ]
    dropped: Annotated[int, Wire("Events dropped because the spool was full", minimum=0)]


@dataclass(frozen=True)
class MqttStats(Payload):
    """The broker link's figures in <prefix>/stats."""

    connected: Annotated[bool, Wire("Connected to the broker now")]
    reconnects: Annotated[int, Wire("Connections made after the first", minimum=0)]
    published: Annotated[int, Wire("Events acknowledged by the broker", minimum=0)]


@dataclass(frozen=True)
class Stats(Sited):
    """Periodic, not retained, on <prefix>/stats: figures for dashboards and alerting.

    Counters run since the daemon started (see run_id).
    """

    kind = "stats"
    title = "hinge-edge statistics"
    TOP_LEVEL = True

    run_id: Annotated[str, _RUN_ID]
    uptime_s: Annotated[float, Wire("Seconds since the daemon started", minimum=0)]
    cpu_percent: Annotated[
        float,
        Wire(
            "CPU used by the daemon since the previous stats message, percent of one core "
            "(above 100 when it uses several)",
            minimum=0,
        ),
    ]
    rss_mb: Annotated[float, Wire("Resident memory of the daemon, MiB", minimum=0)]
    cameras: Annotated[
        dict[str, CameraStats],
        Wire("Per camera id", property_names={"pattern": "^[^/+#]+$"}),
    ]
    spool: SpoolStats
    mqtt: MqttStats
    ts: Annotated[str, Wire("Wall-clock time of this message, ISO 8601 UTC", format="date-time")]


MESSAGE_TYPES: tuple[type[Payload], ...] = (DaemonStatus, CameraStatus, CameraState, Stats)
"""The daemon's own messages (the events are in `edge.contract.events`)."""
