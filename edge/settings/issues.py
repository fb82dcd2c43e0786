"""Turning pydantic and pydantic-settings errors into `ConfigIssue`s.

Each issue names the key path, says what is wrong in plain words (an unknown key gets the
allowed keys and the closest one), shows the value unless it could be a secret, and tells
where the value came from: its line in the file or the environment variable.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsError

from edge.errors import ConfigIssue
from edge.log import redact
from edge.settings.sources import KeyLines

_SECRET_WORDS = ("pass", "secret", "token")
_MAX_VALUE_CHARS = 80


def env_issue(err: SettingsError, prefix: str) -> ConfigIssue:
    """A variable pydantic-settings could not parse (a whole section that is not JSON)."""
    message = str(err)  # 'error parsing value for field "mqtt" from source "EnvSettingsSource"'
    key = message.split('"')[1] if message.count('"') >= 2 else ""
    variable = f"{prefix}{key.upper()}" if key else f"{prefix}*"
    return ConfigIssue(
        key or "(environment)",
        f"a whole section from the environment must be a JSON object; or set its keys one by "
        f"one, as in {variable}__KEY",
        origin=f"from {variable}",
    )


def unknown_env_issues(root: type[BaseModel], prefix: str) -> list[ConfigIssue]:
    """Variables with our prefix that name no top-level key (a typo would go unnoticed)."""
    issues = []
    for name in sorted(os.environ):
        if not name.upper().startswith(prefix):
            continue
        key = name[len(prefix) :].split("__")[0].lower()
        if key not in root.model_fields:
            message = _unknown_key_message((key,), root)
            issues.append(ConfigIssue(key or name, message, origin=f"from {name}"))
    return issues


def validation_issues(
    err: ValidationError, root: type[BaseModel], lines: KeyLines, prefix: str
) -> list[ConfigIssue]:
    """One `ConfigIssue` per pydantic error: key path, message, redacted value, origin."""
    environ = {name.upper(): name for name in os.environ if name.upper().startswith(prefix)}
    return [_issue(error, root, lines, environ, prefix) for error in err.errors(include_url=False)]


def _issue(
    error: Any, root: type[BaseModel], lines: KeyLines, environ: dict[str, str], prefix: str
) -> ConfigIssue:
    loc = tuple(str(part) for part in error["loc"] if part != "[key]")  # "[key]": a dict key
    variable = _env_variable(loc, environ, prefix)
    line = None if variable else _line_of(loc, lines)
    origin = f"from {variable}" if variable else (f"line {line}" if line else None)
    return ConfigIssue(
        ".".join(loc) or "(top level)",
        _message(error, loc, root),
        _shown_value(error, loc),
        origin,
    )


def _env_variable(loc: tuple[str, ...], environ: dict[str, str], prefix: str) -> str | None:
    """The variable that supplied this key (or the section holding it), if one is set."""
    for end in range(len(loc), 0, -1):
        name = prefix + "__".join(loc[:end]).upper()
        if name in environ:
            return environ[name]
    return None


def _line_of(loc: tuple[str, ...], lines: KeyLines) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _message(error: Any, loc: tuple[str, ...], root: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key_message(loc, root)
    if kind == "missing":
        return "required, but not given"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_type" and isinstance(error.get("input"), int | float | bool):
        message += " (quote it in YAML)"
    return redact(message)


def _unknown_key_message(loc: tuple[str, ...], root: type[BaseModel]) -> str:
    model = _model_at(loc[:-1], root)
    if model is None:
        return "unknown key"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
    close = close or [name for name in allowed if loc[-1] and loc[-1] in name][:1]
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}allowed here: {', '.join(allowed)}"


def _model_at(loc: tuple[str, ...], model: type[BaseModel]) -> type[BaseModel] | None:
    """The model class at a key path (a dict level consumes one part: the key)."""
    parts = list(loc)
    while parts:
        info = model.model_fields.get(parts.pop(0))
        if info is None:
            return None
        annotation = unwrap(info.annotation)
        if typing.get_origin(annotation) is dict:
            if not parts:
                return None
            parts.pop(0)
            annotation = unwrap(typing.get_args(annotation)[1])
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def unwrap(annotation: Any) -> Any:
    """Strips `Annotated[...]` and `| None` from a type annotation."""
    if typing.get_origin(annotation) is typing.Annotated:
        return unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _shown_value(error: Any, loc: tuple[str, ...]) -> str | None:
    """The bad value if it is a scalar that cannot be a secret (and redacted all the same)."""
    if error["type"] in ("extra_forbidden", "missing"):
        return None  # an unknown key may be a misspelt password
    if any(word in part.lower() for part in loc for word in _SECRET_WORDS):
        return None
    value = error.get("input")
    if value is not None and not isinstance(value, str | int | float | bool):
        return None
    if isinstance(value, str) and "@" in value:  # user:password@ in a URL too broken to redact
        return None
    text = redact(repr(value))
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."
