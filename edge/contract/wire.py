"""What every payload shares: the schema version, the time format, JSON, the base type.

Standard library only: the hinge engine builds its events from here and stays free of
the daemon's and the publisher's imports.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar, Union

from edge.errors import EdgeError

SCHEMA_VERSION = 1
"""Version of every payload's schema (docs/events.md, docs/mqtt.md): fields are only
added within a version; a consumer refuses a version it does not know."""


def iso(wall_time_s: float) -> str:
    """Wall-clock seconds -> ISO 8601 UTC with milliseconds: every time in our payloads.

    The form docs/mqtt.md promises, `2026-03-01T18:04:05.123+00:00`.
    """
    return datetime.fromtimestamp(wall_time_s, UTC).isoformat(timespec="milliseconds")


def now_iso() -> str:
    """The current wall-clock time as `iso` writes it."""
    return iso(time.time())


class ContractError(EdgeError, ValueError):
    """A payload that does not follow the contract: a wrong version, kind, key or value."""


class Wire:
    """How a field appears on the wire: its JSON Schema description and keywords.

    Used as `Annotated[int, Wire("Reps counted", minimum=0)]`. `omit_none` leaves the key
    out of the JSON while the value is None (and out of the schema's `required`); `schema`
    replaces the schema derived from the Python type, for a field whose Python type admits
    a value the wire never carries.
    """

    __slots__ = ("description", "keywords", "omit_none", "schema")

    def __init__(
        self,
        description: str = "",
        *,
        omit_none: bool = False,
        schema: dict[str, Any] | None = None,
        **keywords: Any,
    ) -> None:
        self.description = description
        self.omit_none = omit_none
        self.schema = schema
        self.keywords = keywords

    def __repr__(self) -> str:
        return f"Wire({self.description!r}, {self.keywords!r})"


def clean(value: Any, digits: int) -> Any:
    """Rounds floats and turns NaN and infinities into None (JSON has neither), recursively.

    Nested payloads are left alone: they were cleaned when they were made.
    """
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, digits)
    if isinstance(value, dict):
        return {k: clean(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(clean(v, digits) for v in value)
    return value


@dataclass(frozen=True)
class Payload:
    """Base of every typed payload: frozen, JSON on the wire, one JSON Schema each.

    Fields are declared in wire order (keyword-only fields go last). On construction floats
    are rounded to `PRECISION` digits and NaN becomes None, so a payload equals what its
    JSON says: `type(p).from_json(p.to_json()) == p`. Lists are tuples and nested objects
    are payloads too.

    For code written against the dict events this replaced, a payload also reads as a
    read-only mapping of its wire form: `p["score"]`, `p.get("faults")`, `dict(p)`. New
    code reads attributes, and tells kinds apart with `isinstance`.

    Attributes:
        kind: The schema's name (`docs/schemas/<kind>.schema.json`); an event's `event` key.
        title: The schema's title.
        PRECISION: Digits floats are rounded to; None leaves them as given.
        TOP_LEVEL: A message of its own (with `schema_version`), not a part of one.
    """

    kind: ClassVar[str] = ""
    title: ClassVar[str] = ""
    PRECISION: ClassVar[int | None] = None
    TOP_LEVEL: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.PRECISION is None:
            return
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, Payload):
                object.__setattr__(self, f.name, clean(value, self.PRECISION))

    # ------------------------------------------------------------ to the wire
    @classmethod
    def header(cls) -> dict[str, Any]:
        """The keys before the fields: `schema_version` for a message, nothing for a part."""
        return {"schema_version": SCHEMA_VERSION} if cls.TOP_LEVEL else {}

    def wire_fields(self) -> list[dataclasses.Field]:
        """The fields that are on the wire now, in wire order."""
        omitted = omitted_when_none(type(self))
        return [
            f
            for f in wire_order(type(self))
            if not (f.name in omitted and getattr(self, f.name) is None)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The wire form: a new JSON-ready dict (lists, not tuples), keys in wire order."""
        out = self.header()
        for f in self.wire_fields():
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def to_json(self) -> str:
        """One compact JSON line, as published and as `replay --events` writes it."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    # ------------------------------------------------------------ from the wire
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Reads the wire form back (strictly: version, kind, every key checked).

        Raises:
            ContractError: Another schema version, another kind, a missing or unknown key,
                or a value of the wrong shape.
        """
        name = cls.kind or cls.__name__
        if not isinstance(data, dict):
            raise ContractError(f"{name}: expected a JSON object, got {data!r}")
        data = dict(data)
        for key, expected in cls.header().items():
            got = data.pop(key, None)
            if got != expected or type(got) is not type(expected):  # `true` is no 1
                raise ContractError(f"{name}: {key} must be {expected!r}, got {got!r}")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ContractError(f"{name}: unknown key(s) {unknown}")
        hints = type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                values[f.name] = _read(hints[f.name], data[f.name], f"{name}.{f.name}")
            elif f.default is dataclasses.MISSING:  # only a stamp or omit_none has one
                raise ContractError(f"{name}: missing key {f.name!r}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """`from_dict` of a JSON text."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ContractError(f"{cls.kind}: not JSON: {err}") from err
        return cls.from_dict(data)

    # ------------------------------------------------------------ read-only mapping view
    def keys(self) -> list[str]:
        """The wire keys, in order."""
        return [*self.header(), *(f.name for f in self.wire_fields())]

    def __getitem__(self, key: str) -> Any:
        header = self.header()
        if key in header:
            return header[key]
        if key in {f.name for f in self.wire_fields()}:
            return _plain(getattr(self, key))
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def get(self, key: str, default: Any = None) -> Any:
        """The wire value of `key`, or `default` where the wire has no such key."""
        try:
            return self[key]
        except KeyError:
            return default


SITE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
"""A gym's or a box's id (`site.gym`, `site.box`): one topic level, no dots (a NATS
subject level), the same rule as a camera id."""


@dataclass(frozen=True)
class Sited(Payload):
    """A message that says which gym and box sent it (docs/mqtt.md, "Many boxes").

    Both are None, and absent from the JSON, on a box with no `site:` configured: the
    single-box payloads are unchanged.
    """

    gym: Annotated[
        str | None,
        Wire(
            "The gym the box belongs to (`site.gym`); absent on a box with no site",
            omit_none=True,
            schema={"type": "string", "pattern": SITE_ID_PATTERN},
        ),
    ] = field(default=None, kw_only=True)
    box: Annotated[
        str | None,
        Wire(
            "The box that sent it, unique within its gym (`site.box`); absent on a box with "
            "no site",
            omit_none=True,
            schema={"type": "string", "pattern": SITE_ID_PATTERN},
        ),
    ] = field(default=None, kw_only=True)

    def sited(self, gym: str | None, box: str | None) -> Self:
        """The message with the box's gym and box ids (None for a box with no site)."""
        return replace(self, gym=gym, box=box)


# ---------------------------------------------------------------- helpers
_T = TypeVar("_T")


def _per_class(fn: Callable[[type], _T]) -> Callable[[type], _T]:
    """Caches `fn(cls)` (a class's fields never change; the JSON path reads them often)."""
    memo: dict[type, _T] = {}

    def cached(cls: type) -> _T:
        if cls not in memo:
            memo[cls] = fn(cls)
        return memo[cls]

    return cached


@_per_class
def type_hints(cls: type) -> dict[str, Any]:
    """A payload class's field types, `Annotated` kept."""
    return typing.get_type_hints(cls, include_extras=True)


@_per_class
def wire_order(cls: type) -> tuple[dataclasses.Field, ...]:
    """Positional fields in declaration order, then the keyword-only ones."""
    fields = dataclasses.fields(cls)
    return tuple(f for f in fields if not f.kw_only) + tuple(f for f in fields if f.kw_only)


@_per_class
def omitted_when_none(cls: type) -> frozenset[str]:
    """The fields whose key is left out while their value is None (`Wire(omit_none=True)`)."""
    return frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if (wire := wire_of(type_hints(cls)[f.name])) and wire.omit_none
    )


def wire_of(hint: Any) -> Wire | None:
    """The `Wire` annotation of a field's type hint, if any."""
    if typing.get_origin(hint) is Annotated:
        return next((m for m in hint.__metadata__ if isinstance(m, Wire)), None)
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Payload):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _read(hint: Any, value: Any, where: str) -> Any:
    """A JSON value as the type `hint` holds it (tuples, nested payloads); shapes checked."""
    if typing.get_origin(hint) is Annotated:
        hint = hint.__origin__
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _read(inner, value, where)
    if origin is Literal:
        if value not in args:
            raise ContractError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if origin is tuple:
        _expect(isinstance(value, list), where, "a list", value)
        return tuple(_read(args[0], v, where) for v in value)
    if origin is dict:
        _expect(isinstance(value, dict), where, "an object", value)
        return {k: _read(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Payload):
        return hint.from_dict(value)
    return _scalar(hint, value, where)


def _scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        _expect(ok, where, "a number", value)
    elif hint in (int, str, bool):
        ok = isinstance(value, hint) and (hint is bool or not isinstance(value, bool))
        _expect(ok, where, hint.__name__, value)
    return value


def _expect(ok: bool, where: str, what: str, value: Any) -> None:
    if not ok:
        raise ContractError(f"{where}: expected {what}, got {value!r}")
