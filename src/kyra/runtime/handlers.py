"""The seam between the runtime and healing: run-failed handlers, and delayed re-runs.

After an execution fails, the runtime calls every registered handler with the app and
the run's result: inside the embedded runtime's healer thread, or as one Celery task
`kyra.heal(execution_id, handler_name)` per handler in the scale-out runtime. Either way
a handler that raises is retried with exponential backoff (`heal_backoff_seconds` × 2^n,
at most `heal_max_retries` times, the spec's `auto_healing_worker`), and handlers of
one workflow run one at a time, under a database lock with a lease.

    handlers = FailureHandlers()
    handlers.register("heal", healing.on_run_failed)     # (app, result) -> None
    EmbeddedRuntime(app, settings, handlers=handlers)

    # inside a handler: re-run from the failed step in 30 s, under the new config
    schedule_rerun(app, result.execution_id, app.clock.now() + timedelta(seconds=30))

`schedule_rerun` writes a `waiting` execution row; the embedded workers claim it when
due, the scale-out scheduler sends it to Celery when due. Nothing is held in memory.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from kyra.app import Kyra
from kyra.engine import reruns
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import RunResult
from kyra.errors import KyraError
from kyra.store import executions as exec_store
from kyra.store import workers

FailureHandler = Callable[[Kyra, RunResult], None]
"""Called after an execution failed; raise to be retried with backoff."""


class HealingBusy(KyraError):
    """Another handler holds the workflow's healing lock; retry later."""


class FailureHandlers:
    """Run-failed handlers by name (the name keys the Celery retries and the logs)."""

    def __init__(self, handlers: dict[str, FailureHandler] | None = None) -> None:
        self._handlers: dict[str, FailureHandler] = dict(handlers or {})

    def register(self, name: str, handler: FailureHandler) -> None:
        if not name or name in self._handlers:
            raise ValueError(f"a failure handler needs a new, non-empty name (got {name!r})")
        self._handlers[name] = handler

    def names(self) -> list[str]:
        return list(self._handlers)

    def get(self, name: str) -> FailureHandler:
        try:
            return self._handlers[name]
        except KeyError:
            raise KeyError(f"no failure handler named {name!r}") from None

    def __bool__(self) -> bool:
        return bool(self._handlers)

    @classmethod
    def from_paths(cls, paths: Iterable[str]) -> FailureHandlers:
        """Load `package.module:function` handlers (settings: `failure_handlers`)."""
        handlers = cls()
        for path in paths:
            module, sep, attr = path.partition(":")
            if not sep or not module or not attr:
                raise ValueError(f"a failure handler is 'package.module:function', got {path!r}")
            handlers.register(path, getattr(importlib.import_module(module), attr))
        return handlers


def run_result_of(app: Kyra, execution_id: str) -> RunResult:
    """Rebuild a finished execution's result from the store (the Celery heal task gets
    an id, not the in-memory result)."""
    execution = exec_store.get_execution(app.store, execution_id)
    context = (
        ErrorContext.model_validate(execution.error_context) if execution.error_context else None
    )
    outputs: dict[str, Any] = {
        s.step_name: s.output for s in execution.steps if s.status == "succeeded"
    }
    return RunResult(
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        workflow_name=execution.workflow_name,
        status=execution.status,
        failed_step=execution.failed_step,
        error_context=context,
        outputs=outputs,
        duration_ms=execution.duration_ms or 0.0,
        trigger=execution.trigger,
    )


def handle_failure(
    app: Kyra, handler: FailureHandler, result: RunResult, *, owner: str, lock: timedelta
) -> None:
    """Call one handler under the workflow's healing lock; `HealingBusy` if it is held."""
    now = app.clock.now()
    if not workers.acquire_heal_lock(
        app.store,
        result.workflow_id,
        owner,
        execution_id=result.execution_id,
        now=now,
        until=now + lock,
    ):
        raise HealingBusy(f"workflow {result.workflow_name!r} is already being healed")
    try:
        handler(app, result)
    finally:
        workers.release_heal_lock(app.store, result.workflow_id, owner)


def heal_backoff(base_seconds: float, retries: int) -> float:
    """The spec's countdown: base × 2^n (60, 120, 240 s by default)."""
    return float(base_seconds * 2**retries)


def schedule_rerun(
    app: Kyra,
    execution_id: str,
    run_at: datetime,
    *,
    start_step: int | None = None,
    inputs: dict[str, Any] | None = None,
) -> str:
    """Create a delayed re-run of `execution_id`; returns the new execution's id.

    It resumes the failed execution: from its failed step (or from the start when the
    workflow says `rerun_from: start`, or from `start_step`), reusing the outputs of the
    steps before it, with the same inputs unless `inputs` is given. Both runtimes pick
    it up when `run_at` comes; it survives restarts like any queued execution. The same
    function plans healing's re-runs (`kyra.engine.reruns`).
    """
    return reruns.schedule_rerun(
        app.store, execution_id, run_at, start_step=start_step, inputs=inputs
    )
