"""JSON Schemas (draft 2020-12) generated from the payload types: docs/schemas/ is this.

`tools/event_schemas.py` writes them; tests/contract checks the checked-in files are
what this module generates, so the types and the published schemas cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import types
import typing
from typing import Annotated, Any, Literal, Union

from edge.contract.daemon import MESSAGE_TYPES
from edge.contract.events import EVENT_TYPES
from edge.contract.wire import Payload, omitted_when_none, type_hints, wire_of, wire_order

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://hinge-edge.local/schemas/"
SCHEMA_TYPES: tuple[type[Payload], ...] = (*EVENT_TYPES, *MESSAGE_TYPES)
"""Every message with a schema of its own, as in docs/schemas/<kind>.schema.json."""

_HEADER_DESCRIPTIONS = {
    "schema_version": "Version of this payload's schema",
    "event": "The kind of event",
}
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_NULLABLE_TYPES = frozenset(_SCALARS.values())  # `"type": [T, "null"]`; objects get anyOf


def file_name(cls: type[Payload]) -> str:
    """`<kind>.schema.json`."""
    return f"{cls.kind}.schema.json"


def json_schema(cls: type[Payload]) -> dict[str, Any]:
    """The JSON Schema of a message type, as docs/schemas/ holds it."""
    return {
        "$schema": DIALECT,
        "$id": ID_BASE + file_name(cls),
        "title": cls.title,
        "description": description_of(cls),
        **_object(cls),
    }


def render(cls: type[Payload]) -> str:
    """The schema file's text."""
    return json.dumps(json_schema(cls), indent=2, ensure_ascii=False) + "\n"


def description_of(cls: type) -> str:
    """A class docstring's text before any section (`Attributes:`), as one line."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    text = re.split(r"\n\s*\n(?=\w+:\n)", doc, maxsplit=1)[0]
    return " ".join(text.split())


def _object(cls: type[Payload]) -> dict[str, Any]:
    header = cls.header()
    properties = {
        key: {"const": value, "description": _HEADER_DESCRIPTIONS[key]}
        for key, value in header.items()
    }
    omitted = omitted_when_none(cls)
    hints = type_hints(cls)
    for f in wire_order(cls):
        properties[f.name] = _property(hints[f.name])
    required = [*header, *(f.name for f in wire_order(cls) if f.name not in omitted)]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _property(hint: Any) -> dict[str, Any]:
    """A field's schema: from its type, then its `Wire` keywords and description."""
    wire = wire_of(hint)
    if typing.get_origin(hint) is Annotated:
        hint = hint.__origin__
    schema = dict(wire.schema) if wire is not None and wire.schema is not None else _type(hint)
    if wire is not None:
        schema.update({_camel(k): v for k, v in wire.keywords.items()})
        if wire.description:
            schema["description"] = wire.description
    elif isinstance(hint, type) and issubclass(hint, Payload):
        schema["description"] = description_of(hint)
    return schema


def _type(hint: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"only `X | None` unions are on the wire, not {hint}")
        schema = _property(inner[0])
        if schema.get("type") in _NULLABLE_TYPES and not {"enum", "const"} & set(schema):
            return {**schema, "type": [schema["type"], "null"]}
        return {"anyOf": [schema, {"type": "null"}]}
    if origin is Literal:
        return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
    if origin is tuple:
        return {"type": "array", "items": _property(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _property(args[1])}
    if isinstance(hint, type) and issubclass(hint, Payload) and dataclasses.is_dataclass(hint):
        return _object(hint)
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
