"""`kyra run NAME`: run a workflow now, showing each step as it happens."""

from __future__ import annotations

import json
from typing import Any

import typer

from kyra.cli.common import EXIT_WORKFLOW_FAILED, console, fail, kyra_app, print_json, t
from kyra.cli.timeline import ProgressPrinter, cli_healer
from kyra.engine.events import RunResult
from kyra.healing.driver import HealingDriver
from kyra.healing.healer import HealOutcome
from kyra.store import workflows as wf_store


def register(root: typer.Typer) -> None:
    root.command("run")(run)


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a value that parses as JSON (number, bool, list, object) keeps its type."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(t("run.bad_input", value=pair))
        try:
            inputs[key] = json.loads(raw)
        except ValueError:
            inputs[key] = raw
    return inputs


def run(
    name: str = typer.Argument(..., help="Workflow name."),
    input_: list[str] = typer.Option([], "--input", "-i", help="Input as key=value (repeatable)."),
    heal: bool = typer.Option(True, "--heal/--no-heal", help="Heal a failure in-process."),
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="Wait for the healed re-run (--no-wait returns at once)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run a workflow now; when it fails, heal it and wait for the healed re-run."""
    inputs = parse_inputs(input_)
    with kyra_app() as kyra:
        record = wf_store.get_workflow(kyra.store, kyra.tenant.id, name)
        observers = [] if as_json else [ProgressPrinter()]
        if heal:
            healer = cli_healer(kyra, show=not as_json)
            drive = HealingDriver(kyra, healer, observers).run(record, inputs, wait=wait)
            result = drive.final
            outcomes = [o.action for o in drive.outcomes]
            note = _why_not_healed(drive.outcomes[-1]) if drive.outcomes else None
        else:
            result = kyra.executor(observers, lease=kyra.inline_lease).run(record, inputs)
            outcomes, note = [], None
        state = wf_store.get_workflow(kyra.store, kyra.tenant.id, name).state
    if as_json:
        extra = {"healing_note": note} if note else {}
        print_json({**result_json(result), "healing": outcomes, "workflow_state": state, **extra})
    elif result.succeeded:
        done = t("run.succeeded", id=result.execution_id[:8], ms=result.duration_ms)
        console.print(f"[bold green]{done}[/]")
    else:
        console.print(
            f"[bold red]{t('run.failed', id=result.execution_id[:8], step=result.failed_step)}[/]"
        )
        if note:
            console.print(note, markup=False, soft_wrap=True)
    if not result.succeeded:
        raise typer.Exit(EXIT_WORKFLOW_FAILED)


def _why_not_healed(outcome: HealOutcome) -> str | None:
    """One line saying why a failure was not healed (skipped, or the gate refused)."""
    if outcome.action == "skipped":
        return outcome.message or None
    if outcome.action == "blocked":
        return t("run.heal_blocked", reason=outcome.message, fix=(outcome.fix_id or "")[:8])
    return None


def result_json(result: RunResult) -> dict[str, Any]:
    return {
        "execution_id": result.execution_id,
        "workflow": result.workflow_name,
        "status": result.status,
        "failed_step": result.failed_step,
        "duration_ms": round(result.duration_ms, 1),
        "outputs": result.outputs,
        "error": result.error_context.model_dump(mode="json") if result.error_context else None,
    }
