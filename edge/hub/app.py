"""`hinge-edge hub`: the schema migrated, the worker and the chain dashboard started.

Run by `edge.cli` only once psycopg is importable (the `hub` extra).
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.hub.config import HubSettings, load_hub_settings
from edge.hub.ingest import HubWorker
from edge.hub.store import Store, wait_for_database
from edge.log import setup_logging

logger = logging.getLogger(__name__)

DATABASE_WAIT_S = 60.0
"""How long a starting hub waits for PostgreSQL (both started together by compose)."""


def run_hub(config: Path, *, web: bool = True) -> int:
    """Runs the hub until SIGTERM or SIGINT; returns the exit code.

    Args:
        config: The hub's YAML file (docs/chain.md).
        web: Serve the chain dashboard too (false: an ingest-only worker).
    """
    try:
        settings = load_hub_settings(config)
    except ConfigError as err:
        print(f"{config}: invalid configuration, not starting", file=sys.stderr)
        for issue in err.issues or [str(err)]:
            print(issue, file=sys.stderr)
        return 1
    setup_logging(settings.log.level, settings.log.format)
    store = Store(
        settings.database.conninfo(),
        timezone=settings.hub.timezone,
        topic_prefix=settings.broker.topic_prefix,
    )
    wait_for_database(store, DATABASE_WAIT_S)
    applied = store.migrate()
    logger.info("schema up to date%s", f" (applied {applied})" if applied else "")
    worker = HubWorker(settings.broker, settings.hub, store).start()
    # before the dashboard starts (a second or two): a SIGTERM meanwhile stops cleanly
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.request_stop())
    server = _start_web(settings, config.resolve().parent, worker) if web else None
    while not worker.join(1.0):
        pass
    if server is not None:
        server.stop()
    return 0


def _start_web(settings: HubSettings, folder: Path, worker: HubWorker) -> Any:
    """The chain dashboard (`edge.hub.web`) with the worker's /metrics.

    Its users file is beside the config by default.
    """
    from edge.daemon.web import open_users
    from edge.hub.metrics import HubMetrics
    from edge.hub.web import HubWeb

    users = open_users(settings.web, folder)
    server = HubWeb(
        settings.web,
        settings.database.conninfo(),
        users,
        timezone=settings.hub.timezone,
        metrics=HubMetrics(worker.figures),
    )
    server.start()
    logger.info("chain dashboard on http://%s:%d/", settings.web.host, server.port)
    return server
