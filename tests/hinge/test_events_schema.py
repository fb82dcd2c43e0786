"""Every event the engine emits validates against the documented JSON Schemas.

The schemas are generated from the event types (tests/contract/test_schemas.py checks
the files are current), so this checks what the engine puts into the types: values in
range, the enums it may name, a NaN turned null.
"""

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from edge.contract import RepEvent, RepUpdate, SetEvent, parse_event
from edge.contract.wire import clean
from edge.hinge import HingeConfig, score_track
from edge.synth.motion import MotionSpec
from edge.synth.sequence import SIDE_VIEWS, CaptureSpec, generate, random_set
from edge.synth.shape import BodyShape

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def _validator(kind):
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


VALIDATORS = {kind: _validator(kind) for kind in ("rep", "rep_update", "set")}


def _events():
    rng = np.random.default_rng(0)
    events = []
    for i, (exercise, faults) in enumerate(
        [("rdl", {"knee_dominant": 0.9}), ("swing", {}), ("squat", {})]
    ):
        seq = random_set(exercise, faults, rng, SIDE_VIEWS, reps=2)
        events += score_track(seq.t, seq.xy, seq.visibility, session_id=f"cam{i}")
    floor = generate(
        MotionSpec(exercise="deadlift", reps=2, faults={"rushed_eccentric": 1.0}),
        BodyShape(),
        CaptureSpec(view="front"),
        rng,
    )
    events += score_track(
        floor.t, floor.xy, floor.visibility, HingeConfig(exercise="deadlift"), "cam3"
    )
    return events


@pytest.mark.slow  # the fast tier: tests/daemon/test_pipeline.py checks one set's events
@pytest.mark.parametrize("wall_time", [None, 1.7e9])
def test_every_event_matches_its_schema(wall_time):
    events = [e.stamped("platform-1", wall_time) for e in _events()]
    assert {type(e) for e in events} == {RepEvent, RepUpdate, SetEvent}
    for event in events:
        text = event.to_json()
        VALIDATORS[event.kind].validate(json.loads(text))
        assert parse_event(text) == event  # what a consumer reads is what was sent


@pytest.mark.slow
def test_ids_are_unique_across_sets_of_a_session():
    spec = MotionSpec(exercise="rdl", reps=2, tail_s=14.0)
    one = generate(spec, BodyShape(), CaptureSpec(), np.random.default_rng(1))
    t = np.concatenate([one.t, one.t + one.t[-1] + 0.1])  # two sets, idle in between
    events = score_track(t, np.concatenate([one.xy] * 2), np.concatenate([one.visibility] * 2))
    assert [e.kind for e in events] == ["rep", "rep", "set"] * 2
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))


def test_nan_becomes_null_and_floats_are_rounded():
    assert clean({"a": float("nan"), "b": [1.23456, float("inf")], "c": "x"}, 3) == {
        "a": None,
        "b": (1.235, None),
        "c": "x",
    }
