"""What a run leaves behind: its steps recorded (redacted), its end (succeeded or failed,
with the `ErrorContext` diagnosis reads) and the workflow's state moved accordingly.

The executor decides what runs; `RunRecorder` writes it down and tells the observers.
"""

from __future__ import annotations

import logging
from typing import Any

from kyra.clock import Clock
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import Observers, RunResult
from kyra.engine.run_state import RunState
from kyra.engine.states import ON_RUN_FAILED, ON_RUN_SUCCEEDED, WorkflowState
from kyra.errors import IllegalTransitionError, StepError
from kyra.store import executions as exec_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.executions import StepRun
from kyra.workflows.model import Step, effective_config

log = logging.getLogger("kyra.engine")


class RunRecorder:
    """Writes one executor's runs to the store. Thread-safe as the store is."""

    def __init__(self, store: Store, clock: Clock, observers: Observers) -> None:
        self.store = store
        self.clock = clock
        self.observers = observers

    def waiting(self, run: RunState) -> RunResult:
        return RunResult(
            execution_id=run.info.execution_id,
            workflow_id=run.info.workflow_id,
            workflow_name=run.info.workflow_name,
            status="waiting",
            failed_step=None,
            error_context=None,
            outputs={},
            duration_ms=(self.clock.monotonic() - run.started) * 1000,
            trigger=run.info.trigger,
        )

    def reuse_outputs(self, run: RunState, source_execution: str, start_step: int) -> None:
        """Resume: the steps before `start_step` already ran in `source_execution`; their
        saved outputs feed the templates, and they are not called again."""
        saved = exec_store.step_outputs(self.store, source_execution)
        now = self.clock.now()
        for index, step in enumerate(run.record.workflow.steps[:start_step]):
            if step.name not in saved:
                continue
            run.outputs[step.name] = saved[step.name]
            exec_store.record_step(
                self.store,
                run.info.execution_id,
                StepRun(
                    step_index=index,
                    step_name=step.name,
                    action=step.action,
                    status="succeeded",
                    attempts=0,
                    started_at=now,
                    finished_at=now,
                    duration_ms=0.0,
                    output=saved[step.name],
                    reused=True,
                ),
            )

    def record(
        self,
        run: RunState,
        index: int,
        step: Step,
        status: str,
        attempts: int,
        started_at: Any,
        t0: float,
        *,
        params: dict[str, Any] | None,
        output: Any = None,
        error: StepError | None = None,
        last: bool,
    ) -> None:
        redact = run.redactor
        step_run = StepRun(
            step_index=index,
            step_name=step.name,
            action=step.action,
            status=status,
            attempts=attempts,
            started_at=started_at,
            finished_at=self.clock.now(),
            duration_ms=(self.clock.monotonic() - t0) * 1000,
            params=redact(params) if params is not None else None,
            output=redact(output),
            error=redact(error.fields()) if error is not None else None,
        )
        if status == "succeeded":
            run.redacted[step.name] = (redact, step_run.output)
        close = last and status == "succeeded"
        exec_store.record_step(
            self.store,
            run.info.execution_id,
            step_run,
            finish_status="succeeded" if close else None,
            replace=index in run.rerun_indices,
        )
        run.closed = run.closed or close
        self.observers.emit("on_step_finished", run.info, step_run)

    def context(self, run: RunState, step: Step, error: StepError) -> ErrorContext:
        redact = run.redactor
        index = run.info.step_names.index(step.name)
        fields = redact(error.fields())
        fields.pop("action")
        return ErrorContext(
            tenant_id=run.info.tenant_id,
            workflow_id=run.info.workflow_id,
            workflow_name=run.info.workflow_name,
            execution_id=run.info.execution_id,
            step_name=step.name,
            step_index=index,
            timestamp=self.clock.now(),
            step_action=step.action,
            config_version=run.info.config_version,
            execution_context=redact(
                {
                    "inputs": run.inputs,
                    "outputs": run.outputs,
                    "step": step.model_dump(mode="json", by_alias=True),
                    "params": run.failed_params,
                    "config": effective_config(run.record.workflow.config, step).model_dump(
                        mode="json"
                    ),
                }
            ),
            **fields,
        )

    def fail(self, run: RunState, step: Step, error: StepError, started: float) -> RunResult:
        context = self.context(run, step, error)
        context.previous_executions = exec_store.recent_outcomes(
            self.store, run.info.workflow_id, exclude=run.info.execution_id
        )
        exec_store.finish_execution(
            self.store,
            run.info.execution_id,
            "failed",
            failed_step=step.name,
            error_context=context.model_dump(mode="json"),
        )
        self._move_state(run, ON_RUN_FAILED, f"step {step.name!r} failed: {context.error_type}")
        self.observers.emit("on_run_failed", run.info, context)
        result = RunResult(
            execution_id=run.info.execution_id,
            workflow_id=run.info.workflow_id,
            workflow_name=run.info.workflow_name,
            status="failed",
            failed_step=step.name,
            error_context=context,
            outputs=run.redactor.known(run.outputs, run.redacted),
            duration_ms=(self.clock.monotonic() - started) * 1000,
            trigger=run.info.trigger,
        )
        self.observers.emit("on_run_finished", run.info, result)
        return result

    def succeed(self, run: RunState, started: float) -> RunResult:
        if not run.closed:  # the last step failed with on_error=continue, or none ran
            exec_store.finish_execution(self.store, run.info.execution_id, "succeeded")
        self._move_state(run, ON_RUN_SUCCEEDED, "run succeeded")
        result = RunResult(
            execution_id=run.info.execution_id,
            workflow_id=run.info.workflow_id,
            workflow_name=run.info.workflow_name,
            status="succeeded",
            failed_step=None,
            error_context=None,
            outputs=run.redactor.known(run.outputs, run.redacted),
            duration_ms=(self.clock.monotonic() - started) * 1000,
            trigger=run.info.trigger,
        )
        self.observers.emit("on_run_finished", run.info, result)
        return result

    def _move_state(
        self, run: RunState, table: dict[WorkflowState, WorkflowState], reason: str
    ) -> None:
        current = WorkflowState(run.record.state)
        target = table.get(current)
        if target is None:
            return
        try:
            wf_store.transition_state(
                self.store,
                run.info.workflow_id,
                target,
                allowed_from=frozenset({current}),
                reason=reason,
                execution_id=run.info.execution_id,
            )
        except IllegalTransitionError:
            # Someone (the healer, a user) moved the workflow meanwhile; their move wins.
            log.info("workflow %s changed state during the run; left as is", run.info.workflow_name)
