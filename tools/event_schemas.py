"""Writes docs/schemas/*.schema.json from the payload types in edge/contract.

The schemas are generated, not written by hand: a field's type, bounds and description
live once, on the dataclass, and tests/contract/test_schemas.py fails when a checked-in
file differs from what this writes (or a file is there that no type generates).

    .venv/bin/python -m tools.event_schemas            # rewrite docs/schemas/
    .venv/bin/python -m tools.event_schemas --check    # exit 1 if docs/schemas/ is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.contract.schema import SCHEMA_TYPES, file_name, render

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


def wanted() -> dict[str, str]:
    """File name -> text of every schema."""
    return {file_name(cls): render(cls) for cls in SCHEMA_TYPES}


def stale(folder: Path = SCHEMAS) -> list[str]:
    """The schema files in `folder` that differ from the types, are missing, or are extra."""
    files = wanted()
    present = {p.name for p in folder.glob("*.schema.json")}
    wrong = [name for name, text in files.items() if _read(folder / name) != text]
    return sorted(wrong + sorted(present - set(files)))


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    """Rewrites docs/schemas/, or checks it with --check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a schema is stale")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        if names:
            print(
                f"stale in {SCHEMAS}: {', '.join(names)}: "
                "run .venv/bin/python -m tools.event_schemas",
                file=sys.stderr,
            )
            return 1
        return 0
    files = wanted()
    for extra in sorted({p.name for p in SCHEMAS.glob("*.schema.json")} - set(files)):
        (SCHEMAS / extra).unlink()
        print(f"removed {SCHEMAS / extra}")
    for name, text in files.items():
        (SCHEMAS / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} schemas to {SCHEMAS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
