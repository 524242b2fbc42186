"""Secrets never reach logs: every log record created in the process is redacted.

Third-party libraries log too (httpx logs each request URL at INFO, query string and
all), so a filter on Kyra's own loggers is not enough. Kyra wraps the log-record factory
once per process; the executor registers the secret values it loads, and any record
whose text contains one is rewritten before any handler sees it. This is a process-wide
hook by necessity (logging itself is process-wide); it holds data, not configuration.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any

from kyra.redaction import MASK, MIN_SECRET_LENGTH

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
_installed = False


def remember_secrets(values: Iterable[str]) -> None:
    """Add secret values to redact from every future log record."""
    global _pattern
    new = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - _values
    if not new:
        return
    with _lock:
        _values.update(new)
        ordered = sorted(_values, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def redact_text(text: str) -> str:
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def install() -> None:
    """Wrap the log-record factory (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            pattern = _pattern
            if pattern is None:
                return record
            message = record.getMessage()
            if pattern.search(message):
                record.msg = pattern.sub(MASK, message)
                record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                text = "".join(traceback.format_exception(*record.exc_info))
                record.exc_text = pattern.sub(MASK, text)
                record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
