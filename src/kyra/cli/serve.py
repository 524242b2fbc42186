"""`kyra serve`: the embedded runtime (scheduler + worker pool) in this process."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import typer

from kyra import logconfig
from kyra.cli.common import (
    console,
    err_console,
    fail,
    kyra_app,
    lang,
    log_level_option,
    require_extra,
    settings,
    shown_url,
)
from kyra.i18n import Catalog, translate
from kyra.settings import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PUBLIC_URL

if TYPE_CHECKING:
    import uvicorn

    from kyra.app import Kyra
    from kyra.runtime.embedded import EmbeddedRuntime

MESSAGES: Catalog = {
    "serve.started": {
        "en": "Kyra is serving: {workers} workers in {processes} process(es), scheduler "
        "{scheduler}, database {db}. Stop with Ctrl+C or SIGTERM.",
        "es": "Kyra en marcha: {workers} workers en {processes} proceso(s), planificador "
        "{scheduler}, base de datos {db}. Detén con Ctrl+C o SIGTERM.",
    },
    "serve.on": {"en": "on", "es": "activo"},
    "serve.bad_level": {
        "en": "--log-level {level}: choose one of {levels}",
        "es": "--log-level {level}: elige uno de {levels}",
    },
    "serve.api": {
        "en": "API and Workflow Health Center: {url}/dashboard (API docs: {url}/docs)",
        "es": "API y Centro de Salud de Workflows: {url}/dashboard (docs de la API: {url}/docs)",
    },
    "serve.off": {"en": "off", "es": "desactivado"},
    "serve.stopped": {"en": "Stopped cleanly.", "es": "Detenido limpiamente."},
    "serve.handed_back": {
        "en": "Stopped; {n} unfinished execution(s) went back to the queue and resume on "
        "the next start.",
        "es": "Detenido; {n} ejecución(es) sin terminar volvieron a la cola y seguirán en el "
        "próximo arranque.",
    },
    "serve.memory_processes": {
        "en": "--processes needs a database the processes can share: an in-memory SQLite "
        "database is private to one process (use a file, or PostgreSQL).",
        "es": "--processes necesita una base de datos que los procesos puedan compartir: una "
        "SQLite en memoria es privada de un proceso (usa un fichero o PostgreSQL).",
    },
    "serve.broker_set": {
        "en": "KYRA_BROKER_URL is set: for the scale-out runtime run `kyra worker` and "
        "`kyra scheduler`; this process runs the embedded runtime on the same database.",
        "es": "KYRA_BROKER_URL está definido: para el runtime distribuido ejecuta `kyra worker` y "
        "`kyra scheduler`; este proceso ejecuta el runtime embebido sobre la misma base de datos.",
    },
}


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)


def _start_api(
    app: Kyra, runtime: EmbeddedRuntime, host: str, port: int, level: str, access_log: bool
) -> uvicorn.Server:
    """The API and dashboard on a thread; the runtime keeps the main thread and its
    signal handlers (uvicorn installs none off the main thread). Its error and access
    logs use Kyra's format (`KYRA_LOG_FORMAT`); the access log (a line per request) only
    when asked: a client polling the API would fill the log and cost CPU per request."""
    import uvicorn

    from kyra.api import create_api

    config = uvicorn.Config(
        create_api(app, runtime_check=runtime.problems),
        host=host,
        port=port,
        log_config=logconfig.uvicorn_log_config(app.settings.log_format, level),
        log_level=level.lower(),
        access_log=access_log,
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, name="kyra-api", daemon=True).start()
    console.print(t("serve.api", url=f"http://{host}:{port}"), soft_wrap=True)
    return server


def own_url(host: str, port: int) -> str:
    """This server's URL for links: a wildcard address (0.0.0.0, ::) is reached on this
    machine as 127.0.0.1 (set KYRA_PUBLIC_URL for the name people really use)."""
    if host in ("", "0.0.0.0", "::"):
        host = DEFAULT_HOST
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


def configure_logging(verbose: bool, level: str | None) -> str:
    """Configure this process's logs (`KYRA_LOG_FORMAT`); returns the level in force:
    `--log-level`, else `--verbose` (DEBUG), else `KYRA_LOG_LEVEL`."""
    current = settings()
    chosen = (level or ("DEBUG" if verbose else current.log_level)).upper()
    if chosen not in logconfig.LEVELS:
        fail(t("serve.bad_level", level=level, levels=", ".join(logconfig.LEVELS)))
    logconfig.configure(current.log_format, chosen)
    return chosen


def serve(
    concurrency: int = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        max=256,
        help="Worker threads (KYRA_RUNTIME_CONCURRENCY).",
    ),
    processes: int = typer.Option(
        None,
        "--processes",
        "-p",
        min=1,
        max=64,
        help="Processes running workers, this one included (KYRA_RUNTIME_PROCESSES).",
    ),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Run workers only; do not fire triggers."
    ),
    heal: bool = typer.Option(
        True, "--heal/--no-heal", envvar="KYRA_HEAL", help="Heal failed runs."
    ),
    api: bool = typer.Option(True, "--api/--no-api", help="Serve the API and dashboard."),
    host: str = typer.Option(DEFAULT_HOST, "--host", help="API and dashboard address."),
    port: int = typer.Option(
        DEFAULT_PORT, "--port", min=1, max=65535, help="API and dashboard port."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    log_level: str = log_level_option(),
    access_log: bool = typer.Option(
        False,
        "--access-log/--no-access-log",
        envvar="KYRA_ACCESS_LOG",
        help="Log every API request (one INFO line each).",
    ),
) -> None:
    """Run the scheduler, a worker pool, healing, the API and the dashboard in one process
    until SIGTERM/SIGINT, then drain."""
    if api:
        require_extra("serve", "api", ("fastapi", "uvicorn"), hint="--no-api")
    level = configure_logging(verbose, log_level)
    from kyra.runtime.embedded import EmbeddedRuntime
    from kyra.runtime.handlers import FailureHandlers
    from kyra.runtime.heal import with_healing
    from kyra.runtime.processes import WorkerProcesses, parent_pid
    from kyra.runtime.retention import start_retention
    from kyra.store.db import sqlite_in_memory

    overrides = {"concurrency": concurrency, "processes": processes}
    runtime_settings = settings().runtime.model_copy(
        update={k: v for k, v in overrides.items() if v}
    )
    if api and "KYRA_PUBLIC_URL" not in os.environ and settings().public_url == DEFAULT_PUBLIC_URL:
        # Links in notifications point at this server unless told otherwise.
        os.environ["KYRA_PUBLIC_URL"] = own_url(host, port)
    process_settings = settings()
    if runtime_settings.processes > 1:
        if sqlite_in_memory(process_settings.database_url):
            fail(t("serve.memory_processes"))
        # Several processes write the SQLite file at once: take turns (inherited by the
        # worker processes through the environment, as is the log level).
        os.environ["KYRA_SQLITE_WRITE_TURNS"] = "1"
        os.environ["KYRA_LOG_LEVEL"] = level
        process_settings = settings()
    if process_settings.broker_url:
        err_console.print(t("serve.broker_set"), soft_wrap=True)
    with kyra_app(process_settings.model_copy(update={"runtime": runtime_settings})) as app:
        handlers = with_healing(
            FailureHandlers.from_paths(runtime_settings.failure_handlers), enabled=heal
        )
        runtime = EmbeddedRuntime(
            app, runtime_settings, handlers=handlers, schedule=not no_scheduler
        )
        server = _start_api(app, runtime, host, port, level, access_log) if api else None
        retention = start_retention(app) if parent_pid() is None else None
        extra = None
        if runtime_settings.processes > 1 and parent_pid() is None:
            extra = WorkerProcesses(
                runtime_settings.processes - 1,
                concurrency=runtime_settings.concurrency,
                heal=heal,
            )
            extra.start()
        procs = runtime_settings.processes if extra is not None else 1
        console.print(
            t(
                "serve.started",
                workers=runtime_settings.concurrency * procs,
                processes=procs,
                scheduler=t("serve.off") if no_scheduler else t("serve.on"),
                db=shown_url(app.store.engine.url.render_as_string(hide_password=False)),
            ),
            soft_wrap=True,
        )
        left = runtime.serve(
            parent=parent_pid(), on_stopping=extra.terminate if extra is not None else None
        )
        if retention is not None:
            retention.stop()
        if extra is not None:
            extra.wait(runtime_settings.drain_seconds)
        if server is not None:
            server.should_exit = True
    console.print(t("serve.handed_back", n=len(left)) if left else t("serve.stopped"))
