"""`kyra executions list|show`."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from kyra.cli.common import EXIT_WORKFLOW_FAILED, ago, console, fail, kyra_app, print_json, t
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.executions import ExecutionInfo

app = typer.Typer(help="Inspect executions. / Consulta ejecuciones.", no_args_is_help=True)

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "queued": "dim",
    "waiting": "cyan",
    "cancelled": "dim",
}


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="executions")


def execution_json(e: ExecutionInfo, *, steps: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": e.id,
        "workflow": e.workflow_name,
        "status": e.status,
        "trigger": e.trigger,
        "config_version": e.config_version,
        "resume_of": e.resume_of,
        "failed_step": e.failed_step,
        "created_at": e.created_at.isoformat(),
        "started_at": e.started_at.isoformat() if e.started_at else None,
        "finished_at": e.finished_at.isoformat() if e.finished_at else None,
        "duration_ms": round(e.duration_ms, 1) if e.duration_ms is not None else None,
    }
    if steps:
        data["inputs"] = e.inputs
        data["error_context"] = e.error_context
        data["steps"] = [
            {
                "index": s.step_index,
                "name": s.step_name,
                "action": s.action,
                "status": s.status,
                "attempts": s.attempts,
                "duration_ms": round(s.duration_ms, 1),
                "reused": s.reused,
                "params": s.params,
                "output": s.output,
                "error": s.error,
            }
            for s in e.steps
        ]
    return data


@app.command("list")
def list_(
    workflow: str | None = typer.Option(None, "--workflow", "-w", help="Only this workflow."),
    status: str | None = typer.Option(None, "--status", "-s", help="Only this status."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recent executions, newest first."""
    with kyra_app() as kyra:
        workflow_id = (
            wf_store.get_workflow(kyra.store, kyra.tenant.id, workflow).id if workflow else None
        )
        rows = exec_store.list_executions(
            kyra.store, kyra.tenant.id, workflow_id=workflow_id, status=status, limit=limit
        )
        now = kyra.clock.now()
    if as_json:
        print_json([execution_json(e) for e in rows])
        return
    if not rows:
        console.print(t("exec.none"))
        return
    table = Table(
        t("col.id"),
        t("col.workflow"),
        t("col.status"),
        t("col.started"),
        t("col.duration"),
        t("col.failed_step"),
    )
    for e in rows:
        style = STATUS_STYLE.get(e.status, "")
        duration = f"{e.duration_ms:.0f} ms" if e.duration_ms is not None else ""
        table.add_row(
            e.id[:8],
            e.workflow_name,
            f"[{style}]{e.status}[/]",
            ago((now - e.created_at).total_seconds()),
            duration,
            e.failed_step or "",
        )
    console.print(table)


@app.command("show")
def show(
    execution_id: str = typer.Argument(..., help="Execution id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one execution: its steps, attempts and error context."""
    with kyra_app() as kyra:
        e = exec_store.get_execution(kyra.store, execution_id, tenant_id=kyra.tenant.id)
        diagnosis = heal_store.execution_diagnosis(kyra.store, kyra.tenant.id, e.id)
    data = execution_json(e, steps=True)
    data["diagnosis"] = diagnosis
    if as_json:
        print_json(data)
        return
    style = STATUS_STYLE.get(e.status, "")
    console.print(
        f"[bold]{e.id}[/]  {e.workflow_name}  [{style}]{e.status}[/]  config v{e.config_version}"
    )
    table = Table(
        "#", t("col.step"), t("col.action"), t("col.status"), t("col.attempts"), t("col.duration")
    )
    for s in e.steps:
        st = STATUS_STYLE.get(s.status, "")
        label = f"[{st}]{s.status}[/]" + (" (reused)" if s.reused else "")
        table.add_row(
            str(s.step_index),
            s.step_name,
            s.action,
            label,
            str(s.attempts),
            f"{s.duration_ms:.0f} ms",
        )
    console.print(table)
    cause = (diagnosis or {}).get("root_cause")
    if isinstance(cause, dict):
        console.print(
            t("exec.root_cause", **{k: cause.get(k, "") for k in ("step", "path", "reason")})
        )
    if e.error_context:
        console.print(f"\n[bold]{t('exec.error')}[/]")
        console.print_json(data=e.error_context)


@app.command("retry")
def retry(
    execution_id: str = typer.Argument(..., help="A failed execution id (or unique prefix)."),
    from_start: bool = typer.Option(False, "--from-start", help="Re-run every step."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-run a failed execution with the current config, from its failed step (the steps
    before it are not repeated: their saved outputs are reused)."""
    from kyra.cli.run import result_json
    from kyra.cli.timeline import ProgressPrinter

    with kyra_app() as kyra:
        failed = exec_store.get_execution(kyra.store, execution_id, tenant_id=kyra.tenant.id)
        if failed.status != "failed":
            fail(t("exec.not_failed", id=failed.id[:8], status=failed.status))
        record = wf_store.get_workflow_by_id(kyra.store, failed.workflow_id)
        names = [s.name for s in record.workflow.steps]
        start = (
            0 if from_start or failed.failed_step not in names else names.index(failed.failed_step)
        )
        new_id = exec_store.create_execution(
            kyra.store,
            tenant_id=kyra.tenant.id,
            workflow_id=record.id,
            inputs=failed.inputs,
            trigger="retry",
            resume_of=failed.id,
            start_step=start,
        )
        if not as_json:
            console.print(
                t("exec.retry", id=failed.id[:8], step=names[start], version=record.config_version)
            )
        result = kyra.executor([] if as_json else [ProgressPrinter()]).execute(new_id)
    if as_json:
        print_json(result_json(result))
    if not result.succeeded:
        raise typer.Exit(EXIT_WORKFLOW_FAILED)
