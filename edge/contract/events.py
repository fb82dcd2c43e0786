"""The hinge engine's events: `rep`, `rep_update` and `set` (docs/events.md).

The engine builds them unstamped (no camera, no wall-clock time); the daemon and
`hinge-edge replay` stamp them (`Event.stamped`) before they leave the process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal, Self

from edge.contract.wire import ContractError, Payload, Sited, Wire, iso

Exercise = Literal["rdl", "deadlift", "good_morning", "swing", "single_leg_rdl", "squat"]
ExerciseSource = Literal["config", "classified"]
View = Literal["side_left", "side_right", "oblique", "front"]
FaultCode = Literal[
    "knee_dominant",
    "spine_flexion",
    "head_extension",
    "chest_first",
    "hips_rise_first",
    "incomplete_lockout",
    "hyperextension",
    "partial_rep",
    "rushed_eccentric",
]
EndReason = Literal["idle", "absent", "athlete_changed", "end_of_stream"]

_Nullable = float | None


@dataclass(frozen=True)
class Fault(Payload):
    """A fault found on a rep."""

    PRECISION = 3

    code: Annotated[FaultCode, Wire("Fault code (docs/hinge.md says what each one measures)")]
    severity: Annotated[float, Wire("How bad, 0-1", minimum=0, maximum=1)]
    cue: Annotated[str, Wire("The fault's coaching cue, in plain words")]


@dataclass(frozen=True)
class Withheld(Payload):
    """A verdict the engine declined to give."""

    code: Annotated[str, Wire("The fault code not judged")]
    reason: Annotated[str, Wire("Why, in words (e.g. `front view cannot show this`)")]


@dataclass(frozen=True)
class RepMetrics(Payload):
    """What was measured on a rep; null where the engine could not measure it."""

    PRECISION = 3

    depth_norm: Annotated[_Nullable, Wire("How far down, fraction of standing height")]
    max_torso_deg: Annotated[
        _Nullable, Wire("Torso inclination from vertical at its most forward, deg")
    ]
    min_hip_deg: Annotated[
        _Nullable, Wire("Smallest shoulder-hip-knee angle, deg (180 = straight)")
    ]
    min_knee_deg: Annotated[_Nullable, Wire("Smallest hip-knee-ankle angle, deg (180 = straight)")]
    max_shin_deg: Annotated[
        _Nullable, Wire("Shin inclination from vertical, knee forward positive, deg")
    ]
    hip_travel_norm: Annotated[_Nullable, Wire("How far the hips travelled back, leg lengths")]
    spine_deviation_norm: Annotated[
        _Nullable,
        Wire("Shoulder off the ear-hip line towards the back, over standing, torso lengths"),
    ]
    head_deviation_deg: Annotated[
        _Nullable, Wire("Face turned up against the torso, over standing, deg")
    ]
    back_rounding: Annotated[
        _Nullable,
        Wire(
            "The back's outline (person mask) rounding out behind the line joining its "
            "ends at the bottom, torso lengths; null where the mask model did not see the "
            "rep's bottom"
        ),
    ]
    lumbar_arch: Annotated[
        _Nullable,
        Wire(
            "The lower back's outline dipping in at the top, torso lengths; null where "
            "the mask model did not see the top"
        ),
    ]
    lockout_hip_deg: Annotated[_Nullable, Wire("Hip angle at the top, deg")]
    lockout_torso_deg: Annotated[_Nullable, Wire("Torso inclination at the top, deg")]
    eccentric_s: Annotated[_Nullable, Wire("Descent, 10% to 90% of the rep's depth, s")]
    concentric_s: Annotated[_Nullable, Wire("Rise, 90% to 10% of the rep's depth, s")]
    pause_s: Annotated[_Nullable, Wire("Time within 10% of the deepest point, s")]
    rep_s: Annotated[
        _Nullable, Wire("Start to lockout (floor to lockout for a lift from the floor), s")
    ]


@dataclass(frozen=True)
class LoweringMetrics(Payload):
    """What was measured on the lowering of a lift from the floor."""

    PRECISION = 3

    eccentric_s: Annotated[_Nullable, Wire("The lowering, s")]
    pause_s: Annotated[_Nullable, Wire("Time within 10% of the deepest point, s")]


@dataclass(frozen=True)
class Tempo(Payload):
    """A set's mean tempo (its reps' metrics)."""

    PRECISION = 2

    eccentric_s: Annotated[_Nullable, Wire("Mean descent, s")]
    concentric_s: Annotated[_Nullable, Wire("Mean rise, s")]
    pause_s: Annotated[_Nullable, Wire("Mean pause at the bottom, s")]
    rep_s: Annotated[_Nullable, Wire("Mean rep duration, s")]


@dataclass(frozen=True)
class Event(Sited):
    """Base of the engine's events: a message with an `event` key, stamped on the way out.

    `camera`, `ts` and `frame_ts` are None until `stamped`; an event without a camera is
    not a wire message yet, and its dict has neither `camera` nor `ts`.
    """

    TOP_LEVEL = True
    PRECISION = 3

    camera: Annotated[
        str | None,
        Wire(
            "Camera id from the configuration (the file name in a replay)",
            schema={"type": "string"},
        ),
    ] = field(default=None, kw_only=True)
    ts: Annotated[
        str | None,
        Wire(
            "Wall-clock time the event was emitted, ISO 8601 UTC; null in a replay",
            format="date-time",
        ),
    ] = field(default=None, kw_only=True)
    frame_ts: Annotated[
        str | None,
        Wire(
            "Daemon only (absent in a replay): wall-clock time the frame that produced the event "
            "was captured, ISO 8601 UTC; ts - frame_ts is the analysis delay",
            omit_none=True,
            schema={"type": "string", "format": "date-time"},
        ),
    ] = field(default=None, kw_only=True)
    seq: Annotated[
        int | None,
        Wire(
            "Only from a box with a site: the box's own sequence number of its events, "
            "1, 2, 3 ... across its cameras and restarts; a gap means an event was lost",
            omit_none=True,
            schema={"type": "integer", "minimum": 1},
        ),
    ] = field(default=None, kw_only=True)

    @classmethod
    def header(cls) -> dict[str, Any]:
        """`schema_version` and `event` (the kind)."""
        return {**super().header(), "event": cls.kind}

    def wire_fields(self) -> list:
        """An unstamped event has neither `camera` nor `ts` yet."""
        fields = super().wire_fields()
        if self.camera is None:
            fields = [f for f in fields if f.name not in ("camera", "ts")]
        return fields

    def stamped(
        self, camera: str, wall_time_s: float | None, frame_time_s: float | None = None
    ) -> Self:
        """The event as it leaves: its camera and wall-clock times (None in a replay).

        Args:
            camera: The camera id (the file name in a replay).
            wall_time_s: When it is emitted (Unix seconds); None in a replay.
            frame_time_s: When the frame that produced it was captured (daemon only).
        """
        return replace(
            self,
            camera=camera,
            ts=None if wall_time_s is None else iso(wall_time_s),
            frame_ts=None if frame_time_s is None else iso(frame_time_s),
        )

    def numbered(self, seq: int) -> Self:
        """The event with its box's sequence number (a box with a site numbers its events)."""
        return replace(self, seq=seq)


_ID = Wire("Unique, stable id of this message: drop duplicates by it")
_SET_ID = Wire("Id of the set the rep belongs to")
_SCORE = Wire("0-100; null for a squat (not scored as a hinge)", minimum=0, maximum=100)
_EXERCISE_CONFIDENCE = Wire(
    "How sure the exercise is: the share of the set's reps that agree with it, shrunk towards "
    "one half while there are few (1 when fixed by config; null for a set with no rep classified)",
    minimum=0,
    maximum=1,
)


@dataclass(frozen=True)
class RepEvent(Event):
    """One counted rep, sent when the athlete reaches lockout (topic <prefix>/<camera>/rep)."""

    kind = "rep"
    title = "hinge-edge rep event"

    id: Annotated[str, _ID]
    set_id: Annotated[str, _SET_ID]
    rep: Annotated[int, Wire("Number of the rep in its set", minimum=1)]
    exercise: Annotated[
        Exercise, Wire("The set's exercise: recognised, or fixed by the camera's setting")
    ]
    exercise_source: Annotated[ExerciseSource, Wire("Where `exercise` came from")]
    exercise_confidence: Annotated[float | None, _EXERCISE_CONFIDENCE]
    score: Annotated[float | None, _SCORE]
    cue: Annotated[str, Wire("The one coaching cue to show, in plain words")]
    view: Annotated[
        View, Wire("Where the camera saw the athlete from (side_left: their left side faces it)")
    ]
    confidence: Annotated[
        float,
        Wire("How far to trust the verdicts: view x visibility x tracking", minimum=0, maximum=1),
    ]
    faults: Annotated[tuple[Fault, ...], Wire("Faults found, worst first")]
    withheld: Annotated[tuple[Withheld, ...], Wire("Verdicts the engine declined to give, and why")]
    metrics: RepMetrics
    from_floor: Annotated[
        bool,
        Wire(
            "The rep started at the floor (its lowering follows in a rep_update, unless the "
            "set's later reps come from the top)"
        ),
    ]
    t_start_s: Annotated[float, Wire("When the rep started, s on the stream's clock")]
    t_bottom_s: Annotated[
        float,
        Wire(
            "When it was deepest (a lift from the floor: left the floor), s on the stream's clock"
        ),
    ]
    t_lockout_s: Annotated[float, Wire("When it locked out, s on the stream's clock")]

    def revised(self, update: RepUpdate) -> RepEvent:
        """The rep as its `rep_update` leaves it: new score, the faults added, metrics merged."""
        if update.rep_id != self.id:
            raise ContractError(f"update {update.id} is for rep {update.rep_id}, not {self.id}")
        lowered = {"eccentric_s": update.metrics.eccentric_s, "pause_s": update.metrics.pause_s}
        return replace(
            self,
            score=update.score,
            faults=self.faults + update.faults,
            metrics=replace(self.metrics, **lowered),
        )


@dataclass(frozen=True)
class RepUpdate(Event):
    """Completes a rep from the floor once its lowering is over (topic <prefix>/<camera>/rep)."""

    kind = "rep_update"
    title = "hinge-edge rep update"

    id: Annotated[str, _ID]
    rep_id: Annotated[str, Wire("id of the rep event this completes")]
    set_id: Annotated[str, _SET_ID]
    rep: Annotated[int, Wire("Number of the rep in its set", minimum=1)]
    score: Annotated[
        float | None, Wire("The rep's score including the lowering", minimum=0, maximum=100)
    ]
    faults: Annotated[tuple[Fault, ...], Wire("Faults found on the lowering, worst first")]
    metrics: LoweringMetrics
    t_start_s: Annotated[
        float, Wire("When the lowering started (the top), s on the stream's clock")
    ]
    t_bottom_s: Annotated[float, Wire("When the bar was back down, s on the stream's clock")]


@dataclass(frozen=True)
class SetEvent(Event):
    """Follows a set's last rep (topic <prefix>/<camera>/set)."""

    kind = "set"
    title = "hinge-edge set summary"
    PRECISION = 2

    id: Annotated[str, _ID]
    set_id: Annotated[str, Wire("The set's id (as in its reps' set_id)")]
    exercise: Annotated[Exercise | None, Wire("The set's exercise")]
    exercise_confidence: Annotated[float | None, _EXERCISE_CONFIDENCE]
    reps: Annotated[int, Wire("Reps counted", minimum=0)]
    mean_score: Annotated[float | None, Wire("Mean of the reps' scores", minimum=0, maximum=100)]
    fault_counts: Annotated[
        dict[str, Annotated[int, Wire(minimum=1)]],
        Wire("Fault code -> number of reps it was found on"),
    ]
    tempo: Tempo
    rep_ids: Annotated[tuple[str, ...], Wire("Ids of the set's reps, in order")]
    end_reason: Annotated[EndReason, Wire("Why the set ended")]
    t_start_s: Annotated[float, Wire("The first rep's start, s on the stream's clock")]
    t_end_s: Annotated[float, Wire("The last moment the athlete was seen, s on the stream's clock")]


AnyEvent = RepEvent | RepUpdate | SetEvent
EVENT_TYPES: tuple[type[AnyEvent], ...] = (RepEvent, RepUpdate, SetEvent)


def parse_event(data: dict[str, Any] | str | bytes) -> AnyEvent:
    """Reads one event off the wire (a JSON text or its decoded object), whatever its kind.

    Raises:
        ContractError: Not JSON, or not an event of this schema version.
    """
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as err:
            raise ContractError(f"an event must be JSON: {err}") from err
    kind = data.get("event") if isinstance(data, dict) else None
    for cls in EVENT_TYPES:
        if cls.kind == kind:
            return cls.from_dict(data)  # type: ignore[arg-type]
    raise ContractError(f"not an event: `event` is {kind!r}, expected rep, rep_update or set")
