"""`kyra worker` and `kyra scheduler`: the scale-out runtime (Celery + PostgreSQL)."""

from __future__ import annotations

import typer

from kyra.cli.common import (
    console,
    fail,
    kyra_app,
    lang,
    log_level_option,
    require_extra,
    settings,
    shown_url,
)
from kyra.cli.serve import configure_logging
from kyra.i18n import Catalog, translate

MESSAGES: Catalog = {
    "worker.no_broker": {
        "en": "set KYRA_BROKER_URL (redis://... or amqp://...) to use Celery workers",
        "es": "define KYRA_BROKER_URL (redis://... o amqp://...) para usar workers de Celery",
    },
    "worker.sqlite": {
        "en": "the scale-out runtime needs PostgreSQL in KYRA_DATABASE_URL (SQLite serves "
        "one process: use `kyra serve`)",
        "es": "el runtime distribuido necesita PostgreSQL en KYRA_DATABASE_URL (SQLite sirve "
        "a un solo proceso: usa `kyra serve`)",
    },
    "scheduler.started": {
        "en": "Kyra scheduler: firing triggers and sending work to queue '{queue}' on {broker}.",
        "es": "Planificador de Kyra: dispara triggers y envía trabajo a la cola '{queue}' en "
        "{broker}.",
    },
    "scheduler.stopped": {"en": "Scheduler stopped.", "es": "Planificador detenido."},
}


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.command("worker")(worker)
    root.command("scheduler")(scheduler)


def _check(command: str) -> None:
    require_extra(command, "celery", ("celery", "psycopg"))
    current = settings()
    if not current.broker_url:
        fail(t("worker.no_broker"))
    if current.database_url.startswith("sqlite"):
        fail(t("worker.sqlite"))


def worker(
    concurrency: int = typer.Option(
        None, "--concurrency", "-c", min=1, help="Threads (KYRA_RUNTIME_CONCURRENCY)."
    ),
    loglevel: str = typer.Option("WARNING", "--loglevel", "-l", help="Celery's own log level."),
    heal: bool = typer.Option(
        True, "--heal/--no-heal", envvar="KYRA_HEAL", help="Heal failed runs."
    ),
    log_level: str = log_level_option(),
) -> None:
    """Start a Celery worker that runs Kyra executions and healing jobs."""
    configure_logging(False, log_level)  # a bad flag is named before the environment
    _check("worker")
    from kyra.runtime.celery_app import make_celery, worker_argv
    from kyra.runtime.handlers import FailureHandlers
    from kyra.runtime.heal import with_healing

    current = settings()
    runtime = current.runtime
    handlers = with_healing(FailureHandlers.from_paths(runtime.failure_handlers), enabled=heal)
    celery = make_celery(current, runtime, handlers)
    argv = worker_argv(runtime, concurrency=concurrency, loglevel=loglevel)
    if current.log_format == "json":
        argv.insert(0, "--quiet")  # no banner: stderr holds JSON lines only
    celery.worker_main(argv)


def scheduler(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    log_level: str = log_level_option(),
) -> None:
    """Fire triggers and send due executions to the Celery workers (run one; a second
    one started by mistake fires nothing twice)."""
    configure_logging(verbose, log_level)
    _check("scheduler")
    from kyra.runtime.celery_app import make_celery
    from kyra.runtime.dispatch import Dispatcher
    from kyra.runtime.retention import start_retention

    current = settings()
    runtime = current.runtime
    celery = make_celery(current, runtime)
    with kyra_app() as app:
        console.print(
            t("scheduler.started", queue=runtime.queue, broker=shown_url(current.broker_url or "")),
            soft_wrap=True,
        )
        retention = start_retention(app)
        try:
            Dispatcher(app, runtime, celery).serve()
        finally:
            if retention is not None:
                retention.stop()
    console.print(t("scheduler.stopped"))
