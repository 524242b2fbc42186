"""`kyra workflows apply|validate|schema|list|show|activate|deactivate`."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from kyra.cli.common import (
    EXIT_USAGE,
    console,
    err_console,
    fail,
    handled,
    kyra_app,
    lang,
    print_json,
    settings,
    t,
)
from kyra.errors import WorkflowDefinitionError
from kyra.store import workflows as wf_store
from kyra.store.workflows import WorkflowRecord

if TYPE_CHECKING:
    from kyra.workflows.model import Workflow

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"

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


@dataclass
class _Loaded:
    source: str
    workflow: Workflow | None
    error: WorkflowDefinitionError | None


def _sources(target: str) -> list[tuple[str, str]]:
    """(source name, text) of `-` (standard input), a file, or every workflow file of a
    directory (sorted, not recursive)."""
    from kyra.workflows.document import MAX_FILE_BYTES
    from kyra.workflows.loader import read_document

    if target == STDIN:
        text = sys.stdin.read(MAX_FILE_BYTES + 1)
        if len(text.encode()) > MAX_FILE_BYTES:
            fail(t("wf.stdin_too_big", limit=MAX_FILE_BYTES))
        return [("<stdin>", text)]
    path = Path(target)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            fail(t("wf.empty_dir", path=path))
        return [(str(p), read_document(p, MAX_FILE_BYTES)) for p in files]
    return [(target, read_document(path, MAX_FILE_BYTES))]


def _load_all(target: str) -> list[_Loaded]:
    """Every document of `target`, each parsed and validated (no database needed)."""
    from kyra.actions import default_registry
    from kyra.workflows.loader import load_workflow_text

    registry = default_registry()
    fastest = settings().min_trigger_interval_seconds
    loaded = []
    for source, text in _sources(target):
        try:
            workflow = load_workflow_text(text, source, registry, min_trigger_interval=fastest)
            loaded.append(_Loaded(source, workflow, None))
        except WorkflowDefinitionError as exc:
            loaded.append(_Loaded(source, None, exc))
    return loaded


def _report_invalid(loaded: list[_Loaded]) -> None:
    """Print every problem of every invalid document; exit 2 if there was one."""
    bad = [item.error for item in loaded if item.error is not None]
    if not bad:
        return
    for error in bad:
        err_console.print(f"[bold red]{t('error')}:[/] {error.source}", soft_wrap=True)
        for problem in error.problems:
            err_console.print(f"  {problem}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


@app.command("apply")
def apply(
    target: str = typer.Argument(
        ..., help="A workflow YAML/JSON file, a directory of them, or - for standard input."
    ),
    replace: bool = typer.Option(False, "--replace", help="Update workflows of the same name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create (or with --replace, update) workflows from a file, a directory or stdin.
    Every document is checked first: if one is invalid, none is applied."""
    from kyra.service import apply_workflow_carrying

    with handled():
        loaded = _load_all(target)
    _report_invalid(loaded)
    results = []
    with kyra_app() as kyra:
        for item in loaded:
            assert item.workflow is not None
            record, created, carried = apply_workflow_carrying(
                kyra, kyra.tenant.id, item.workflow, replace=replace, source=item.source
            )
            fixes = carried.as_dict(lang())
            results.append(
                {**summary(record), "created": created, "source": item.source, "fixes": fixes}
            )
            if not as_json:
                key = "wf.created" if created else "wf.updated"
                console.print(t(key, name=record.name, version=record.config_version))
                for kind in ("kept", "retired"):
                    for fix in fixes[kind]:
                        line = t(f"wf.fix_{kind}", id=fix["fix_id"][:8], reason=fix["reason"])
                        console.print(line, markup=False, soft_wrap=True)
    if as_json:
        print_json(results if Path(target).is_dir() else results[0])


@app.command("validate")
def validate(
    target: str = typer.Argument(
        ..., help="A workflow YAML/JSON file, a directory of them, or - for standard input."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check workflow files without saving anything (exit 2 if one is invalid)."""
    with handled():
        loaded = _load_all(target)
    if as_json:
        print_json(
            [
                {
                    "source": item.source,
                    "valid": item.error is None,
                    "name": item.workflow.name if item.workflow else None,
                    "problems": item.error.problems if item.error else [],
                }
                for item in loaded
            ]
        )
        if any(item.error for item in loaded):
            raise typer.Exit(EXIT_USAGE)
        return
    for item in loaded:
        if item.workflow is not None:
            console.print(t("wf.valid", source=item.source, name=item.workflow.name))
    _report_invalid(loaded)


@app.command("export")
def export(
    name: str = typer.Argument(..., help="Workflow name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the effective definition, Kyra's applied fixes included, as YAML that
    `kyra workflows apply --replace` loads again (edit it there to keep the fixes)."""
    from kyra.workflows.export import export_document, export_yaml

    with kyra_app() as kyra:
        record = wf_store.get_workflow(kyra.store, kyra.tenant.id, name)
    if as_json:
        print_json(export_document(record.workflow))
        return
    typer.echo(export_yaml(record.workflow), nl=False)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of workflow files (for editors: save it and point the YAML
    extension at it, or add `# yaml-language-server: $schema=...` to a file)."""
    from kyra.actions import default_registry
    from kyra.workflows.json_schema import workflow_schema

    typer.echo(json.dumps(workflow_schema(default_registry()), indent=2, ensure_ascii=False))


def _set_state(name: str, target: str, as_json: bool) -> None:
    from kyra.service import set_workflow_state

    with kyra_app() as kyra:
        record = set_workflow_state(kyra, kyra.tenant.id, name, target, actor="cli")
    if as_json:
        print_json(summary(record))
        return
    console.print(t("wf.state", name=record.name, state=record.state))


@app.command("activate")
def activate(
    name: str = typer.Argument(..., help="Workflow name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Let the workflow's triggers fire again (also clears needs_attention)."""
    _set_state(name, "active", as_json)


@app.command("deactivate")
def deactivate(
    name: str = typer.Argument(..., help="Workflow name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Pause the workflow: no trigger fires it until it is activated."""
    _set_state(name, "inactive", as_json)


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
