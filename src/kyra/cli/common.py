"""Shared CLI plumbing: the app object, language, error handling and output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from kyra import logconfig
from kyra.cli.messages import MESSAGES
from kyra.errors import (
    KyraError,
    NoProjectError,
    SchemaOutOfDateError,
    WorkflowDefinitionError,
)
from kyra.i18n import Lang, default_lang, translate
from kyra.settings import Settings, find_config

if TYPE_CHECKING:
    from kyra.app import Kyra

EXIT_OK = 0
EXIT_WORKFLOW_FAILED = 1
EXIT_USAGE = 2

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def settings() -> Settings:
    """The process settings, built once per (directory, kyra.toml and its mtime, KYRA_*
    environment): every translated message asks for the language, and building settings
    parses kyra.toml."""
    config = find_config()
    key = (
        os.getcwd(),
        config,
        config.stat().st_mtime_ns if config is not None else None,
        tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("KYRA_"))),
    )
    try:
        return _settings_for(key)
    except ValidationError as exc:
        # A bad KYRA_* value or kyra.toml entry: one line, not a traceback (and no
        # settings to ask the language from).
        first = exc.errors()[0]
        name = "KYRA_" + "_".join(str(part) for part in first["loc"]).upper()
        text = translate(
            MESSAGES, "settings.invalid", default_lang(), name=name, problem=first["msg"]
        )
        err_console.print(f"[bold red]Error:[/] {_escape(text)}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None


@lru_cache(maxsize=8)
def _settings_for(_key: object) -> Settings:
    return Settings()


def lang() -> Lang:
    return settings().lang or default_lang()


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err_console.print(f"[bold red]{t('error')}:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn Kyra's errors into one clear message and exit code 2, never a traceback."""
    try:
        yield
    except WorkflowDefinitionError as exc:
        err_console.print(f"[bold red]{t('error')}:[/] {exc.source}", soft_wrap=True)
        for problem in exc.problems:
            err_console.print(f"  {problem}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    except SchemaOutOfDateError as exc:
        fail(schema_message(exc))
    except NoProjectError as exc:
        fail(_escape(t("no_project", where=exc.where)))
    except KyraError as exc:
        fail(_escape(str(exc)))
    except (ValueError, OSError) as exc:
        fail(_escape(str(exc)))
    except Exception as exc:
        if (reason := _database_unreachable(exc)) is None:
            raise
        fail(_escape(t("db.unreachable", reason=reason)))


def _database_unreachable(exc: Exception) -> str | None:
    """The driver's first line when `exc` says the database cannot be reached (down,
    refused, wrong host or credentials), else None. SQLAlchemy is looked up, not imported:
    if it was never imported, the error cannot be one of its classes."""
    import sys

    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def shown_url(url: str) -> str:
    """A broker or database URL as the CLI prints it: its password masked by
    `kyra.redaction` (the one mask everywhere), escaped for Rich markup."""
    from kyra.redaction import redact

    return _escape(redact(url))


def schema_message(exc: SchemaOutOfDateError) -> str:
    key = "db.newer" if exc.newer else "db.behind" if exc.current else "db.empty"
    return t(key, current=exc.current, head=exc.head)


@contextmanager
def kyra_app(current: Settings | None = None) -> Iterator[Kyra]:
    """The app on this process's settings (read once: `settings()`), or on `current`
    (the same tree with command-line overrides, e.g. `kyra serve --concurrency`)."""
    from kyra.app import create_app

    with handled():
        current = current or settings()
        if current.log_format == "json" and not logconfig.configured():
            # Warnings of any command as JSON lines too (servers configure their own).
            logconfig.configure("json", "WARNING")
        app = create_app(current)
        try:
            yield app
        finally:
            app.close()


def require_extra(command: str, extra: str, modules: Sequence[str], hint: str = "") -> None:
    """Exit 2 with one line naming the pip extra when `command` needs packages the core
    install leaves out (the check imports nothing)."""
    from importlib.util import find_spec

    if all(find_spec(module) is not None for module in modules):
        return
    message = t("extra.missing", command=command, extra=extra)
    if hint:
        message += " " + t("extra.hint", hint=hint)
    fail(_escape(message))


def log_level_option() -> Any:
    return typer.Option(
        None,
        "--log-level",
        help="DEBUG, INFO, WARNING or ERROR (default KYRA_LOG_LEVEL, INFO).",
    )


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def ago(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
