"""Schema migrations: each file applied once, even by workers starting together; edits refused."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from edge.hub.migrate import MigrationError, load_migrations, migrate


def applied(dsn: str) -> list[tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()


def test_the_package_migrations_apply_once_in_order(hub_dsn):
    files = load_migrations()
    assert [m.version for m in files] == list(range(1, len(files) + 1))
    with psycopg.connect(hub_dsn, autocommit=True) as conn:
        assert migrate(conn) == [m.version for m in files]
        assert migrate(conn) == []
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert {"events", "reps", "platform_days", "platform_day_faults", "boxes", "cameras"} <= tables
    assert applied(hub_dsn) == [(m.version, m.name) for m in files]


def test_workers_starting_together_apply_each_file_once(hub_dsn):
    start = threading.Barrier(4)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with psycopg.connect(hub_dsn, autocommit=True) as conn:
                start.wait()
                results.append(migrate(conn))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    versions = [m.version for m in load_migrations()]
    assert sorted(results, key=len) == [[], [], [], versions]  # one applied, three found it done
    assert [v for v, _ in applied(hub_dsn)] == versions


def test_a_changed_applied_file_is_refused(hub_dsn, tmp_path: Path):
    (tmp_path / "001_first.sql").write_text("CREATE TABLE t (a int);\n")
    with psycopg.connect(hub_dsn, autocommit=True) as conn:
        assert migrate(conn, load_migrations(tmp_path)) == [1]
        (tmp_path / "001_first.sql").write_text("CREATE TABLE t (a bigint);\n")
        with pytest.raises(MigrationError, match=r"001_first\.sql changed after it was applied"):
            migrate(conn, load_migrations(tmp_path))


def test_a_database_newer_than_the_hub_is_refused(hub_dsn, tmp_path: Path):
    (tmp_path / "001_first.sql").write_text("CREATE TABLE t (a int);\n")
    (tmp_path / "002_second.sql").write_text("CREATE TABLE u (a int);\n")
    with psycopg.connect(hub_dsn, autocommit=True) as conn:
        migrate(conn, load_migrations(tmp_path))
        (tmp_path / "002_second.sql").unlink()
        with pytest.raises(MigrationError, match="schema version 2, which this hub does not know"):
            migrate(conn, load_migrations(tmp_path))


def test_a_failing_file_leaves_nothing_of_itself(hub_dsn, tmp_path: Path):
    (tmp_path / "001_first.sql").write_text("CREATE TABLE t (a int);\n")
    (tmp_path / "002_broken.sql").write_text("CREATE TABLE u (a int);\nCREATE TABLE oops (;\n")
    with psycopg.connect(hub_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.SyntaxError):
            migrate(conn, load_migrations(tmp_path))
        assert conn.execute("SELECT to_regclass('u')").fetchone() == (None,)
    assert applied(hub_dsn) == [(1, "first")]


@pytest.mark.parametrize("name", ["1_short.sql", "001-dash.sql", "001_Upper.sql"])
def test_a_misnamed_file_is_refused(tmp_path: Path, name: str):
    (tmp_path / name).write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"named NNN_name\.sql"):
        load_migrations(tmp_path)
