"""The chain test's fixtures: the daemon tests' rendered clip and daemons, the hub's PostgreSQL."""

from tests.daemon.conftest import daemons, swing_clip  # noqa: F401 (fixtures, used by name)
from tests.hub.conftest import hub_dsn, pg_server  # noqa: F401
