"""Where settings come from: the YAML file (strict loader) or an embedded default.

The loader is pyyaml's SafeLoader plus a duplicate-key check (pyyaml silently keeps the
last of two `platform-1:` entries), a bound on what aliases expand to (an alias loop
`a: &a [*a]` or a "billion laughs" file is refused with its line before anything walks
it), and a map of each key path to its line, so an issue can say where in the file the
bad value is. `LoadState` carries what one load knows (the file,
the folder relative paths start from) to the YAML source, through a context variable; the
sections' validators learn the folder from `edge.config_base.config_folder`.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, YamlConfigSettingsSource

from edge.errors import ConfigError, ConfigIssue

_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_DEPTH = 64
"""Nesting levels a configuration may use (it needs five or six)."""
MAX_VALUES = 10_000
"""Values a configuration may hold once its aliases are expanded: a gym's file has a few
hundred; a "billion laughs" file (aliases of aliases) has billions."""
KeyLines = dict[tuple[str, ...], int]


@dataclass
class LoadState:
    """What one load knows while pydantic-settings builds the settings object.

    Attributes:
        path: The YAML file, or None.
        base_dir: The folder relative paths are resolved against
            (`edge.config_base.resolve_path`, the sections' validators use it).
        data: An embedded configuration used in place of a file (same priority).
        lines: Key path -> 1-based line in the file, filled in when the file is read.
    """

    path: Path | None
    base_dir: Path
    data: dict[str, Any] | None = None
    lines: KeyLines = field(default_factory=dict)


CURRENT_LOAD: ContextVar[LoadState | None] = ContextVar("edge_settings_load", default=None)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:  # `<<: *anchor` may be overridden by explicit keys
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # an unhashable key: construct_mapping reports it
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {first + 1})",
                key_node.start_mark,
            )
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _key_lines(node: yaml.Node, prefix: tuple[str, ...], lines: KeyLines) -> None:
    """Records the 1-based line of every key path (and list item) under `node`."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, str(key_node.value))
            lines[path] = key_node.start_mark.line + 1
            _key_lines(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, str(index))
            lines[path] = item.start_mark.line + 1
            _key_lines(item, path, lines)


def load_yaml(path: Path) -> tuple[dict[str, Any], KeyLines]:
    """Reads a YAML mapping and the line of each key path.

    Raises:
        ConfigError: Unreadable file, syntax error (with line and column), duplicate key,
            or a top level that is not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(issues=[ConfigIssue(str(path), f"cannot read the file: {err}")]) from err
    loader = _StrictLoader(text)
    try:
        _check_depth(path, text)
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(path, node)
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as err:
        raise ConfigError(issues=[_syntax_issue(path, err)]) from None  # no values in traces
    except yaml.YAMLError as err:
        raise ConfigError(issues=[ConfigIssue(str(path), f"invalid YAML: {err}")]) from None
    finally:
        loader.dispose()
    if data is None:  # a file of comments only
        data = {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        message = f"the file must be a mapping of sections (cameras:, mqtt:, ...), not a {kind}"
        raise ConfigError(issues=[ConfigIssue(str(path), message)])
    lines: KeyLines = {}
    if node is not None:
        _key_lines(node, (), lines)
    return data, lines


def _check_depth(path: Path, text: str) -> None:
    """Refuses lists or mappings nested deeper than MAX_DEPTH, from the parser's events.

    The parser is a state machine; pyyaml's composer and our walks recurse once per level,
    so a file thousands of levels deep would end in a RecursionError (after a second of
    unwinding) without this check.

    Raises:
        ConfigError: Naming the line where the nesting goes too deep.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_StrictLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
                message = f"YAML nested more than {MAX_DEPTH} levels deep: refused"
                raise ConfigError(issues=[ConfigIssue(where, message)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(path: Path, root: yaml.Node) -> None:
    """Refuses a node graph with a loop, or one that expands to more than MAX_VALUES.

    Aliases make the composed document a graph: sizes are memoised per node, so the check
    costs the file's size, not its expansion's.

    Raises:
        ConfigError: Naming the line of the looping or the expanding anchor.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, active: set[int]) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in active:
            loop = "an alias inside the value anchored here refers back to it (a loop)"
            raise _alias_error(path, node, loop)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        active.add(id(node))
        total = 1 + sum(size(child, active) for child in children)
        active.discard(id(node))
        if total > MAX_VALUES:
            raise _alias_error(
                path,
                node,
                f"its aliases expand to more than {MAX_VALUES} values (aliases of aliases, a "
                '"billion laughs")',
            )
        sizes[id(node)] = total
        return total

    size(root, set())


def _alias_error(path: Path, node: yaml.Node, why: str) -> ConfigError:
    mark = node.start_mark
    message = f"YAML aliases refused: {why}; write the values out instead"
    return ConfigError(issues=[ConfigIssue(f"{path}:{mark.line + 1}:{mark.column + 1}", message)])


def _syntax_issue(path: Path, err: yaml.MarkedYAMLError) -> ConfigIssue:
    """`FILE:LINE:COLUMN: YAML syntax error: problem (context on line N)`."""
    mark = err.problem_mark or err.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    constructor = isinstance(err, yaml.constructor.ConstructorError)
    message = f"{'YAML error' if constructor else 'YAML syntax error'}: {err.problem or err}"
    if err.context:
        context_line = f" on line {err.context_mark.line + 1}" if err.context_mark else ""
        message += f" ({err.context}{context_line})"
    return ConfigIssue(where, message)


class YamlFileSource(YamlConfigSettingsSource):
    """pydantic-settings' YAML source with the strict loader, or an embedded mapping."""

    def __init__(self, settings_cls: type[BaseSettings], state: LoadState) -> None:
        """Reads `state.path` (recording key lines in `state.lines`), else `state.data`."""
        self._state = state
        super().__init__(settings_cls, yaml_file=state.path)

    def _read_files(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self._state.path is None:
            return dict(self._state.data or {})
        return super()._read_files(*args, **kwargs)

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        data, self._state.lines = load_yaml(Path(str(file_path)))  # always a file path here
        return data


def yaml_sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """A settings class's sources: keyword arguments, the environment, then the YAML file.

    The file (or embedded default) is the one being loaded (`CURRENT_LOAD`); none while a
    class is built outside a load (tests, defaults). Shared by the box's and the hub's.
    """
    state = CURRENT_LOAD.get()
    if state is None or (state.path is None and state.data is None):
        return init_settings, env_settings
    return init_settings, env_settings, YamlFileSource(settings_cls, state)
