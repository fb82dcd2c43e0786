"""A real, throwaway PostgreSQL server for tests and tools: initdb, start, stop, restart.

`Postgres` initialises a cluster in a fresh temporary folder and runs it on a free port of
127.0.0.1, with its socket in that folder. Run as root, the folder is handed to the
`postgres` user and every server command runs as that user (PostgreSQL refuses to run as
root: FIELD-NOTES). `restart()` keeps the port, so a hub configured with `dsn` reconnects.
`fast=True` turns fsync off: safe against a crashed server (the OS still has the writes),
not against a crashed machine, which no test makes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from devkit.broker import HOST, free_port

SERVER_USER = "postgres"
"""The operating-system user the server runs as when we are root."""


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def skip_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None (the Debian package `postgresql`)."""
    if bin_dir() is None:
        return "no /usr/lib/postgresql/*/bin/pg_ctl: install the Debian package `postgresql`"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root, but there is no `{SERVER_USER}` user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is absent: pip install 'hinge-edge[hub]'"
    return None


class Postgres:
    """One PostgreSQL cluster in a temporary folder, on a fixed free port of 127.0.0.1."""

    def __init__(self, *, fast: bool = True, settings: dict[str, str] | None = None) -> None:
        """Runs initdb (a second or two); nothing listens until `start()`.

        Args:
            fast: fsync off (tests); False keeps the defaults
                (benchmarks of what a real server would do).
            settings: More server settings (`-c name=value`), e.g. {"max_connections": "50"}.
        """
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError(skip_reason())
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="hinge-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.host = HOST
        self.port = free_port()
        self.user = "postgres"
        self._as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        options = {"listen_addresses": HOST, "unix_socket_directories": str(self.root)}
        if fast:
            # Not synchronous_commit off: a commit would be acknowledged before its WAL
            # reached the OS, and a crashed server (stop("immediate")) would lose it.
            options |= {"fsync": "off", "full_page_writes": "off"}
        options |= settings or {}
        self._options = " ".join(f"-c {name}={value}" for name, value in options.items())
        self._pg(
            "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
            "--no-sync", "--locale=C",
        )  # fmt: skip

    def _pg(self, tool: str, *args: str, timeout_s: float = 60) -> None:
        result = subprocess.run(
            [str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=self.root,
            **self._as_user,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({result.returncode}):\n{result.stderr}\n{self.log()}"
            )

    @property
    def dsn(self) -> str:
        """Connection string to the `postgres` database (over TCP, trust authentication)."""
        return self.dsn_for("postgres")

    def dsn_for(self, dbname: str) -> str:
        """Connection string to another database of this server."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def start(self, timeout_s: float = 30) -> Postgres:
        """Starts the server; returns once it accepts connections."""
        self._pg(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w",
            "-t", str(int(timeout_s)), "-o", f"-p {self.port} {self._options}", "start",
            timeout_s=timeout_s + 5,
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stops the server: `fast` (clean), or `immediate` (like a crash: no checkpoint)."""
        if (self.data / "postmaster.pid").exists():
            self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stops and starts again on the same port."""
        self.stop(mode)
        self.start()

    def create_database(self, name: str) -> str:
        """Creates an empty database; returns its connection string."""
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # a test's own name, not user input
        return self.dsn_for(name)

    def log(self) -> str:
        """What the server logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        """Stops the server (immediately) and deletes its folder."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
