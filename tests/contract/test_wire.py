"""The typed payloads: construction, JSON both ways, stamping, and the read-only dict view."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from dataclasses import FrozenInstanceError, replace
from datetime import datetime

import pytest

from edge.capture.snapshot import CaptureState, Quality
from edge.contract import (
    CameraState,
    ContractError,
    Fault,
    RepEvent,
    RepUpdate,
    SetEvent,
    iso,
    parse_event,
)
from edge.contract import daemon as daemon_types
from edge.contract import events as event_types
from edge.hinge.config import DEFAULT_CUES, FAULT_CODES, HINGE_EXERCISES
from edge.hinge.view import VIEW_CONFIDENCE
from tests.contract.samples import REP, REP_JSON, SET, STATE, STATS, UPDATE


def test_iso_is_utc_with_milliseconds_and_an_offset():
    assert iso(1772388245.1234) == "2026-03-01T18:04:05.123+00:00"
    assert datetime.fromisoformat(iso(0.0)).utcoffset().total_seconds() == 0


def test_floats_are_rounded_and_nan_becomes_null_when_made():
    fault = Fault("knee_dominant", 0.123456, "cue")
    assert fault.severity == 0.123
    metrics = replace(REP.metrics, depth_norm=float("nan"), rep_s=float("inf"))
    assert (metrics.depth_norm, metrics.rep_s) == (None, None)
    tempo = replace(SET.tempo, eccentric_s=1.23456)
    assert tempo.eccentric_s == 1.23  # a set's figures have two digits
    text = replace(REP, metrics=metrics, score=float("nan")).to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["metrics"]["depth_norm"] is None and '"score":null' in text


def test_payloads_are_frozen():
    with pytest.raises(FrozenInstanceError):
        REP.score = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("event", [REP, UPDATE, SET], ids=lambda e: e.kind)
def test_an_event_reads_back_from_its_json(event):
    assert parse_event(event.to_json()) == event
    assert parse_event(json.loads(event.to_json())) == event
    assert type(event).from_json(event.to_json().encode()) == event


def test_stamping_adds_camera_and_times_last_and_frame_ts_only_when_given():
    bare = replace(REP, camera=None, ts=None)
    assert "camera" not in bare.to_dict() and "ts" not in bare.to_dict()
    replayed = bare.stamped("0016k_1", None)
    assert replayed.to_json() == REP_JSON  # a replay: camera, ts null, no frame_ts
    live = bare.stamped("platform-1", 1772388245.5, 1772388245.25)
    wire = live.to_dict()
    assert list(wire)[-3:] == ["camera", "ts", "frame_ts"]
    assert (wire["ts"], wire["frame_ts"]) == (iso(1772388245.5), iso(1772388245.25))


def test_the_mapping_view_is_the_wire_form():
    assert REP["event"] == "rep" and REP["schema_version"] == 1
    assert REP["faults"] == [{"code": "knee_dominant", "severity": 1.0, "cue": REP.cue}]
    assert dict(REP) == REP.to_dict() == json.loads(REP_JSON)
    assert REP.get("rep_id") is None and UPDATE.get("rep_id") == REP.id
    assert "frame_ts" not in REP and "frame_ts" in UPDATE
    with pytest.raises(KeyError):
        REP["nope"]


def test_a_revised_rep_is_what_a_consumer_applying_the_update_gets():
    revised = REP.revised(UPDATE)
    assert revised.score == UPDATE.score and revised.faults == REP.faults + UPDATE.faults
    assert (revised.metrics.eccentric_s, revised.metrics.pause_s) == (0.3, 0.1)
    assert revised.metrics.depth_norm == REP.metrics.depth_norm
    with pytest.raises(ContractError):
        REP.revised(replace(UPDATE, rep_id="other"))


def _wire(payload, **changes):
    return {**payload.to_dict(), **changes}


@pytest.mark.parametrize(
    ("cls", "data", "words"),
    [
        (RepEvent, _wire(REP, schema_version=2), "schema_version must be 1"),
        (RepEvent, _wire(UPDATE), "event must be 'rep'"),
        (RepEvent, {**_wire(REP), "extra": 1}, "unknown key"),
        (RepEvent, {k: v for k, v in _wire(REP).items() if k != "cue"}, "missing key 'cue'"),
        (RepEvent, _wire(REP, rep="1"), "expected int"),
        (RepEvent, _wire(REP, from_floor=0), "expected bool"),
        (RepEvent, _wire(REP, score=True), "expected a number"),
        (RepEvent, _wire(REP, view="above"), "not one of"),
        (RepUpdate, _wire(UPDATE, faults={}), "expected a list"),
        (SetEvent, _wire(SET, tempo=[]), "expected a JSON object"),
        (CameraState, _wire(STATE, last_rep={"rep": 1, "score": None}), "missing key 'cue'"),
    ],
)
def test_reading_is_strict(cls, data, words):
    with pytest.raises(ContractError, match=words):
        cls.from_dict(data)


def test_parse_event_names_what_it_got():
    with pytest.raises(ContractError, match="'state'"):
        parse_event({"event": "state"})
    with pytest.raises(ContractError, match="JSON"):
        parse_event("{not json")


def test_a_payload_without_frame_ts_reads_back_without_it():
    assert RepEvent.from_json(REP_JSON).frame_ts is None
    assert STATS.cameras["platform-1"].state == "online"


def test_the_contract_imports_nothing_heavy():
    """The pure hinge engine builds its events from here: no daemon, broker or model code."""
    heavy = ["numpy", "pydantic", "paho", "cv2", "onnxruntime", "edge.daemon", "edge.publish"]
    code = (
        "import sys, edge.contract, edge.contract.schema; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_contract_names_what_the_engine_and_the_capture_name():
    # the engine takes its vocabulary from the contract; what it produces must fit it
    assert typing.get_args(event_types.Exercise) == (*HINGE_EXERCISES, "squat")
    assert set(typing.get_args(event_types.View)) == set(VIEW_CONFIDENCE)
    assert set(typing.get_args(event_types.FaultCode)) == set(DEFAULT_CUES) == set(FAULT_CODES)
    assert typing.get_args(daemon_types.StreamState) == tuple(s.value for s in CaptureState)
    assert typing.get_args(daemon_types.Quality) == tuple(q.value for q in Quality)
