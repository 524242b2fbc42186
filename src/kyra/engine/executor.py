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
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

import httpx
from pydantic import ValidationError

from kyra import logs
from kyra.actions.base import (
    ActionRegistry,
    ExchangeWatch,
    HostGuard,
    NoGuard,
    NoWatch,
    RequestPacer,
    ResponseLimits,
    StepContext,
    UnknownActionError,
)
from kyra.clock import Clock, SystemClock
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, Observers, RunInfo, RunResult
from kyra.engine.fleet import FleetGuard
from kyra.engine.fleet_settings import FleetSettings
from kyra.engine.lease import ProcessLease
from kyra.engine.retry import retry_delay
from kyra.engine.run_guard import RunGuard
from kyra.engine.states import ON_RUN_FAILED, ON_RUN_SUCCEEDED, WorkflowState
from kyra.errors import (
    ActionInputError,
    IllegalTransitionError,
    StepError,
    TemplateError,
    WaitRequired,
)
from kyra.logconfig import log_context
from kyra.redaction import Redactor, credentials_in
from kyra.store import executions as exec_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.executions import StepRun
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import OnError, Step, WorkflowConfig, effective_config
from kyra.workflows.params import apply_date_normalisers, apply_defaults, set_path
from kyra.workflows.templating import (
    TemplateContext,
    TemplateProblem,
    TemplateRenderer,
    template_environ,
)

log = logging.getLogger("kyra.engine")

SecretLoader = Callable[[str], Mapping[str, str]]
WatchFactory = Callable[[RunInfo, WorkflowRecord, Mapping[str, str]], ExchangeWatch]
"""Builds a run's `ExchangeWatch` from the run, its workflow and the tenant's secrets
(`kyra.predict.watch`: credential expiry); it may look at the secrets, never log them."""


class ParkMode(StrEnum):
    """What the caller of the executor can do with a run that must wait.

    NONE: every wait is slept (`kyra run`: a person watches the progress).
    DURABLE: waits longer than `durable_seconds` park the execution in the database
    (status `waiting`, `run_at`); shorter ones are slept (Celery workers).
    MEMORY: waits longer than `sleep_seconds` return a `Parked` run that the caller resumes
    when due (the embedded pool); longer than `durable_seconds`, in the database."""

    NONE = "none"
    DURABLE = "durable"
    MEMORY = "memory"


@dataclass
class _StepState:
    """Where a parked step stands: resumed with the same parameters and attempt."""

    index: int
    attempt: int
    started_at: Any
    t0: float
    params: dict[str, Any] | None = None
    parsed: Any = None


class _Park(Exception):
    """Control flow: the step must wait longer than this run may sleep."""

    def __init__(self, seconds: float, kind: str, target: str, detail: str, attempt: int):
        super().__init__(kind)
        self.seconds, self.kind, self.target, self.detail = seconds, kind, target, detail
        self.attempt = attempt
        self.state: _StepState | None = None


@dataclass
class Parked:
    """An execution waiting for an upstream with no worker held; `Executor.resume` it
    at `until` (monotonic clock), or `Executor.park_durably` it."""

    execution_id: str
    workflow_name: str
    until: float
    seconds: float
    kind: str
    target: str
    detail: str
    run: _Run
    state: _StepState

    @property
    def reason(self) -> str:
        return f"{self.kind} {self.target}: {self.detail}"[:300]


@dataclass
class _Run:
    """Mutable state of one execution while it runs."""

    info: RunInfo
    record: WorkflowRecord
    inputs: dict[str, Any]
    secrets: Mapping[str, str]
    redactor: Redactor
    pacer: RequestPacer
    outputs: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    guard: HostGuard = field(default_factory=NoGuard)
    watch: ExchangeWatch = field(default_factory=NoWatch)
    failed_params: dict[str, Any] | None = None
    """Rendered parameters of the step that failed last (redacted before storing)."""
    rerun_indices: frozenset[int] = frozenset()
    """Steps recorded by an interrupted earlier attempt of this same execution."""
    park: ParkMode = ParkMode.NONE
    started: float = 0.0
    """Monotonic time the run started (its duration spans parked waits)."""
    first_attempt: int = 1
    """The attempt the first step resumes at (a step parked in the database)."""


def _start_watch(factory: WatchFactory, run: _Run) -> ExchangeWatch:
    try:
        return factory(run.info, run.record, run.secrets)
    except Exception:  # a warning about tomorrow must never fail today's run
        log.exception("the credential watch failed to start")
        return NoWatch()


def _log_context(execution_id: str, record: WorkflowRecord) -> AbstractContextManager[None]:
    """Every log line of the run names its execution and workflow (JSON logs)."""
    return log_context(
        execution_id=execution_id,
        workflow_id=record.id,
        workflow=record.name,
        tenant_id=record.tenant_id,
    )


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
        with _log_context(execution_id, record):
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
        with _log_context(execution_id, record):
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
        with _log_context(parked.execution_id, parked.run.record):
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
        return self._waiting(run)

    def _waiting(self, run: _Run) -> RunResult:
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
        run = _Run(
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
            run.watch = _start_watch(self._watch, run)
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
            self._reuse_outputs(run, resume_of, start_step)
        return self._steps(run, first, None)

    def _steps(self, run: _Run, first: int, resumed: _StepState | None) -> RunResult | Parked:
        steps = run.record.workflow.steps
        for index in range(first, len(steps)):
            step = steps[index]
            last = index == len(steps) - 1
            if resumed is None:
                self.observers.emit("on_step_started", run.info, index, step.name)
            try:
                failure = self._run_step(run, index, step, last, resumed)
            except _Park as park:
                assert park.state is not None
                return self._park(run, step, park)
            resumed = None
            if failure is not None and step.on_error is OnError.FAIL:
                return self._fail(run, step, failure, run.started)
        return self._succeed(run, run.started)

    def _park(self, run: _Run, step: Step, park: _Park) -> RunResult | Parked:
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

    def _reuse_outputs(self, run: _Run, source_execution: str, start_step: int) -> None:
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

    def _run_step(
        self, run: _Run, index: int, step: Step, last: bool, resumed: _StepState | None
    ) -> StepError | None:
        config = effective_config(run.record.workflow.config, step)
        if resumed is None:
            # The first step of a run resumed from the database goes on at its attempt.
            state = _StepState(index, run.first_attempt, self.clock.now(), self.clock.monotonic())
            run.first_attempt = 1
        else:
            state = resumed
        attempts = 0
        try:
            if state.parsed is None:
                state.params = self._params(run, step, config)
                literal = credentials_in(state.params)  # `auth: {bearer: "..."}` in the YAML
                if literal:
                    run.redactor = run.redactor.learn(literal)
                    logs.remember_secrets(literal)
                action = self._action(step)
                try:
                    state.parsed = action.Params.model_validate(state.params)
                except ValidationError as exc:
                    raise ActionInputError(
                        _validation_message(exc), action=step.action, error_type="ValidationError"
                    ) from exc
            else:
                action = self._action(step)
            output, attempts = self._call(run, step, action, state, config)
        except _Park as park:
            park.state = replace(state, attempt=park.attempt)
            raise
        except StepError as error:
            run.failed_params = state.params
            error.provider = step.provider or error.provider
            error.action = error.action or step.action
            self._record(
                run,
                index,
                step,
                "failed",
                max(attempts, error.attempt),
                state.started_at,
                state.t0,
                params=state.params,
                error=error,
                last=False,
            )
            return error
        run.outputs[step.name] = output
        self._record(
            run,
            index,
            step,
            "succeeded",
            attempts,
            state.started_at,
            state.t0,
            params=state.params,
            output=output,
            last=last,
        )
        return None

    def _action(self, step: Step) -> Any:
        try:
            return self.registry.get(step.action)
        except UnknownActionError:
            raise ActionInputError(
                f"unknown action {step.action!r}",
                action=step.action,
                error_type="UnknownAction",
            ) from None

    def _params(self, run: _Run, step: Step, config: WorkflowConfig) -> dict[str, Any]:
        context = TemplateContext(
            inputs=run.inputs,
            steps={name: {"output": out} for name, out in run.outputs.items()},
            secrets=run.secrets,
            env=self._env,
            now=self.clock.now(),
        )
        try:
            params = self.renderer.render_params(step.with_, context)
        except TemplateError as exc:
            limited = isinstance(exc, TemplateProblem) and exc.kind == "limit"
            raise ActionInputError(
                str(exc),
                action=step.action,
                error_type="TemplateLimitExceeded" if limited else "TemplateError",
            ) from exc
        try:
            if config.defaults:
                params, _ = apply_defaults(params, config.defaults)
            for path, value in config.overrides.items():
                params = set_path(params, path, value)
            if config.date_normalisers:
                params, _ = apply_date_normalisers(params, config.date_normalisers)
        except ValueError as exc:
            raise ActionInputError(
                f"config cannot be applied to the parameters: {exc}",
                action=step.action,
                error_type="ConfigError",
            ) from exc
        return params

    def _call(
        self, run: _Run, step: Step, action: Any, state: _StepState, config: WorkflowConfig
    ) -> tuple[Any, int]:
        policy = config.retry
        attempt = state.attempt
        while True:
            ctx = StepContext(
                workflow_name=run.record.name,
                step_name=step.name,
                action=step.action,
                config=config,
                http=self.http,
                pacer=run.pacer,
                attempt=attempt,
                provider=step.provider,
                sleep=self.clock.sleep,
                guard=run.guard,
                limits=self.response_limits,
                watch=run.watch,
            )
            try:
                return action.run(state.parsed, ctx), attempt
            except WaitRequired as wait:  # not an attempt: the request never went
                self._wait(run, step, wait.seconds, wait.kind, wait.target, wait.detail, attempt)
            except StepError as error:
                error.attempt = attempt
                if not error.retryable or attempt > policy.max_retries:
                    raise
                delay = retry_delay(policy, attempt, error.retry_after, self._rng)
                slot = run.guard.retry_slot() if error.status_code == 429 else None
                if slot is not None:
                    delay = slot  # a paced scope: the retry's place in line says when
                limit = self.waits.max_wait_seconds
                if run.park is ParkMode.NONE:
                    limit = min(limit, self.max_retry_sleep)
                if delay > limit:
                    if error.retry_after is not None and error.retry_after > limit:
                        error.message = (
                            f"{error.message} (the upstream asked to wait {error.retry_after:g} s; "
                            f"Kyra waits at most {limit:g} s here: not retried)"
                        )
                    raise  # too long to wait: healing decides (a re-run, or a person)
                self.observers.emit(
                    "on_step_retry", run.info, step.name, self._context(run, step, error), delay
                )
                attempt += 1
                self._wait(run, step, delay, "backoff", step.name, error.error_type or "", attempt)
            except Exception as exc:  # a bug in an action: still a recorded, diagnosable failure
                log.exception("action %s raised an unexpected error", step.action)
                raise StepError(
                    str(exc),
                    action=step.action,
                    error_type=type(exc).__name__,
                    attempt=attempt,
                    retryable=False,
                ) from exc

    def _wait(
        self,
        run: _Run,
        step: Step,
        seconds: float,
        kind: str,
        target: str,
        detail: str,
        attempt: int,
    ) -> None:
        """Sleep a short wait; park a long one (raises `_Park`) where the caller can."""
        w = self.waits
        parks = (run.park is ParkMode.MEMORY and seconds > w.sleep_seconds) or (
            run.park is ParkMode.DURABLE and seconds > w.durable_seconds
        )
        if parks:
            raise _Park(seconds, kind, target, detail, attempt)
        if kind != "backoff":
            self.observers.emit("on_step_wait", run.info, step.name, seconds, kind, target)
        self.clock.sleep(seconds)

    # -- recording ----------------------------------------------------------------------

    def _record(
        self,
        run: _Run,
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

    def _context(self, run: _Run, step: Step, error: StepError) -> ErrorContext:
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

    def _fail(self, run: _Run, step: Step, error: StepError, started: float) -> RunResult:
        context = self._context(run, step, error)
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
            outputs=run.redactor(run.outputs),
            duration_ms=(self.clock.monotonic() - started) * 1000,
            trigger=run.info.trigger,
        )
        self.observers.emit("on_run_finished", run.info, result)
        return result

    def _succeed(self, run: _Run, started: float) -> RunResult:
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
            outputs=run.redactor(run.outputs),
            duration_ms=(self.clock.monotonic() - started) * 1000,
            trigger=run.info.trigger,
        )
        self.observers.emit("on_run_finished", run.info, result)
        return result

    def _move_state(
        self, run: _Run, table: dict[WorkflowState, WorkflowState], reason: str
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


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"with.{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


__all__ = ["Executor", "UnknownActionError"]
