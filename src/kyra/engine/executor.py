"""Runs a workflow's steps in order: render, call, retry, record, and on a final failure
capture a complete, redacted `ErrorContext` for diagnosis.

The executor knows nothing of healing: it emits events (`engine.events`) and leaves the
workflow in `failed`; whoever observes the event decides what to do.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx

from kyra import logs
from kyra.actions.base import (
    ActionRegistry,
    NoGuard,
    RequestPacer,
    ResponseLimits,
    UnknownActionError,
)
from kyra.clock import Clock, SystemClock
from kyra.engine.events import ExecutorObserver, Observers, RunInfo, RunResult
from kyra.engine.fleet import FleetGuard
from kyra.engine.fleet_settings import FleetSettings
from kyra.engine.lease import ProcessLease
from kyra.engine.run_guard import RunGuard
from kyra.engine.run_record import RunRecorder
from kyra.engine.run_state import (
    Parked,
    ParkMode,
    ParkSignal,
    RunState,
    SecretLoader,
    StepState,
    WatchFactory,
    run_log_context,
    start_watch,
)
from kyra.engine.step_runner import StepRunner
from kyra.redaction import Redactor
from kyra.store import executions as exec_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.executions import StepRun
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import OnError, Step
from kyra.workflows.templating import (
    TemplateRenderer,
    template_environ,
)

log = logging.getLogger("kyra.engine")


class Executor:
    """Executes stored executions. One instance serves many runs (thread-safe if its
    `http` client and `store` are)."""

    def __init__(
        self,
        *,
        store: Store,
        registry: ActionRegistry,
        renderer: TemplateRenderer,
        http: httpx.Client,
        secrets: SecretLoader,
        clock: Clock | None = None,
        observers: list[ExecutorObserver] | None = None,
        env: Mapping[str, str] | None = None,
        template_env: Sequence[str] = (),
        response_limits: ResponseLimits | None = None,
        max_retry_sleep: float = 300.0,
        rng: random.Random | None = None,
        guard: FleetGuard | None = None,
        lease: ProcessLease | None = None,
        watch: WatchFactory | None = None,
    ) -> None:
        self.store = store
        self.lease = lease
        self.registry = registry
        self.renderer = renderer
        self.http = http
        self._secrets = secrets
        self.clock = clock or SystemClock()
        self.observers = Observers(observers)
        # Once, not per step: the names of `env` (default os.environ) templates may read.
        self._env = template_environ(os.environ if env is None else env, template_env)
        self.max_retry_sleep = max_retry_sleep
        self.response_limits = response_limits or ResponseLimits()
        self._rng = rng or random.Random()
        self.guard = guard
        self._watch = watch
        self.waits = guard.settings if guard is not None else FleetSettings()
        self._records: dict[str, tuple[tuple[int, int], WorkflowRecord]] = {}
        self._records_lock = threading.Lock()
        self.recorder = RunRecorder(store, self.clock, self.observers)
        self.steps = StepRunner(
            registry=registry,
            renderer=renderer,
            http=http,
            env=self._env,
            clock=self.clock,
            observers=self.observers,
            recorder=self.recorder,
            response_limits=self.response_limits,
            max_retry_sleep=max_retry_sleep,
            rng=self._rng,
            waits=self.waits,
        )
        logs.install()

    # -- entry points ---------------------------------------------------------------

    def run(
        self, record: WorkflowRecord, inputs: dict[str, Any] | None = None, trigger: str = "manual"
    ) -> RunResult:
        """Create a durable execution for `record` and run it now."""
        inputs = dict(inputs or {})
        if self.lease is None:
            return self._run_now(record, inputs, trigger, None)
        with self.lease:  # held by this process, renewed while it lives
            return self._run_now(record, inputs, trigger, self.lease)

    def _run_now(
        self,
        record: WorkflowRecord,
        inputs: dict[str, Any],
        trigger: str,
        lease: ProcessLease | None,
    ) -> RunResult:
        execution_id = exec_store.create_execution(
            self.store,
            tenant_id=record.tenant_id,
            workflow_id=record.id,
            inputs=inputs,
            trigger=trigger,
            status="running",
            config_version=record.config_version,
            lease_owner=lease.owner if lease else None,
            lease_until=lease.until() if lease else None,
        )
        with run_log_context(execution_id, record):
            result = self._execute(execution_id, record, inputs, trigger)
        assert isinstance(result, RunResult)  # ParkMode.NONE sleeps every wait
        return result

    def execute(self, execution_id: str) -> RunResult:
        """Run a stored execution (queued, waiting, or interrupted while running) to its
        end, sleeping through every wait."""
        result = self.start(execution_id, park=ParkMode.NONE)
        assert isinstance(result, RunResult)
        return result

    def start(self, execution_id: str, *, park: ParkMode) -> RunResult | Parked:
        """Run a stored execution; a run that must wait longer than `park` allows to sleep
        returns `Parked` (MEMORY) or is parked in the database (a RunResult with status
        `waiting`)."""
        execution = exec_store.load_runnable(self.store, execution_id)
        record = self._current_record(execution)
        if (
            execution.status != "running"
            or not execution.started
            or execution.config_version != record.config_version
        ):
            # Not started by a claim (which starts it in the same statement), or the
            # config changed since: record what it runs under before the first step.
            exec_store.start_execution(self.store, execution_id, record.config_version)
        # Only an execution interrupted earlier has steps recorded already.
        recorded = []
        if execution.has_steps:
            recorded = exec_store.recorded_steps(self.store, execution_id)
        with run_log_context(execution_id, record):
            return self._execute(
                execution_id,
                record,
                execution.inputs,
                execution.trigger,
                start_step=execution.start_step,
                resume_of=execution.resume_of,
                recorded=recorded,
                park=park,
                first_attempt=max(1, execution.resume_attempt),
            )

    def resume(self, parked: Parked) -> RunResult | Parked:
        """Go on with a parked run where it stopped (same step, parameters, attempt)."""
        with run_log_context(parked.execution_id, parked.run.record):
            return self._steps(parked.run, parked.state.index, parked.state)

    def park_durably(self, parked: Parked) -> RunResult:
        """Hand a parked run to the database: `waiting` until it is due, no lease held."""
        run = parked.run
        run_at = self.clock.now() + timedelta(seconds=parked.until - self.clock.monotonic())
        exec_store.park_execution(
            self.store,
            run.info.execution_id,
            run_at=run_at,
            attempt=parked.state.attempt,
            reason=parked.reason,
        )
        return self.recorder.waiting(run)

    def _current_record(self, execution: exec_store.Runnable) -> WorkflowRecord:
        """The workflow with its current config; validated once per version, not per run."""
        workflow_id = execution.workflow_id
        versions = (execution.workflow_config_version, execution.workflow_definition_version)
        cached = self._records.get(workflow_id)
        if cached is not None and cached[0] == versions:
            return replace(
                cached[1],
                state=execution.workflow_state,
                state_reason=execution.workflow_state_reason,
            )
        record = wf_store.get_workflow_by_id(self.store, workflow_id)
        with self._records_lock:
            self._records[workflow_id] = (versions, record)
        return record

    def _execute(
        self,
        execution_id: str,
        record: WorkflowRecord,
        inputs: dict[str, Any],
        trigger: str,
        *,
        start_step: int = 0,
        resume_of: str | None = None,
        recorded: list[StepRun] | None = None,
        park: ParkMode = ParkMode.NONE,
        first_attempt: int = 1,
    ) -> RunResult | Parked:
        secrets = self._secrets(record.tenant_id)
        logs.remember_secrets(secrets.values())
        workflow = record.workflow
        run = RunState(
            info=RunInfo(
                execution_id=execution_id,
                tenant_id=record.tenant_id,
                workflow_id=record.id,
                workflow_name=record.name,
                config_version=record.config_version,
                trigger=trigger,
                start_step=start_step,
                step_names=tuple(s.name for s in workflow.steps),
            ),
            record=record,
            inputs={**workflow.inputs, **inputs},
            secrets=secrets,
            redactor=Redactor(secrets.values()),
            pacer=RequestPacer(sleep=self.clock.sleep, monotonic=self.clock.monotonic),
            guard=RunGuard(self.guard, record.tenant_id) if self.guard else NoGuard(),
            park=park,
            started=self.clock.monotonic(),
            first_attempt=first_attempt,
        )
        if self._watch is not None:
            run.watch = start_watch(self._watch, run)
        self.observers.emit("on_run_started", run.info)
        first = start_step
        if recorded:
            # Interrupted earlier (worker killed, process crashed): the recorded steps
            # already happened; feed their outputs forward and go on after them.
            # A step recorded as failed (crash before the outcome was stored) runs again.
            first = max(s.step_index for s in recorded) + 1
            for done in recorded:
                if done.status == "succeeded":
                    run.outputs[done.step_name] = done.output
                elif workflow.steps[done.step_index].on_error is OnError.FAIL:
                    first = min(first, done.step_index)
            run.rerun_indices = frozenset(s.step_index for s in recorded)
        elif resume_of and start_step > 0:
            self.recorder.reuse_outputs(run, resume_of, start_step)
        return self._steps(run, first, None)

    def _steps(self, run: RunState, first: int, resumed: StepState | None) -> RunResult | Parked:
        steps = run.record.workflow.steps
        for index in range(first, len(steps)):
            step = steps[index]
            last = index == len(steps) - 1
            if resumed is None:
                self.observers.emit("on_step_started", run.info, index, step.name)
            try:
                failure = self.steps.run(run, index, step, last, resumed)
            except ParkSignal as park:
                assert park.state is not None
                return self._park(run, step, park)
            resumed = None
            if failure is not None and step.on_error is OnError.FAIL:
                return self.recorder.fail(run, step, failure, run.started)
        return self.recorder.succeed(run, run.started)

    def _park(self, run: RunState, step: Step, park: ParkSignal) -> RunResult | Parked:
        assert park.state is not None
        parked = Parked(
            execution_id=run.info.execution_id,
            workflow_name=run.info.workflow_name,
            until=self.clock.monotonic() + park.seconds,
            seconds=park.seconds,
            kind=park.kind,
            target=park.target,
            detail=park.detail,
            run=run,
            state=park.state,
        )
        self.observers.emit(
            "on_step_wait", run.info, step.name, park.seconds, park.kind, park.target
        )
        if run.park is ParkMode.MEMORY and park.seconds <= self.waits.durable_seconds:
            return parked
        return self.park_durably(parked)

    # -- steps ------------------------------------------------------------------------


__all__ = ["Executor", "UnknownActionError"]
