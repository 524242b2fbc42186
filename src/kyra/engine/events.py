"""Executor events. Observers (CLI progress, the healer, metrics) subscribe; the engine
never imports them. A failing observer is logged, never fatal to the run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.store.executions import StepRun

log = logging.getLogger("kyra.engine")


@dataclass(frozen=True)
class RunInfo:
    execution_id: str
    tenant_id: str
    workflow_id: str
    workflow_name: str
    config_version: int
    trigger: str
    start_step: int
    step_names: tuple[str, ...]


@dataclass(frozen=True)
class RunResult:
    execution_id: str
    workflow_id: str
    workflow_name: str
    status: str
    failed_step: str | None
    error_context: ErrorContext | None
    outputs: dict[str, Any]
    duration_ms: float
    trigger: str = "manual"
    """What started the run; `heal` marks a fix's verification re-run."""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def needs_after_run(self) -> bool:
        """Healing must see this run: it failed, or it verifies a fix (once finished: a
        run parked in the database comes back later)."""
        return self.status == "failed" or (self.trigger == "heal" and self.status != "waiting")


class ExecutorObserver:
    """Hooks with no-op defaults; override the ones you need."""

    def on_run_started(self, run: RunInfo) -> None: ...

    def on_step_started(self, run: RunInfo, index: int, step_name: str) -> None: ...

    def on_step_retry(
        self, run: RunInfo, step_name: str, error: ErrorContext, delay: float
    ) -> None: ...

    def on_step_wait(
        self, run: RunInfo, step_name: str, seconds: float, kind: str, target: str
    ) -> None:
        """A step waits before its next request: `kind` is pacing, quota, retry_after,
        circuit or backoff; `target` the `host scope` waited for."""

    def on_step_finished(self, run: RunInfo, step: StepRun) -> None: ...

    def on_run_failed(self, run: RunInfo, error: ErrorContext) -> None: ...

    def on_run_finished(self, run: RunInfo, result: RunResult) -> None: ...


class Observers:
    """Fans an event out to every observer; one observer's crash does not stop the rest."""

    def __init__(self, observers: list[ExecutorObserver] | None = None) -> None:
        self._observers = list(observers or [])

    def add(self, observer: ExecutorObserver) -> None:
        self._observers.append(observer)

    def emit(self, event: str, *args: Any) -> None:
        for observer in self._observers:
            try:
                getattr(observer, event)(*args)
            except Exception:
                log.exception("observer %s failed on %s", type(observer).__name__, event)
