"""`kyra serve`: the embedded runtime (scheduler + worker pool) in this process."""

from __future__ import annotations

import logging
import os
import threading

import typer
import uvicorn

from kyra.api import create_api
from kyra.app import Kyra
from kyra.cli.common import console, err_console, fail, kyra_app, lang, settings
from kyra.i18n import Catalog, translate
from kyra.runtime.embedded import EmbeddedRuntime
from kyra.runtime.handlers import FailureHandlers
from kyra.runtime.heal import with_healing
from kyra.runtime.processes import WorkerProcesses, parent_pid
from kyra.runtime.settings import RuntimeSettings
from kyra.store.db import sqlite_in_memory

MESSAGES: Catalog = {
    "serve.started": {
        "en": "Kyra is serving: {workers} workers in {processes} process(es), scheduler "
        "{scheduler}, database {db}. Stop with Ctrl+C or SIGTERM.",
        "es": "Kyra en marcha: {workers} workers en {processes} proceso(s), planificador "
        "{scheduler}, base de datos {db}. Detén con Ctrl+C o SIGTERM.",
    },
    "serve.on": {"en": "on", "es": "activo"},
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


def _start_api(app: Kyra, runtime: EmbeddedRuntime, host: str, port: int) -> uvicorn.Server:
    """The API and dashboard on a thread; the runtime keeps the main thread and its
    signal handlers (uvicorn installs none off the main thread)."""
    api = create_api(app, runtime_check=runtime.problems)
    server = uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="kyra-api", daemon=True).start()
    console.print(t("serve.api", url=f"http://{host}:{port}"), soft_wrap=True)
    return server


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def serve(
    concurrency: int = typer.Option(
        None, "--concurrency", "-c", min=1, help="Worker threads (KYRA_RUNTIME_CONCURRENCY)."
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
    host: str = typer.Option("127.0.0.1", "--host", help="API and dashboard address."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="API and dashboard port."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    """Run the scheduler, a worker pool, healing, the API and the dashboard in one process
    until SIGTERM/SIGINT, then drain."""
    configure_logging(verbose)
    overrides = {"concurrency": concurrency, "processes": processes}
    runtime_settings = RuntimeSettings(**{k: v for k, v in overrides.items() if v})
    process_settings = settings()
    if runtime_settings.processes > 1:
        if sqlite_in_memory(process_settings.database_url):
            fail(t("serve.memory_processes"))
        # Several processes write the SQLite file at once: take turns (inherited by the
        # worker processes through the environment).
        os.environ["KYRA_SQLITE_WRITE_TURNS"] = "1"
        process_settings = settings()
    if process_settings.broker_url:
        err_console.print(t("serve.broker_set"), soft_wrap=True)
    with kyra_app() as app:
        handlers = with_healing(
            FailureHandlers.from_paths(runtime_settings.failure_handlers), enabled=heal
        )
        runtime = EmbeddedRuntime(
            app, runtime_settings, handlers=handlers, schedule=not no_scheduler
        )
        server = _start_api(app, runtime, host, port) if api else None
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
                db=app.store.engine.url.render_as_string(hide_password=True),
            ),
            soft_wrap=True,
        )
        left = runtime.serve(
            parent=parent_pid(), on_stopping=extra.terminate if extra is not None else None
        )
        if extra is not None:
            extra.wait(runtime_settings.drain_seconds)
        if server is not None:
            server.should_exit = True
    console.print(t("serve.handed_back", n=len(left)) if left else t("serve.stopped"))
