"""Which package may import which: the edge image carries the product, not its test rigs."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_the_daemon_imports_neither_the_renderer_nor_the_reports_video_code():
    forbidden = ("edge.synth", "edge.report.video", "edge.report.media", "tests")
    assert offending(ROOT / "edge" / "daemon", forbidden) == {}


def test_the_product_never_imports_the_tests():
    assert offending(ROOT / "edge", ("tests",)) == {}


def test_the_scan_sees_imports_inside_functions(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from edge.synth.clip import render_clip\n")
    assert "edge.synth.clip" in imports_of(probe)
