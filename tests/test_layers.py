"""Which package may import which: the edge image carries the product, not its test rigs.

`edge` is the product (the wheel and the image carry it alone); `devkit` is the harness
the tests and the tools share; `tools` and `research` run from the repository root as
modules (`python -m tools.NAME`) and reach each other by import, never through `tests`
or by editing `sys.path`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offending(folder: Path, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """Files under `folder` importing a module under any of `forbidden`, with what."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        bad = sorted(
            name
            for name in imports_of(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def sys_path_edits(folder: Path) -> dict[str, list[int]]:
    """Files under `folder` calling `insert`, `append` or `extend` on `sys.path`, with the lines.

    `sys.path` is matched however the file names it (`import sys as s`, `from sys import
    path as p`).
    """
    found = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        names = {"sys.path"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(f"{a.asname}.path" for a in node.names if a.name == "sys" and a.asname)
            elif isinstance(node, ast.ImportFrom) and node.module == "sys":
                names.update(a.asname or a.name for a in node.names if a.name == "path")
        lines = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("insert", "append", "extend")
            and ast.unparse(node.func.value) in names
        ]
        if lines:
            found[str(path.relative_to(folder.parent))] = lines
    return found


def test_the_daemon_imports_neither_the_renderer_nor_the_reports_video_code():
    forbidden = ("edge.synth", "edge.report.video", "edge.report.media", "tests")
    assert offending(ROOT / "edge" / "daemon", forbidden) == {}


def test_the_product_imports_no_tests_tools_research_or_harness():
    assert offending(ROOT / "edge", ("tests", "tools", "research", "devkit")) == {}


def test_the_renderer_package_holds_no_evaluation_harness():
    # The suite runs pose and replay on rendered clips: it lives in tools/synthsuite.
    forbidden = ("edge.pose", "edge.replay", "edge.daemon", "tools")
    assert offending(ROOT / "edge" / "synth", forbidden) == {}


@pytest.mark.parametrize("folder", ["tools", "research", "devkit"])
def test_tools_research_and_the_harness_never_import_the_tests(folder):
    assert offending(ROOT / folder, ("tests",)) == {}


@pytest.mark.parametrize("folder", ["tools", "research", "devkit"])
def test_tools_research_and_the_harness_never_edit_sys_path(folder):
    assert sys_path_edits(ROOT / folder) == {}


def test_the_scan_sees_imports_inside_functions(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from edge.synth.clip import render_clip\n")
    assert "edge.synth.clip" in imports_of(probe)


def test_the_scan_sees_sys_path_edits(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nimport sys as s\nfrom sys import path as p\npath = []\n"
        "def f():\n    sys.path.insert(0, 'x')\n    s.path.append('y')\n    p.extend([])\n"
        "    path.append('z')\n"
    )
    assert sys_path_edits(tmp_path) == {f"{tmp_path.name}/probe.py": [6, 7, 8]}
