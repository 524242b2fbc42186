"""Secrets never reach logs: every log record created in the process is redacted.

Third-party libraries log too (httpx logs each request URL at INFO, query string and
all), so a filter on Kyra's own loggers is not enough. Kyra wraps the log-record factory
once per process; the executor registers the secret values it loads (and credentials a
step was given literally), and every record is passed through the one `Redactor` of
`kyra.redaction` (derived forms of those secrets, credential-shaped query values and
`Bearer ...` included) before any handler sees it. This is a process-wide hook by
necessity (logging itself is process-wide); it holds data, not configuration.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable
from typing import Any

from kyra.redaction import Redactor

_lock = threading.Lock()
_redactor = Redactor()
_installed = False


def remember_secrets(values: Iterable[str]) -> None:
    """Add secret values to redact from every future log record."""
    global _redactor
    with _lock:
        _redactor = _redactor.learn(values)


def install() -> None:
    """Wrap the log-record factory (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redactor = _redactor
            message = record.getMessage()
            cleaned = redactor.text(message)
            if cleaned != message:
                record.msg = cleaned
                record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                text = "".join(traceback.format_exception(*record.exc_info))
                record.exc_text = redactor.text(text)
                record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
