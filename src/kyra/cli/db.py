"""`kyra db upgrade|current|prune`: the schema and retention, run by an operator.

With `KYRA_DB_AUTO_MIGRATE=0` no process changes the schema on its own: `kyra db
upgrade` does, once, before the new version starts (the safe way with several processes
on PostgreSQL).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from kyra.cli.common import console, err_console, fail, handled, lang, print_json, settings
from kyra.i18n import Catalog, translate

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    help="Database schema and retention. / Esquema y retención de la base de datos.",
    no_args_is_help=True,
)

MESSAGES: Catalog = {
    "db.upgraded": {
        "en": "Database schema upgraded from {before} to {head}.",
        "es": "Esquema de la base de datos actualizado de {before} a {head}.",
    },
    "db.current_ok": {
        "en": "Database schema at {current} (up to date).",
        "es": "Esquema de la base de datos en {current} (al día).",
    },
    "db.current_behind": {
        "en": "Database schema at {current}; this Kyra needs {head}: run `kyra db upgrade`.",
        "es": "Esquema de la base de datos en {current}; este Kyra necesita {head}: ejecuta "
        "`kyra db upgrade`.",
    },
    "db.pruned": {
        "en": "Deleted {executions} execution(s) and {steps} step(s) finished before {cutoff}.",
        "es": "Borradas {executions} ejecución(es) y {steps} paso(s) terminados antes de {cutoff}.",
    },
    "db.waiting": {
        "en": "Waiting up to {seconds} s for the database to accept connections…",
        "es": "Esperando hasta {seconds} s a que la base de datos acepte conexiones…",
    },
    "db.no_retention": {
        "en": "say how many days to keep: --days N or KYRA_RETENTION_DAYS",
        "es": "indica cuántos días conservar: --days N o KYRA_RETENTION_DAYS",
    },
}


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")


@app.command("upgrade")
def upgrade(
    wait: float = typer.Option(
        0.0,
        "--wait",
        min=0,
        max=3600,
        help="Seconds to wait for the database to accept connections (containers start together).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Bring the database schema to this version of Kyra."""
    from kyra.store.db import current_revision, ensure_schema, make_engine

    with handled():
        engine = make_engine(settings().require_database_url())
        try:
            if wait:
                _wait_for(engine, wait)
            before = current_revision(engine)
            ensure_schema(engine, auto_migrate=True)  # refuses a schema newer than Kyra
            after = current_revision(engine)
        finally:
            engine.dispose()
    if as_json:
        print_json({"before": before, "current": after, "upgraded": before != after})
        return
    if before == after:
        console.print(t("db.current_ok", current=after))
    else:
        console.print(t("db.upgraded", before=before or "-", head=after))


def _wait_for(engine: Engine, seconds: float) -> None:
    """Connect until the database answers or `seconds` pass; the last error then
    propagates (and `handled` prints it as one line)."""
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + seconds
    said = False
    while True:
        try:
            with engine.connect():
                return
        except OperationalError:
            if time.monotonic() >= deadline:
                raise
            if not said:
                err_console.print(t("db.waiting", seconds=f"{seconds:g}"), soft_wrap=True)
                said = True
            engine.dispose()
            time.sleep(1.0)


@app.command("current")
def current(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the schema revision of the database and the one this Kyra needs (exit 1
    when it is behind)."""
    from kyra.store.db import current_revision, head_revision, make_engine

    with handled():
        engine = make_engine(settings().require_database_url())
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
    head = head_revision()
    if as_json:
        print_json({"current": revision, "head": head, "up_to_date": revision == head})
    elif revision == head:
        console.print(t("db.current_ok", current=revision))
    else:
        console.print(t("db.current_behind", current=revision or "-", head=head))
    if revision != head:
        raise typer.Exit(1)


@app.command("prune")
def prune(
    days: float = typer.Option(
        None, "--days", min=0.0, help="Keep this many days (default KYRA_RETENTION_DAYS)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Delete finished executions and their steps older than the retention period,
    except those a fix or an audit record names."""
    from kyra.cli.common import kyra_app
    from kyra.store.retention import prune_executions

    keep = days if days is not None else settings().retention_days
    if keep is None:
        fail(t("db.no_retention"))
    with kyra_app() as kyra:
        result = prune_executions(kyra.store, keep)
    cutoff = result.cutoff.isoformat(timespec="seconds")
    if as_json:
        print_json({"executions": result.executions, "steps": result.steps, "cutoff": cutoff})
        return
    console.print(t("db.pruned", executions=result.executions, steps=result.steps, cutoff=cutoff))
