"""`kyra incidents list|show`: incidents across workflows (several workflows failing on
one host), with the host named as the common cause."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from kyra.cli.common import ago, console, kyra_app, lang, print_json
from kyra.cli.common import t as common_t
from kyra.i18n import Catalog, translate
from kyra.store import incidents as incident_store
from kyra.store.incidents import HostIncident

app = typer.Typer(
    help="Incidents across workflows. / Incidentes entre workflows.", no_args_is_help=True
)

MESSAGES: Catalog = {
    "none": {"en": "No incidents.", "es": "No hay incidentes."},
    "col.host": {"en": "Host (common cause)", "es": "Host (causa común)"},
    "col.workflows": {"en": "Workflows", "es": "Workflows"},
    "col.failures": {"en": "Failures", "es": "Fallos"},
    "col.opened": {"en": "Opened", "es": "Abierto"},
    "open": {"en": "open", "es": "abierto"},
    "resolved": {"en": "resolved", "es": "resuelto"},
    "cause": {
        "en": "Common cause: the host {host} ({count} workflows failed on it since {since}).",
        "es": "Causa común: el host {host} (han fallado {count} workflows en él desde {since}).",
    },
    "recovered": {
        "en": "Resolved at {at}: execution {execution} succeeded on {host}.",
        "es": "Resuelto a las {at}: la ejecución {execution} funcionó en {host}.",
    },
}
STATUS_STYLE = {"open": "red", "resolved": "green"}


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="incidents")


def incident_json(incident: HostIncident, *, failures: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": incident.id,
        "host": incident.host,
        "common_cause": {"kind": "host", "host": incident.host},
        "status": incident.status,
        "workflows": incident.workflows,
        "failure_count": incident.failure_count,
        "opened_at": incident.opened_at.isoformat(),
        "last_failure_at": incident.last_failure_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "resolved_by": incident.resolved_by,
    }
    if failures:
        data["failures"] = [
            {
                "workflow": f.workflow_name,
                "execution_id": f.execution_id,
                "step": f.step_name,
                "error": f.error,
                "at": f.at.isoformat(),
            }
            for f in incident.failures
        ]
    return data


@app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status", "-s", help="open | resolved"),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List incidents across workflows, newest first."""
    if status not in (None, "open", "resolved"):
        raise typer.BadParameter("use open or resolved", param_hint="--status")
    with kyra_app() as kyra:
        rows = incident_store.list_incidents(kyra.store, kyra.tenant.id, status=status, limit=limit)
        now = kyra.clock.now()
    if as_json:
        print_json([incident_json(i) for i in rows])
        return
    if not rows:
        console.print(t("none"))
        return
    table = Table(
        common_t("col.id"),
        t("col.host"),
        common_t("col.status"),
        t("col.workflows"),
        t("col.failures"),
        t("col.opened"),
    )
    for i in rows:
        style = STATUS_STYLE.get(i.status, "")
        table.add_row(
            i.id[:8],
            i.host,
            f"[{style}]{t(i.status)}[/]",
            ", ".join(i.workflows),
            str(i.failure_count),
            ago((now - i.opened_at).total_seconds()),
        )
    console.print(table)


@app.command("show")
def show(
    incident_id: str = typer.Argument(..., help="Incident id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one incident: the host, the workflows and failures in it, its recovery."""
    with kyra_app() as kyra:
        incident = incident_store.get_incident(kyra.store, kyra.tenant.id, incident_id)
    if as_json:
        print_json(incident_json(incident, failures=True))
        return
    style = STATUS_STYLE.get(incident.status, "")
    console.print(f"[bold]{incident.id}[/]  {incident.host}  [{style}]{t(incident.status)}[/]")
    since = incident.opened_at.strftime("%Y-%m-%d %H:%M UTC")
    console.print(t("cause", host=incident.host, count=len(incident.workflows), since=since))
    table = Table(common_t("col.workflow"), common_t("col.step"), common_t("col.started"), "Error")
    for f in incident.failures:
        table.add_row(f.workflow_name, f.step_name, f.at.strftime("%H:%M:%S"), f.error)
    console.print(table)
    if incident.resolved_at is not None:
        at = incident.resolved_at.strftime("%Y-%m-%d %H:%M UTC")
        execution = (incident.resolved_by or "")[:8]
        console.print(t("recovered", at=at, execution=execution, host=incident.host))
