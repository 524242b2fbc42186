"""How every Kyra process logs: plain text for a terminal, or one JSON object per line
(`KYRA_LOG_FORMAT=json`) for Loki, Elasticsearch, Datadog and friends.

A JSON line carries `ts`, `level`, `logger`, `message`, the ids of the execution being
run when there is one (`execution_id`, `workflow_id`, `workflow`, `tenant_id`, set by
the executor through `log_context`), and `exc` for a traceback. The API's access log
goes through the same formatter (uvicorn's `log_config`, see `uvicorn_log_config`) with
the request as fields (`method`, `path`, `status`, `client`).

httpx and httpcore log every request at INFO (with its URL), Alembic each plugin it
loads; they are held at WARNING unless `--log-level DEBUG` asks for everything.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from kyra import logs

LogFormat = Literal["text", "json"]
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = ("httpx", "httpcore", "alembic.runtime.plugins")
_CONTEXT_FIELDS = ("execution_id", "workflow_id", "workflow", "tenant_id")

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "kyra_log_context", default=None
)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Attach ids to every record logged inside the block (this thread/task only)."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(_context.get() or {})
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            data.update(_access_fields(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            data["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exc"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    """uvicorn's access record: (client, method, path, http version, status)."""
    if len(args) != 5:
        return {}
    client, method, path, http_version, status = args
    return {
        "client": client,
        "method": method,
        "path": path,
        "http_version": http_version,
        "status": status,
    }


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted (a test runner or a
    daemon may swap it after configuration)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(fmt: LogFormat = "text", level: str = "INFO") -> None:
    """Send every logger's records to stderr in `fmt` at `level` (replacing handlers a
    previous call installed), with secret values redacted."""
    logs.install()
    level = level.upper()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kyra", False):
            root.removeHandler(handler)
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler._kyra = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(fmt == "json")  # a library's warning is a JSON line too
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def configured() -> bool:
    """Whether `configure` ran in this process."""
    return any(getattr(h, "_kyra", False) for h in logging.getLogger().handlers)


def uvicorn_log_config(fmt: LogFormat, level: str) -> dict[str, Any]:
    """uvicorn's `log_config`: its error and access logs in Kyra's format, on stderr."""
    kind = "kyra.logconfig.JsonFormatter" if fmt == "json" else "logging.Formatter"
    fmt_args = {} if fmt == "json" else {"fmt": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"kyra": {"()": kind, **fmt_args}},
        "handlers": {
            "kyra": {
                "class": "logging.StreamHandler",
                "formatter": "kyra",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["kyra"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["kyra"], "level": "INFO", "propagate": False},
        },
    }
