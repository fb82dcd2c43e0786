"""Logging set-up for the command line and the daemon (library modules only get loggers)."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str = "info") -> None:
    """Sends log lines to stderr as `time level logger: message`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
