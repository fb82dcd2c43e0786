"""The MQTT payload contract: sample payloads validate against docs/schemas/, bad ones fail.

The samples are the wire form of tests/contract/samples.py's typed payloads.
"""

import copy
import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from edge.contract import DaemonStatus, now_iso
from tests.contract import samples

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
TS = "2026-03-01T18:04:05.123+00:00"


def _validator(kind):
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


POSE = {
    "landmark_calls": 41780,
    "landmark_ms": 20.6,
    "mask_calls": 1203,
    "mask_ms": 28.4,
    "mask_calls_per_rep": 5.04,
}
CAMERA_STATUS = {
    "schema_version": 1,
    "camera": "platform-1",
    "state": "online",
    "quality": "good",
    "fps_in": 25.0,
    "fps_analysed": 12.5,
    "frames_skipped": 1320,
    "reconnects": 0,
    "stalls": 0,
    "last_frame_age_s": 0.04,
    "last_error": None,
    "ts": TS,
    "pose": POSE,
}
STATE = {
    "schema_version": 1,
    "camera": "platform-1",
    "athlete_present": True,
    "phase": "descending",
    "exercise": "rdl",
    "set_id": "platform-1-r7-3",
    "reps_in_set": 4,
    "last_rep": {"rep": 4, "score": 85.0, "cue": "Good rep"},
    "ts": TS,
}
STATS = {
    "schema_version": 1,
    "run_id": "r7",
    "uptime_s": 3600.5,
    "cpu_percent": 143.0,
    "rss_mb": 412.3,
    "cameras": {
        "platform-1": {
            "fps_in": 25.0,
            "fps_analysed": 12.5,
            "frames_skipped": 1320,
            "reconnects": 1,
            "state": "online",
            "pose": POSE,
        }
    },
    "spool": {"pending": 0, "dropped": 0},
    "mqtt": {"connected": True, "reconnects": 2, "published": 316},
    "ts": TS,
}
SAMPLES = {"camera_status": CAMERA_STATUS, "state": STATE, "stats": STATS}


def _with(sample, path, value):
    """A copy of `sample` with the value at `path` (keys) replaced, or removed if ...."""
    out = copy.deepcopy(sample)
    *parents, last = path
    target = out
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return out


NO_CALL_YET = {  # before the first frame (or with nobody in view)
    "landmark_calls": 0,
    "landmark_ms": None,
    "mask_calls": 0,
    "mask_ms": None,
    "mask_calls_per_rep": None,
}
VALID = [
    ("camera_status", CAMERA_STATUS),
    ("camera_status", _with(CAMERA_STATUS, ["last_frame_age_s"], None)),  # no frame yet
    ("camera_status", {**CAMERA_STATUS, "state": "offline", "last_error": "connection refused"}),
    ("camera_status", _with(CAMERA_STATUS, ["pose"], ...)),  # a daemon before the pose cost
    ("camera_status", _with(CAMERA_STATUS, ["pose"], NO_CALL_YET)),
    ("state", STATE),
    ("state", {**STATE, "athlete_present": False, "phase": "absent", "exercise": None}),
    ("state", {**STATE, "set_id": None, "reps_in_set": 0, "last_rep": None}),  # between sets
    ("state", _with(STATE, ["last_rep", "score"], None)),  # a squat is not scored
    ("stats", STATS),
    ("stats", {**STATS, "cameras": {}}),
    ("stats", _with(STATS, ["cameras", "platform-1", "pose"], ...)),
]
INVALID = [
    ("camera_status", {**CAMERA_STATUS, "state": "broken"}),  # unknown state
    ("camera_status", {**CAMERA_STATUS, "quality": "great"}),  # unknown quality
    ("camera_status", _with(CAMERA_STATUS, ["stalls"], ...)),  # field missing
    ("camera_status", {**CAMERA_STATUS, "camera": "a/b"}),  # not one topic level
    ("camera_status", {**CAMERA_STATUS, "fps_in": -1}),  # negative rate
    ("state", {**STATE, "phase": "jumping"}),  # unknown phase
    ("state", _with(STATE, ["last_rep", "rep"], 0)),  # reps are 1-based
    ("state", {**STATE, "extra": 1}),  # fields are only added with the schema
    ("stats", _with(STATS, ["cameras", "platform-1", "state"], "lost")),
    ("stats", _with(STATS, ["spool", "dropped"], ...)),
    ("stats", _with(STATS, ["cameras", "platform-1", "pose", "mask_ms"], -1.0)),
    ("stats", _with(STATS, ["cameras", "platform-1", "pose", "mask_calls"], ...)),
    ("camera_status", _with(CAMERA_STATUS, ["pose", "mask_share"], 0.1)),  # unknown key
    ("stats", {**STATS, "schema_version": 2}),  # a version we do not know
]


@pytest.mark.parametrize(("kind", "payload"), VALID)
def test_valid_samples_pass(kind, payload):
    _validator(kind).validate(json.loads(json.dumps(payload)))


@pytest.mark.parametrize(("kind", "payload"), INVALID)
def test_invalid_samples_fail(kind, payload):
    with pytest.raises(jsonschema.ValidationError):
        _validator(kind).validate(payload)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_samples_are_the_typed_payloads_on_the_wire(kind):
    typed = {"camera_status": samples.CAMERA_STATUS, "state": samples.STATE, "stats": samples.STATS}
    assert json.loads(typed[kind].to_json()) == SAMPLES[kind]


@pytest.mark.parametrize("status", ["online", "offline", "stopped"])
def test_status_payloads_of_the_publisher_pass(status):
    since = None if status == "offline" else now_iso()  # the last will cannot know
    payload = json.loads(DaemonStatus(status, "run-9", "0.1.0", since=since).to_json())
    _validator("status").validate(payload)
    assert payload["status"] == status and payload["run_id"] == "run-9"
    if since:
        assert datetime.fromisoformat(payload["since"]).utcoffset().total_seconds() == 0


def test_every_schema_is_valid_draft_2020_12_with_schema_version_1():
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path.name
        assert schema["properties"]["schema_version"] == {
            "const": 1,
            "description": "Version of this payload's schema",
        }, path.name
        assert "schema_version" in schema["required"], path.name
