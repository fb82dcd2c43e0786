"""One typed sample of every payload, as the docs' examples show them (docs/events.md, mqtt.md)."""

from __future__ import annotations

from edge.contract import (
    CameraState,
    CameraStats,
    CameraStatus,
    DaemonStatus,
    Fault,
    LastRep,
    LoweringMetrics,
    MqttStats,
    PoseCost,
    RepEvent,
    RepMetrics,
    RepUpdate,
    SetEvent,
    SpoolStats,
    Stats,
    Tempo,
)

TS = "2026-03-01T18:04:05.123+00:00"
KNEES = "Push your hips back and keep your shins vertical"

REP = RepEvent(
    id="0016k_1-1-1",
    set_id="0016k_1-1",
    rep=1,
    exercise="deadlift",
    exercise_source="classified",
    exercise_confidence=0.75,
    score=70.0,
    cue=KNEES,
    view="side_left",
    confidence=0.97,
    faults=(Fault("knee_dominant", 1.0, KNEES),),
    withheld=(),
    metrics=RepMetrics(
        0.385, 27.9, 74.3, 61.9, 43.2, 0.112, -0.026, 26.2, 0.012, None, 179.4, -5.1, 0.55, 0.8,
        0.4, 1.35
    ),
    from_floor=False,
    t_start_s=1.367,
    t_bottom_s=1.917,
    t_lockout_s=2.717,
    camera="0016k_1",
    ts=None,
)
"""The rep of docs/events.md's example, byte for byte (`REP_JSON`)."""

REP_JSON = (
    '{"schema_version":1,"event":"rep","id":"0016k_1-1-1","set_id":"0016k_1-1","rep":1,'
    '"exercise":"deadlift","exercise_source":"classified","exercise_confidence":0.75,'
    '"score":70.0,"cue":"Push your hips back and keep your shins vertical","view":"side_left",'
    '"confidence":0.97,"faults":[{"code":"knee_dominant","severity":1.0,"cue":"Push your hips '
    'back and keep your shins vertical"}],"withheld":[],"metrics":{"depth_norm":0.385,'
    '"max_torso_deg":27.9,"min_hip_deg":74.3,"min_knee_deg":61.9,"max_shin_deg":43.2,'
    '"hip_travel_norm":0.112,"spine_deviation_norm":-0.026,"head_deviation_deg":26.2,'
    '"back_rounding":0.012,"lumbar_arch":null,"lockout_hip_deg":179.4,"lockout_torso_deg":-5.1,"eccentric_s":0.55,"concentric_s":0.8,'
    '"pause_s":0.4,"rep_s":1.35},"from_floor":false,"t_start_s":1.367,"t_bottom_s":1.917,'
    '"t_lockout_s":2.717,"camera":"0016k_1","ts":null}'
)

UPDATE = RepUpdate(
    id="0016k_1-1-1-lowering",
    rep_id="0016k_1-1-1",
    set_id="0016k_1-1",
    rep=1,
    score=60.0,
    faults=(Fault("rushed_eccentric", 0.5, "Lower the bar under control"),),
    metrics=LoweringMetrics(0.3, 0.1),
    t_start_s=2.8,
    t_bottom_s=3.1,
    camera="0016k_1",
    ts=TS,
    frame_ts=TS,
)

SET = SetEvent(
    id="0016k_1-1",
    set_id="0016k_1-1",
    exercise="deadlift",
    exercise_confidence=0.75,
    reps=1,
    mean_score=60.0,
    fault_counts={"knee_dominant": 1, "rushed_eccentric": 1},
    tempo=Tempo(0.3, 0.8, 0.1, 1.35),
    rep_ids=("0016k_1-1-1",),
    end_reason="end_of_stream",
    t_start_s=1.37,
    t_end_s=4.2,
    camera="0016k_1",
    ts=None,
)

POSE = PoseCost(
    landmark_calls=41780, landmark_ms=20.6, mask_calls=1203, mask_ms=28.4, mask_calls_per_rep=5.04
)
STATUS = DaemonStatus("online", "r7", "0.1.0", since="2026-03-01T18:00:00.000+00:00")
CAMERA_STATUS = CameraStatus(
    camera="platform-1",
    state="online",
    quality="good",
    fps_in=25.0,
    fps_analysed=12.5,
    frames_skipped=1320,
    reconnects=0,
    stalls=0,
    last_frame_age_s=0.04,
    last_error=None,
    ts=TS,
    pose=POSE,
)
STATE = CameraState(
    camera="platform-1",
    athlete_present=True,
    phase="descending",
    exercise="rdl",
    set_id="platform-1-r7-3",
    reps_in_set=4,
    last_rep=LastRep(4, 85.0, "Good rep"),
    ts=TS,
)
STATS = Stats(
    run_id="r7",
    uptime_s=3600.5,
    cpu_percent=143.0,
    rss_mb=412.3,
    cameras={"platform-1": CameraStats(25.0, 12.5, 1320, 1, "online", POSE)},
    spool=SpoolStats(0, 0),
    mqtt=MqttStats(True, 2, 316),
    ts=TS,
)

SAMPLES = (REP, UPDATE, SET, STATUS, CAMERA_STATUS, STATE, STATS)
"""One of each payload with a schema."""
