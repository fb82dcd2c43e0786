"""docs/schemas/ is generated from the payload types, and the docs' examples are theirs."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest

from edge.contract import SCHEMA_VERSION, Payload
from edge.contract.schema import SCHEMA_TYPES, file_name, json_schema
from tests.contract import samples

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"


def load_tool():
    spec = importlib.util.spec_from_file_location(
        "event_schemas", ROOT / "tools" / "event_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_schemas_are_the_generated_ones():
    stale = load_tool().stale(SCHEMAS)
    assert not stale, (
        f"docs/schemas/ is stale ({stale}): run .venv/bin/python -m tools.event_schemas"
    )


def test_the_tool_writes_what_it_checks(tmp_path):
    tool = load_tool()
    (tmp_path / "old.schema.json").write_text("{}")
    tool.SCHEMAS = tmp_path
    assert tool.main([]) == 0
    assert tool.stale(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(map(file_name, SCHEMA_TYPES))
    assert tool.main(["--check"]) == 0


@pytest.mark.parametrize("cls", SCHEMA_TYPES, ids=lambda c: c.kind)
def test_every_schema_is_draft_2020_12_with_its_version_and_title(cls):
    schema = json_schema(cls)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert schema["required"][0] == "schema_version" and schema["additionalProperties"] is False
    assert schema["title"].startswith("hinge-edge ") and schema["description"]


@pytest.mark.parametrize("sample", samples.SAMPLES, ids=lambda s: s.kind)
def test_every_sample_follows_its_schema_and_reads_back(sample: Payload):
    validator = jsonschema.Draft202012Validator(
        json_schema(type(sample)), format_checker=jsonschema.FormatChecker()
    )
    text = sample.to_json()
    validator.validate(json.loads(text))
    assert type(sample).from_json(text) == sample


def _examples(doc: str) -> list[str]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_docs_examples_are_what_the_types_write():
    assert _examples("events.md") == [samples.REP_JSON]
    assert samples.REP.to_json() == samples.REP_JSON
    mqtt = [samples.STATUS, samples.CAMERA_STATUS, samples.STATE]
    assert _examples("mqtt.md") == [p.to_json() for p in mqtt]
