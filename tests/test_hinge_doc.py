"""docs/hinge.md, the domain page users get, names what the engine does and nothing else."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from edge.hinge.config import DEFAULT_CUES, Exercise, FaultConfig

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "hinge.md"


def _first_column(heading: str) -> list[str]:
    """The code in the first cell of each row of the table under a `## heading`."""
    section = DOC.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)


def test_the_fault_table_lists_every_fault_the_engine_reports() -> None:
    assert _first_column("Faults") == list(DEFAULT_CUES)
    assert set(FaultConfig().weights) == set(DEFAULT_CUES)


def test_the_lift_table_lists_every_exercise() -> None:
    assert _first_column("The lifts") == list(typing.get_args(Exercise))


def test_no_doc_sends_users_outside_the_project() -> None:
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    assert [p.name for p in texts if "shared/HINGE" in p.read_text()] == []
