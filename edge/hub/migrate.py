"""The hub's schema migrations: plain numbered SQL files, applied at start, each once.

`migrations/NNN_name.sql` are applied in order, each in its own transaction together
with its row in `schema_migrations` (version, name, sha256 of the file, when). Workers
starting at the same moment take a PostgreSQL advisory lock first, so one applies and the
others find the work done. A file that was applied and has since changed is refused (the
database no longer matches it); so is a database that holds a version this hub does not
know (a newer hub migrated it). No down-migrations: a change is a new file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from edge.errors import HubError

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

LOCK_KEY = 0x68696E6765  # "hinge": the advisory lock every starting worker takes
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    sha256     text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(HubError):
    """The schema cannot be brought up to date (names the file and why)."""


@dataclass(frozen=True)
class Migration:
    """One SQL file of `migrations/`."""

    version: int
    name: str
    sql: str
    sha256: str


def load_migrations(folder: Traversable | None = None) -> list[Migration]:
    """The migrations in `folder` (default: the package's), by version.

    Raises:
        MigrationError: A .sql file not named NNN_name.sql, or two with one number.
    """
    folder = folder or resources.files("edge.hub") / "migrations"
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"{entry.name}: a migration is named NNN_name.sql (3 digits)")
        data = entry.read_bytes()
        version = int(match[1])
        if version in found:
            raise MigrationError(f"{entry.name}: version {version} is taken twice")
        sha = hashlib.sha256(data).hexdigest()
        found[version] = Migration(version, match[2], data.decode("utf-8"), sha)
    return [found[v] for v in sorted(found)]


def migrate(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Brings the schema up to date; returns the versions this call applied.

    Args:
        conn: A connection in autocommit mode (it is left so).
        migrations: What to apply (default: `load_migrations()`).

    Raises:
        MigrationError: An applied file changed, or the database is newer than this hub.
    """
    migrations = load_migrations() if migrations is None else migrations
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        conn.execute(_CREATE_TABLE)
        applied = {
            v: sha for v, sha in conn.execute("SELECT version, sha256 FROM schema_migrations")
        }
        check_applied(applied, migrations)
        done = []
        for migration in migrations:
            if migration.version not in applied:
                _apply(conn, migration)
                done.append(migration.version)
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def check_applied(applied: dict[int, str], migrations: list[Migration]) -> None:
    """Refuses a changed applied file and a version the code does not know.

    Args:
        applied: version -> sha256 as `schema_migrations` records them.
        migrations: The files of this hub.
    """
    known = {m.version: m for m in migrations}
    for version, sha in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has schema version {version}, which this hub does not know: a "
                "newer hub migrated it; run that version"
            )
        if migration.sha256 != sha:
            raise MigrationError(
                f"{version:03d}_{migration.name}.sql changed after it was applied (sha256 "
                f"{sha[:12]}... in the database, {migration.sha256[:12]}... now): put the "
                "change in a new migration file and restore this one"
            )


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    with conn.transaction():
        conn.execute(migration.sql.encode())  # bytes: psycopg sends it as one simple query
        conn.execute(
            "INSERT INTO schema_migrations (version, name, sha256) VALUES (%s, %s, %s)",
            (migration.version, migration.name, migration.sha256),
        )
    logger.info("schema: applied migration %03d_%s", migration.version, migration.name)
