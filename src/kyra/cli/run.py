"""`kyra run NAME`: run a workflow now, showing each step as it happens."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import typer

from kyra.cli.common import EXIT_WORKFLOW_FAILED, console, fail, kyra_app, lang, print_json, t
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo, RunResult
from kyra.healing.driver import HealingDriver
from kyra.healing.events import HealEvent, HealListener
from kyra.healing.factory import make_healer
from kyra.store import workflows as wf_store
from kyra.store.executions import StepRun


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


def _short(error: ErrorContext) -> str:
    status = f"HTTP {error.status_code} " if error.status_code else ""
    return f"{status}{error.error_type}: {error.error_message}"[:300]


class ProgressPrinter(ExecutorObserver):
    """Prints the run's timeline as it happens."""

    def on_run_started(self, run: RunInfo) -> None:
        console.print(
            t(
                "run.start",
                name=run.workflow_name,
                version=run.config_version,
                id=run.execution_id[:8],
            )
        )

    def on_step_retry(
        self, run: RunInfo, step_name: str, error: ErrorContext, delay: float
    ) -> None:
        console.print(
            "  [yellow]↻[/] " + t("run.retry", step=step_name, error=_short(error), delay=delay),
            markup=True,
            soft_wrap=True,
        )

    def on_step_finished(self, run: RunInfo, step: StepRun) -> None:
        if step.reused:
            console.print("  [dim]↷ " + t("run.step_reused", step=step.step_name) + "[/]")
        elif step.status == "succeeded":
            console.print(
                "  [green]✓[/] " + t("run.step_ok", step=step.step_name, ms=step.duration_ms)
            )
        else:
            message = (step.error or {}).get("error_message", "")
            code = (step.error or {}).get("status_code")
            text = f"HTTP {code} {message}" if code else message
            console.print(
                "  [red]✗[/] "
                + t("run.step_failed", step=step.step_name, error=text[:300]).replace("[", "\\[")
            )


class Timeline(HealListener):
    """Prints the healing loop's arrows as they happen."""

    ICONS: ClassVar[dict[str, str]] = {
        "failure_detected": "[red]●[/]",
        "diagnosed": "[cyan]◆[/]",
        "fix_applied": "[green]✚[/]",
        "rerun_scheduled": "[cyan]⏱[/]",
        "verified": "[bold green]✔[/]",
        "fix_failed": "[red]✗[/]",
        "proposed": "[yellow]?[/]",
        "blocked": "[red]⛔[/]",
        "needs_attention": "[bold red]![/]",
        "rolled_back": "[magenta]↺[/]",
        "approved": "[green]✓[/]",
        "rejected": "[dim]✗[/]",
    }

    def on_heal_event(self, event: HealEvent) -> None:
        icon = self.ICONS.get(event.kind, "·")
        text = event.text(lang()).replace("[", "\\[")
        console.print(f"[dim]{event.at:%H:%M:%S}[/] {icon} {text}", soft_wrap=True)


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
            healer = make_healer(kyra, [] if as_json else [Timeline()])
            drive = HealingDriver(kyra, healer, observers).run(record, inputs, wait=wait)
            result = drive.final
            outcomes = [o.action for o in drive.outcomes]
        else:
            result = kyra.executor(observers).run(record, inputs)
            outcomes = []
        state = wf_store.get_workflow(kyra.store, kyra.tenant.id, name).state
    if as_json:
        print_json({**result_json(result), "healing": outcomes, "workflow_state": state})
    elif result.succeeded:
        done = t("run.succeeded", id=result.execution_id[:8], ms=result.duration_ms)
        console.print(f"[bold green]{done}[/]")
    else:
        console.print(
            f"[bold red]{t('run.failed', id=result.execution_id[:8], step=result.failed_step)}[/]"
        )
    if not result.succeeded:
        raise typer.Exit(EXIT_WORKFLOW_FAILED)


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
