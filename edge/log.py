"""Logging set-up for the command line and the daemon (library modules only get loggers).

Every line passes a redaction filter: the secrets of any URL (`edge.redact.redact_url`:
`rtsp://user:***@host`, `?password=***`...) and every value registered with
`register_secret` (the MQTT password, camera passwords) are replaced by `***`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading

from edge.contract import iso
from edge.redact import MASK, redact_url

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
FORMATS = ("text", "json")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secrets_pattern: re.Pattern[str] | None = None


def registered_secrets() -> frozenset[str]:
    """The values masked so far."""
    with _secrets_lock:
        return frozenset(_secrets)


def forget_secrets(keep: frozenset[str] = frozenset()) -> None:
    """Forgets every registered secret but `keep` (for tests: a daemon keeps them all)."""
    global _secrets_pattern
    with _secrets_lock:
        _secrets.clear()
        _secrets_pattern = None
    for value in keep:
        register_secret(value)


def register_secret(value: str | None) -> None:
    """Adds a value that must never appear in a log line (empty values are ignored).

    It is masked wherever it stands on its own, not inside a longer run of letters and
    digits (`pw=hunter2` and `'hunter2'` are masked; `hunter2x` is a different word).
    """
    global _secrets_pattern
    if not value:
        return
    with _secrets_lock:
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leaks
        # Not inside a longer word: a short password ("b") must not mask every "b" in a line.
        alternatives = "|".join(re.escape(s) for s in ordered)
        _secrets_pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


def redact(text: str) -> str:
    """Masks URL secrets and registered secrets in a piece of text."""
    text = redact_url(text)
    pattern = _secrets_pattern
    return pattern.sub(MASK, text) if pattern is not None else text


class RedactionFilter(logging.Filter):
    """Scrubs secrets from a record's message, exception text and stack before formatting.

    The record is rewritten in place (message formatted, args dropped), so every handler
    after this one sees the clean text too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redacts the record; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg} (log arguments did not match the format)"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `ts` (UTC, ISO 8601), `level`, `logger`, `msg`, `camera`.

    `camera` is present when the call passed it, as in
    `logger.warning("%s: stream lost", cam, extra={"camera": cam})`; `exc` holds a traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Renders the record as a single line of JSON."""
        entry: dict[str, str] = {
            "ts": iso(record.created),  # the form of every time in our payloads
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        camera = getattr(record, "camera", None)
        if camera is not None:
            entry["camera"] = str(camera)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    """Sends redacted log lines to stderr.

    Args:
        level: `debug`, `info`, `warning` or `error`.
        fmt: `text` (`time level logger: message`) or `json` (one object per line).

    Raises:
        ValueError: An unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, "%H:%M:%S"))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
