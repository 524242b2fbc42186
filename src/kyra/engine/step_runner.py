"""One step of a run, from its parameters to its recorded outcome: render, validate, call
the action, retry what may be retried (at the fleet's slot for a paced 429), and sleep or
park every wait (`ParkSignal`) as the run's `ParkMode` allows."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx
from pydantic import ValidationError

from kyra import logs
from kyra.actions.base import ActionRegistry, ResponseLimits, StepContext
from kyra.clock import Clock
from kyra.engine.events import Observers
from kyra.engine.fleet_settings import FleetSettings
from kyra.engine.retry import retry_delay
from kyra.engine.run_record import RunRecorder
from kyra.engine.run_state import ParkMode, ParkSignal, RunState, StepState
from kyra.engine.step_params import action_for, render_params, validation_message
from kyra.engine.waits import duration_text
from kyra.errors import ActionInputError, StepError, WaitRequired
from kyra.redaction import credentials_in
from kyra.workflows.model import Step, WorkflowConfig, effective_config
from kyra.workflows.templating import TemplateRenderer

log = logging.getLogger("kyra.engine")


class StepRunner:
    """Runs steps for one executor (thread-safe as its `http` client and store are)."""

    def __init__(
        self,
        *,
        registry: ActionRegistry,
        renderer: TemplateRenderer,
        http: httpx.Client,
        env: Mapping[str, str],
        clock: Clock,
        observers: Observers,
        recorder: RunRecorder,
        response_limits: ResponseLimits,
        max_retry_sleep: float,
        rng: random.Random,
        waits: FleetSettings,
    ) -> None:
        self.registry = registry
        self.renderer = renderer
        self.http = http
        self._env = env
        self.clock = clock
        self.observers = observers
        self.recorder = recorder
        self.response_limits = response_limits
        self.max_retry_sleep = max_retry_sleep
        self._rng = rng
        self.waits = waits

    def run(
        self, run: RunState, index: int, step: Step, last: bool, resumed: StepState | None
    ) -> StepError | None:
        config = effective_config(run.record.workflow.config, step)
        if resumed is None:
            # The first step of a run resumed from the database goes on at its attempt.
            state = StepState(index, run.first_attempt, self.clock.now(), self.clock.monotonic())
            run.first_attempt = 1
        else:
            state = resumed
        attempts = 0
        try:
            if state.parsed is None:
                state.params = render_params(
                    self.renderer, self._env, self.clock.now(), run, step, config
                )
                literal = credentials_in(state.params)  # `auth: {bearer: "..."}` in the YAML
                if literal:
                    run.redactor = run.redactor.learn(literal)
                    logs.remember_secrets(literal)
                action = action_for(self.registry, step)
                try:
                    state.parsed = action.Params.model_validate(state.params)
                except ValidationError as exc:
                    raise ActionInputError(
                        validation_message(exc), action=step.action, error_type="ValidationError"
                    ) from exc
            else:
                action = action_for(self.registry, step)
            output, attempts = self._call(run, step, action, state, config)
        except ParkSignal as park:
            park.state = replace(state, attempt=park.attempt)
            raise
        except StepError as error:
            run.failed_params = state.params
            error.provider = step.provider or error.provider
            error.action = error.action or step.action
            self.recorder.record(
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
        self.recorder.record(
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

    def _call(
        self, run: RunState, step: Step, action: Any, state: StepState, config: WorkflowConfig
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
                            f"{error.message} (the upstream asked to wait "
                            f"{duration_text(error.retry_after)}; Kyra waits at most "
                            f"{duration_text(limit)} here: not retried)"
                        )
                    raise  # too long to wait: healing decides (a re-run, or a person)
                self.observers.emit(
                    "on_step_retry",
                    run.info,
                    step.name,
                    self.recorder.context(run, step, error),
                    delay,
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
        run: RunState,
        step: Step,
        seconds: float,
        kind: str,
        target: str,
        detail: str,
        attempt: int,
    ) -> None:
        """Sleep a short wait; park a long one (raises `ParkSignal`) where the caller can."""
        w = self.waits
        parks = (run.park is ParkMode.MEMORY and seconds > w.sleep_seconds) or (
            run.park is ParkMode.DURABLE and seconds > w.durable_seconds
        )
        if parks:
            raise ParkSignal(seconds, kind, target, detail, attempt)
        if kind != "backoff":
            self.observers.emit("on_step_wait", run.info, step.name, seconds, kind, target)
        self.clock.sleep(seconds)

    # -- recording ----------------------------------------------------------------------
