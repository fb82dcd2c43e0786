"""One definition of each part of the wire contract, read from the source (ast).

The schema version, the time format and JSON belong to `edge.contract`; each payload is
built by one producer; consumers tell events apart by type, not by their `event` key.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from edge.contract.schema import SCHEMA_TYPES

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "edge" / "contract"
WIRE = CONTRACT / "wire.py"

BUILDERS = {  # payload type -> the one module (outside edge/contract) that builds it
    "RepEvent": "edge/hinge/scorer.py",
    "RepUpdate": "edge/hinge/scorer.py",
    "SetEvent": "edge/hinge/events.py",
    "DaemonStatus": "edge/publish/mqtt.py",
    "CameraStatus": "edge/daemon/app.py",
    "CameraState": "edge/daemon/pipeline.py",
    "Stats": "edge/daemon/app.py",
}
FORMATTERS = {"iso", "now_iso", "iso_now", "_utc_iso", "stamp", "to_json", "clean"}
"""Names of the helpers the contract replaced: none may come back outside it."""
PAGE_DOCUMENT = ("edge/daemon/app.py", "snapshot")
"""/api/state carries `schema_version` (the contract's constant) but is no MQTT message."""


def sources(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def outside_contract(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    for name, tree in sources(*folders):
        if not name.startswith("edge/contract/"):
            yield name, tree


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_the_builders_list_names_every_payload_with_a_schema():
    assert set(BUILDERS) == {cls.__name__ for cls in SCHEMA_TYPES}


def test_schema_version_is_defined_once():
    found = []
    for name, tree in sources("edge", "tools"):
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            targets += [node.target] if isinstance(node, ast.AnnAssign) else []
            found += [name for t in targets if isinstance(t, ast.Name) and "SCHEMA_VERSION" in t.id]
    assert found == ["edge/contract/wire.py"]


def test_times_are_formatted_in_one_place():
    calls = []
    for name, tree in sources("edge", "tools"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "isoformat":
                calls.append(name)
    assert calls == [WIRE.relative_to(ROOT).as_posix()]


def test_no_second_formatter_or_serialiser():
    found = [
        (name, f.name)
        for name, tree in outside_contract("edge", "tools")
        for f in functions(tree)
        if f.name in FORMATTERS
    ]
    assert found == []


def test_each_payload_is_built_by_one_producer():
    built: dict[str, set[str]] = {kind: set() for kind in BUILDERS}
    for name, tree in outside_contract("edge", "tools"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in built:
                    built[node.func.id].add(name)
    assert built == {kind: {module} for kind, module in BUILDERS.items()}


def test_no_payload_is_a_dict_literal_outside_the_contract():
    found = []
    for name, tree in outside_contract("edge"):
        for f in functions(tree):
            for node in ast.walk(f):
                keys = node.keys if isinstance(node, ast.Dict) else []
                wire_keys = [
                    k.value
                    for k in keys
                    if isinstance(k, ast.Constant) and k.value in ("schema_version", "event")
                ]
                if wire_keys and (name, f.name) != PAGE_DOCUMENT:
                    found.append((name, f.name, wire_keys))
    assert found == []


def test_consumers_tell_events_apart_by_type():
    found = []
    for name, tree in outside_contract("edge"):
        for node in ast.walk(tree):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                key = node.slice.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                key = node.args[0].value
            if key == "event":
                found.append((name, node.lineno))
    assert found == []
