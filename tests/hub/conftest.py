"""The hub's fixtures: one PostgreSQL server per session, a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from devkit.postgres import Postgres, skip_reason

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Postgres]:
    """A throwaway PostgreSQL (fsync off) for the whole session."""
    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    with Postgres() as server:
        yield server


@pytest.fixture
def hub_dsn(pg_server: Postgres) -> str:
    """A new, empty database of `pg_server` (no schema yet)."""
    return pg_server.create_database(f"hub_{next(_names)}")
