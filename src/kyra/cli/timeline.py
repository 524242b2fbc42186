"""Live output of a run and of its healing: each step, each arrow of the loop."""

from __future__ import annotations

from typing import ClassVar

from kyra.app import Kyra
from kyra.cli.common import console, lang, t
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo
from kyra.healing.events import HealEvent, HealListener
from kyra.healing.explain import explain_fix
from kyra.healing.healer import Healer
from kyra.store import healing as heal_store
from kyra.store.db import Store
from kyra.store.executions import StepRun


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

    def on_step_wait(
        self, run: RunInfo, step_name: str, seconds: float, kind: str, target: str
    ) -> None:
        console.print(
            "  [dim]⏳ "
            + t(
                "run.wait", step=step_name, seconds=seconds, target=target, why=t(f"wait.{kind}")
            ).replace("[", "\\[")
            + "[/]",
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

    LESSON_KINDS: ClassVar[frozenset[str]] = frozenset({"fix_applied", "proposed"})
    """Events after which learning mode explains the fix."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store

    def on_heal_event(self, event: HealEvent) -> None:
        icon = self.ICONS.get(event.kind, "·")
        text = event.text(lang()).replace("[", "\\[")
        console.print(f"[dim]{event.at:%H:%M:%S}[/] {icon} {text}", soft_wrap=True)
        if self.store is not None and event.fix_id and event.kind in self.LESSON_KINDS:
            fix = heal_store.get_fix(self.store, event.fix_id, tenant_id=event.tenant_id)
            for label, lesson in explain_fix(fix, lang()).sections():
                line = f"{label}: {lesson}".replace("[", "\\[")
                console.print(f"           [dim]{line}[/]", soft_wrap=True)


def cli_healer(kyra: Kyra, *, show: bool = True) -> Healer:
    """The healer a command uses: timeline on the terminal, notifications to the
    tenant's channels (none configured: nothing is sent)."""
    healer = kyra.healer  # one app per command: its healer is this command's
    if show:
        healer.listeners.insert(0, Timeline(kyra.store))  # printed before anything is sent
    healer.lang = lang()  # what is said to the person at the terminal, in their language
    return healer
