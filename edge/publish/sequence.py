"""`BoxSequence`: the box's own numbering of its events, 1, 2, 3 ... (docs/mqtt.md, `seq`).

A box with a site numbers every event it emits, across its cameras and its restarts, so
the hub (or any consumer) can tell an event lost on the way from one never made: per box,
the numbers it holds must run without a gap. The last number is saved in the spool's
database before the event that carries it is spooled, so a restart continues after it.

A number is never given twice while the spool can be written. If it cannot (disk full),
numbering goes on in memory and the warning says so; a restart in that state starts again
after the last number saved, and those numbers may then repeat, with other event ids.
"""

from __future__ import annotations

import logging
import threading

from edge.errors import SpoolError
from edge.publish.spool import Spool

logger = logging.getLogger(__name__)

COUNTER = "box_seq"


class BoxSequence:
    """Hands out the box's event numbers; thread-safe."""

    def __init__(self, spool: Spool) -> None:
        """Continues after the last number saved in `spool`."""
        self._spool = spool
        self._last = spool.counter(COUNTER)
        self._unsaved = False
        self._lock = threading.Lock()

    @property
    def last(self) -> int:
        """The last number handed out (0 before the first ever)."""
        return self._last

    def next(self) -> int:
        """The next number, saved before it is returned where the spool can be written."""
        with self._lock:
            self._last += 1
            try:
                self._spool.save_counter(COUNTER, self._last)
            except SpoolError as err:
                if not self._unsaved:
                    logger.warning(
                        "event numbers cannot be saved (%s): numbering goes on in memory; "
                        "a restart before the spool can be written again may repeat numbers "
                        "after %d",
                        err,
                        self._last - 1,
                    )
                self._unsaved = True
            else:
                if self._unsaved:
                    logger.info("event numbers are saved again (last %d)", self._last)
                self._unsaved = False
            return self._last
