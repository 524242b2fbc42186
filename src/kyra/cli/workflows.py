"""`kyra workflows apply|list|show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kyra.cli.common import console, kyra_app, print_json, t
from kyra.service import apply_workflow
from kyra.store import workflows as wf_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.loader import load_workflow_file

app = typer.Typer(
    help="Define and inspect workflows. / Define e inspecciona workflows.", no_args_is_help=True
)

STATE_STYLE = {
    "active": "green",
    "inactive": "dim",
    "failed": "red",
    "fixing": "yellow",
    "fixed": "cyan",
    "needs_attention": "bold red",
}


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="workflows")


def _trigger(record: WorkflowRecord) -> str:
    trigger = record.workflow.trigger
    if trigger.cron:
        return f"cron {trigger.cron}"
    if trigger.interval:
        return f"every {trigger.interval:g}s"
    return trigger.kind.value


def summary(record: WorkflowRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "description": record.workflow.description,
        "state": record.state,
        "state_reason": record.state_reason,
        "config_version": record.config_version,
        "trigger": record.workflow.trigger.model_dump(mode="json", exclude_none=True),
        "steps": [s.name for s in record.workflow.steps],
        "updated_at": record.updated_at.isoformat(),
    }


@app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="Workflow YAML or JSON file."),
    replace: bool = typer.Option(False, "--replace", help="Update a workflow of the same name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create (or with --replace, update) a workflow from a file."""
    with kyra_app() as kyra:
        workflow = load_workflow_file(
            file,
            kyra.registry,
            min_trigger_interval=kyra.settings.min_trigger_interval_seconds,
        )
        record, created = apply_workflow(
            kyra, kyra.tenant.id, workflow, replace=replace, source=str(file)
        )
    if as_json:
        print_json({**summary(record), "created": created})
        return
    key = "wf.created" if created else "wf.updated"
    console.print(t(key, name=record.name, version=record.config_version))


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List workflows with their state and config version."""
    with kyra_app() as kyra:
        records = wf_store.list_workflows(kyra.store, kyra.tenant.id)
    if as_json:
        print_json([summary(r) for r in records])
        return
    if not records:
        console.print(t("wf.none"))
        return
    table = Table(t("col.name"), t("col.state"), t("col.config"), t("col.trigger"), t("col.steps"))
    for r in records:
        style = STATE_STYLE.get(r.state, "")
        table.add_row(
            r.name,
            f"[{style}]{r.state}[/]",
            f"v{r.config_version}",
            _trigger(r),
            str(len(r.workflow.steps)),
        )
    console.print(table)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Workflow name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a workflow, its current config and its full config history."""
    with kyra_app() as kyra:
        record = wf_store.get_workflow(kyra.store, kyra.tenant.id, name)
        history = wf_store.config_history(kyra.store, record.id)
        states = wf_store.state_history(kyra.store, record.id)
    data = {
        **summary(record),
        "config": record.workflow.config.model_dump(mode="json"),
        "config_history": [
            {
                "version": v.number,
                "author": v.author,
                "reason": v.reason,
                "fix_id": v.fix_id,
                "created_at": v.created_at.isoformat(),
                "config": v.config,
            }
            for v in history
        ],
        "state_history": [
            {
                "from": s.from_state,
                "to": s.to_state,
                "reason": s.reason,
                "execution_id": s.execution_id,
                "at": s.at.isoformat(),
            }
            for s in states
        ],
    }
    if as_json:
        print_json(data)
        return
    style = STATE_STYLE.get(record.state, "")
    console.print(f"[bold]{record.name}[/]  [{style}]{record.state}[/]  {record.state_reason}")
    if record.workflow.description:
        console.print(record.workflow.description)
    console.print(
        f"{t('col.trigger')}: {_trigger(record)}   {t('col.steps')}: {', '.join(data['steps'])}"
    )
    console.print(f"\n[bold]{t('show.current', version=record.config_version)}[/]")
    console.print_json(data=data["config"])
    table = Table(
        t("col.version"), t("col.author"), t("col.reason"), t("col.when"), title=t("show.history")
    )
    for v in history:
        table.add_row(
            f"v{v.number}", v.author, v.reason, v.created_at.strftime("%Y-%m-%d %H:%M:%S")
        )
    console.print(table)
    if states:
        st = Table(
            t("col.from"), t("col.to"), t("col.reason"), t("col.when"), title=t("show.states")
        )
        for s in states[-20:]:
            st.add_row(s.from_state, s.to_state, s.reason, s.at.strftime("%Y-%m-%d %H:%M:%S"))
        console.print(st)
