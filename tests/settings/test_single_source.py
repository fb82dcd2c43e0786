"""Each config section, field and rule is defined once, by its stage (read from the source, ast).

A stage's section lives in its own package (`edge/<stage>/config.py`); `edge/settings`
only assembles them. No dataclass copies a section's fields (the old `MqttOptions` and
`CaptureOptions` did, with their own checks and messages), no section repeats another's,
a validator's field belongs to one section, and only the settings loader raises
`ConfigError` (it turns the sections' errors into issues that name the key).
"""

from __future__ import annotations

import ast
import functools
import re
import typing
from collections.abc import Collection, Iterator
from pathlib import Path

from pydantic import BaseModel

from edge.settings import AppSettings
from edge.settings.issues import unwrap

ROOT = Path(__file__).resolve().parents[2]
EDGE = ROOT / "edge"
CONFIG_MODULES = {
    "edge/config_base.py",  # the base every section derives from, nothing else
    "edge/capture/config.py",
    "edge/pose/config.py",
    "edge/hinge/config.py",
    "edge/publish/config.py",
    "edge/settings/models.py",  # the root, and the daemon's own: cameras, log
    "edge/daemon/config.py",  # the web side's section (web, web.auth, web.tls)
    "edge/hub/config.py",  # the hub's root and its own sections (broker, database, hub)
}
ROOT_BASES = {"BaseModel", "BaseSettings"}
SHARED_FIELDS_MAX = 2
"""More shared field names than this and one class copies the other (host + port is fine)."""
CONFIG_ERROR_GUARDS = {"edge/publish/topics.py"}
"""Not a config key's rule: the publisher refuses a camera id that cannot be a topic level."""


@functools.cache
def _parsed() -> tuple[tuple[str, ast.Module], ...]:
    return tuple(
        (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(EDGE.rglob("*.py"))
    )


def modules() -> Iterator[tuple[str, ast.Module]]:
    yield from _parsed()


def classes() -> Iterator[tuple[str, ast.ClassDef]]:
    for name, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                yield name, node


def base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


@functools.cache
def sections() -> dict[str, list[tuple[str, ast.ClassDef]]]:
    """Every pydantic model class under edge/ by name (a subclass of one counts too)."""
    found: dict[str, list[tuple[str, ast.ClassDef]]] = {}
    every = list(classes())
    known = set(ROOT_BASES)
    while True:
        new = [(m, c) for m, c in every if base_names(c) & known and c.name not in found]
        if not new:
            return found
        for module, node in new:
            found.setdefault(node.name, []).append((module, node))
            known.add(node.name)


def declared_fields(node: ast.ClassDef, sections: Collection[str] = ()) -> set[str]:
    """Names annotated in the class body: its own fields (`model_config` aside).

    Fields whose type names one of `sections` (a sub-section, a map of them) are left out:
    what is compared is the leaves, the keys that hold values.
    """
    return {
        stmt.target.id
        for stmt in node.body
        if isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id != "model_config"
        and not _names(stmt.annotation) & set(sections)
    }


def _names(annotation: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | {
        n.value for n in ast.walk(annotation) if isinstance(n, ast.Constant)
    }


def leaves(node: ast.ClassDef, by_name: dict[str, ast.ClassDef]) -> set[str]:
    """A section's value keys, its own and those it inherits from other sections."""
    fields = declared_fields(node, set(by_name))
    for base in base_names(node):
        if base in by_name:
            fields |= leaves(by_name[base], by_name)
    return fields


def is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def validated_fields(node: ast.ClassDef) -> set[str]:
    """Field names a `@field_validator(...)` in the class names."""
    names = set()
    for stmt in node.body:
        if not isinstance(stmt, ast.FunctionDef):
            continue
        for decorator in stmt.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and getattr(decorator.func, "id", "") == "field_validator"
            ):
                names |= {a.value for a in decorator.args if isinstance(a, ast.Constant)}
    return names


def settings_tree(model: type[BaseModel]) -> set[str]:
    """Class names of the models AppSettings assembles (sections, sub-sections, bases)."""
    names = {cls.__name__ for cls in model.__mro__ if issubclass(cls, BaseModel)}
    for info in model.model_fields.values():
        annotation = unwrap(info.annotation)
        if typing.get_origin(annotation) is dict:
            annotation = unwrap(typing.get_args(annotation)[1])
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= settings_tree(annotation)
    return names


def test_the_scan_finds_every_section_the_settings_assemble():
    assembled = settings_tree(AppSettings) - {"BaseModel", "BaseSettings"}
    assert assembled - set(sections()) == set()


def test_each_section_is_defined_once_in_a_config_module():
    found = sections()
    assert {name: [m for m, _ in defs] for name, defs in found.items() if len(defs) > 1} == {}
    misplaced = {name: defs[0][0] for name, defs in found.items()}
    assert {n: m for n, m in misplaced.items() if m not in CONFIG_MODULES} == {}


def test_no_second_address_for_a_section():
    """The pose section's old home (`edge/config.py`) is gone: one import path per section."""
    assert not (EDGE / "config.py").exists()
    old = re.compile(r"^\s*(from edge\.config import|import edge\.config\b)", re.M)
    imports = [
        str(path.relative_to(EDGE.parent))
        for folder in ("edge", "tools", "tests", "devkit", "research")
        for path in (EDGE.parent / folder).glob("**/*.py")
        if old.search(path.read_text("utf-8"))
    ]
    assert imports == []


def test_one_base_for_every_section():
    """Strictness (unknown keys refused, frozen) is set once: every section derives from it."""
    direct = sorted(
        (module, node.name) for module, node in classes() if base_names(node) & ROOT_BASES
    )
    assert direct == [
        ("edge/config_base.py", "StrictModel"),
        ("edge/hub/config.py", "HubSettings"),  # the hub's root (a program of its own)
        ("edge/settings/models.py", "AppSettings"),
    ]


def test_no_dataclass_copies_a_sections_fields():
    by_name = {name: defs[0][1] for name, defs in sections().items()}
    copies = []
    for module, node in classes():
        if not is_dataclass(node):
            continue
        mine = declared_fields(node)
        for name, section in by_name.items():
            shared = mine & leaves(section, by_name)
            if len(shared) > SHARED_FIELDS_MAX:
                copies.append((module, node.name, name, sorted(shared)))
    assert copies == []


def test_no_section_repeats_another_sections_fields():
    by_name = {name: defs[0][1] for name, defs in sections().items()}
    repeats = []
    names = sorted(by_name)
    for i, one in enumerate(names):
        for other in names[i + 1 :]:
            shared = declared_fields(by_name[one], set(by_name)) & declared_fields(
                by_name[other], set(by_name)
            )
            if len(shared) > SHARED_FIELDS_MAX:
                repeats.append((one, other, sorted(shared)))
    assert repeats == []


def test_a_validated_field_belongs_to_one_section():
    owners: dict[str, list[str]] = {}
    for name, defs in sections().items():
        for field in validated_fields(defs[0][1]):
            owners.setdefault(field, []).append(name)
    assert {field: names for field, names in owners.items() if len(names) > 1} == {}


def test_only_the_settings_loader_raises_config_errors():
    raisers = set()
    for module, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                if getattr(node.exc.func, "id", "") == "ConfigError":
                    raisers.add(module)
    outside = {m for m in raisers if not m.startswith("edge/settings/")}
    assert outside == CONFIG_ERROR_GUARDS


def test_the_scan_sees_a_copy():
    probe = ast.parse(
        "@dataclass(frozen=True)\nclass Copy:\n    host: str\n    port: int\n    qos: int = 1\n"
    )
    node = next(n for n in ast.walk(probe) if isinstance(n, ast.ClassDef))
    by_name = {name: defs[0][1] for name, defs in sections().items()}
    assert is_dataclass(node)
    assert declared_fields(node) & leaves(by_name["MqttConfig"], by_name) == {
        "host",
        "port",
        "qos",
    }
