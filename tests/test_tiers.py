"""tests/tiers.py marks tests by the names of what they use: every name must still exist
(a helper moved or a fixture renamed would quietly put its tests in the fast tier)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.tiers import FIXTURE_TIERS, HELPER_TIERS

TESTS = Path(__file__).resolve().parent


def _resolve(name: str) -> object:
    """The object a qualified name (module path, then attributes) names."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(name)


@pytest.mark.parametrize("name", sorted(HELPER_TIERS))
def test_every_helper_named_for_a_tier_is_there(name):
    helper = _resolve(name)
    assert f"{helper.__module__}.{helper.__qualname__}" == name


def test_every_fixture_named_for_a_tier_is_defined():
    source = "\n".join(path.read_text(encoding="utf-8") for path in TESTS.rglob("*.py"))
    defined = set(re.findall(r"@pytest\.fixture[^\n]*\ndef (\w+)\(", source))
    assert set(FIXTURE_TIERS) <= defined, set(FIXTURE_TIERS) - defined
