"""`kyra serve`: scheduler, worker pool and healer in one process, on one database.

    with create_app(settings) as app:
        runtime = EmbeddedRuntime(app, handlers=handlers)   # app.settings.runtime
        runtime.serve()                     # until SIGTERM/SIGINT, then drains

Everything durable lives in the database (queued, waiting and running executions,
schedules); the process holds only leases. On start, the keeper reclaims executions
whose leases expired (a previous process was killed), so nothing queued is lost.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any

from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.engine.states import WorkflowState
from kyra.errors import IllegalTransitionError
from kyra.runtime.handlers import (
    FailureHandlers,
    HealingBusy,
    handle_failure,
    heal_backoff,
    run_result_of,
)
from kyra.runtime.heal import HANDLER_NAME
from kyra.runtime.processes import parent_alive
from kyra.runtime.scheduler import Scheduler, runtime_id
from kyra.runtime.settings import RuntimeSettings
from kyra.runtime.worker import LeaseKeeper, WorkerPool
from kyra.store import executions as exec_store
from kyra.store import workers
from kyra.store import workflows as wf_store
from kyra.store.workflows import WorkflowRecord

HEALER_STOP_SECONDS = 10.0
"""How long a stopping runtime waits for the failure handler running at that moment."""

log = logging.getLogger("kyra.runtime")


@dataclass(order=True)
class _HealJob:
    due: float
    seq: int
    name: str = field(compare=False)
    result: RunResult = field(compare=False)
    attempt: int = field(compare=False, default=0)


class HealingWorker:
    """Runs failure handlers off the worker threads, one at a time, retrying a raising
    handler after base × 2^n seconds. Pending retries live in memory: a restart drops
    them, and the next start heals the failure they were for again (see
    `EmbeddedRuntime._resume_healing`)."""

    def __init__(self, app: Kyra, settings: RuntimeSettings, handlers: FailureHandlers, owner: str):
        self.app = app
        self.settings = settings
        self.handlers = handlers
        self.owner = owner
        self._jobs: list[_HealJob] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="kyra-healer", daemon=True)
        self.done = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, result: RunResult, only: str | None = None) -> None:
        now = self.app.clock.monotonic()
        with self._cond:
            for name in self.handlers.names() if only is None else [only]:
                heapq.heappush(self._jobs, _HealJob(now, next(self._seq), name, result))
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (
                    not self._jobs or self._jobs[0].due > self.app.clock.monotonic()
                ):
                    wait = self._jobs[0].due - self.app.clock.monotonic() if self._jobs else None
                    self._cond.wait(min(wait, 1.0) if wait is not None else 1.0)
                if self._stop:
                    return
                job = heapq.heappop(self._jobs)
            self._run(job)

    def _run(self, job: _HealJob) -> None:
        lock = self.settings.heal_lock_seconds
        try:
            handle_failure(
                self.app,
                self.handlers.get(job.name),
                job.result,
                owner=self.owner,
                lock=timedelta(seconds=lock),
            )
            self.done += 1
            return
        except HealingBusy:
            delay, attempt = min(self.settings.heal_backoff_seconds, 5.0) or 0.5, job.attempt
        except Exception:
            log.exception("failure handler %s raised (attempt %d)", job.name, job.attempt + 1)
            if job.attempt >= self.settings.heal_max_retries:
                log.error("failure handler %s gave up on %s", job.name, job.result.execution_id)
                return
            delay = heal_backoff(self.settings.heal_backoff_seconds, job.attempt)
            attempt = job.attempt + 1
        retry = _HealJob(self.app.clock.monotonic() + delay, next(self._seq), job.name, job.result)
        retry.attempt = attempt
        with self._cond:
            heapq.heappush(self._jobs, retry)
            self._cond.notify()

    def stop(self, wait: float) -> None:
        """Stop after the handler running now, waiting up to `wait` seconds for it (its
        failure is healed again on the next start if it is cut off)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=wait)


class EmbeddedRuntime:
    """The default runtime: one process, any database (SQLite by default)."""

    def __init__(
        self,
        app: Kyra,
        settings: RuntimeSettings | None = None,
        *,
        handlers: FailureHandlers | None = None,
        schedule: bool = True,
    ) -> None:
        self.app = app
        self.settings = settings or app.settings.runtime
        self.handlers = handlers or FailureHandlers.from_paths(self.settings.failure_handlers)
        self.owner = runtime_id("embedded")
        self.heal_worker = HealingWorker(app, self.settings, self.handlers, self.owner)
        self.pool = WorkerPool(
            app,
            self.settings,
            owner=self.owner,
            on_failed=self.heal_worker.submit if self.handlers else None,
        )
        app.on_work_queued(self.pool.wake)
        self.keeper = LeaseKeeper(
            app,
            self.settings,
            owner=self.owner,
            kind="embedded",
            concurrency=self.settings.concurrency,
            load=self.pool.load,
            on_reclaimed=self.pool.wake,
        )
        self.scheduler = (
            Scheduler(
                app.store,
                app.clock,
                self.settings,
                owner=self.owner,
                on_fired=self.pool.wake,
                min_interval=app.settings.min_trigger_interval_seconds,
            )
            if schedule
            else None
        )
        self._stop = threading.Event()
        self._scheduler_thread: threading.Thread | None = None
        self._started_at = app.clock.monotonic()
        self.last_tick: float | None = None
        """Monotonic time of the scheduler's last completed tick (readiness)."""
        self.started = False

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> EmbeddedRuntime:
        self._started_at = self.app.clock.monotonic()
        self.keeper.start()  # first beat reclaims leases a killed process left behind
        self.heal_worker.start()
        self._resume_healing()
        self.pool.start()
        if self.scheduler is not None:
            self._scheduler_thread = threading.Thread(
                target=self._schedule_loop, name="kyra-scheduler", daemon=True
            )
            self._scheduler_thread.start()
        self.started = True
        log.info("embedded runtime %s started", self.owner)
        return self

    def _resume_healing(self) -> None:
        """Heal what a previous process left unhealed: it was killed mid-healing, or its
        healing retries were pending (they live in memory). Idempotent: the healing lock
        and the workflow's state make a second healer of the same failure a no-op."""
        if HANDLER_NAME not in self.handlers.names():
            return
        try:
            left = workers.unhealed_failures(self.app.store, self.app.clock.now())
        except Exception:
            log.exception("could not look for unhealed failures")
            return
        for workflow_id, state, execution_id in left:
            if state == WorkflowState.FIXING:
                with contextlib.suppress(IllegalTransitionError):
                    wf_store.transition_state(
                        self.app.store,
                        workflow_id,
                        WorkflowState.FAILED,
                        allowed_from=frozenset({WorkflowState.FIXING}),
                        reason="healing was interrupted (the process stopped); healing again",
                        execution_id=execution_id,
                    )
            log.warning("resuming the healing of execution %s", execution_id)
            self.heal_worker.submit(run_result_of(self.app, execution_id), only=HANDLER_NAME)

    def _schedule_loop(self) -> None:
        assert self.scheduler is not None
        while not self._stop.is_set():
            try:
                self.scheduler.tick()
                self.last_tick = self.app.clock.monotonic()
            except Exception:
                log.exception("scheduler tick failed; retrying")
            self._stop.wait(self.settings.scheduler_tick_seconds)

    def problems(self) -> list[str]:
        """Why this runtime is not doing its work (empty when it is): what `/readyz`
        reports. Each part must have beaten recently, not merely have a live thread: a
        scheduler stuck on a locked database or a keeper that cannot renew leases is as
        useless as a dead one."""
        if not self.started:
            return ["runtime stopped"]
        found = []
        now = self.app.clock.monotonic()
        alive = self.pool.alive()
        if alive < self.settings.concurrency:
            found.append(f"{self.settings.concurrency - alive} worker thread(s) dead")
        beat_age = now - self.keeper.last_beat
        if beat_age > max(3 * self.settings.heartbeat, 5.0):
            found.append(f"no heartbeat for {beat_age:.0f}s")
        if self.scheduler is not None:
            since = now - (self.last_tick if self.last_tick is not None else self._started_at)
            if since > max(20 * self.settings.scheduler_tick_seconds, 10.0):
                found.append(f"scheduler has not ticked for {since:.0f}s")
        return found

    def stop(self, drain: float | None = None, cut: threading.Event | None = None) -> list[str]:
        """Stop taking work, let running executions finish for up to `drain` seconds (or
        until `cut` is set), hand the rest back to the queue; returns the ids handed back."""
        self._stop.set()
        if self._scheduler_thread is not None:
            self._scheduler_thread.join(timeout=10)
        left = self.pool.stop(self.settings.drain_seconds if drain is None else drain, cut)
        self.heal_worker.stop(0.0 if cut is not None and cut.is_set() else HEALER_STOP_SECONDS)
        self.keeper.stop()
        self.started = False
        return left

    def serve(
        self,
        *,
        install_signals: bool = True,
        parent: int | None = None,
        on_stopping: Callable[[], None] | None = None,
    ) -> list[str]:
        """Run until SIGTERM or SIGINT, or, for a worker process of `kyra serve
        --processes`, until its `parent` is gone. A second signal, at any time during the
        drain, cuts it short: what is still running is handed back to the queue at once.
        `on_stopping` runs before the drain and again on the second signal (to stop
        worker processes, then cut their drains short too)."""
        stop = threading.Event()
        force = threading.Event()

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                force.set()
                if on_stopping is not None:
                    on_stopping()
            stop.set()

        if install_signals:
            signal.signal(signal.SIGTERM, _on_signal)
            signal.signal(signal.SIGINT, _on_signal)
        self.start()
        while not stop.wait(0.5):
            if not parent_alive(parent):
                log.warning("the kyra serve that started this worker process is gone; stopping")
                break
        if on_stopping is not None:
            on_stopping()
        running = len(self.pool.running)
        if running and not force.is_set():
            log.warning(
                "stopping: %d execution(s) running get up to %.0f s to finish; "
                "signal again to hand them back now",
                running,
                self.settings.drain_seconds,
            )
        return self.stop(0.0 if force.is_set() else None, cut=force)

    # -- work --------------------------------------------------------------------------

    def submit(
        self,
        record: WorkflowRecord,
        inputs: dict[str, Any] | None = None,
        *,
        trigger: str = "manual",
    ) -> str:
        """Queue an execution of `record` (durable at once) and wake a worker."""
        execution_id = exec_store.create_execution(
            self.app.store,
            tenant_id=record.tenant_id,
            workflow_id=record.id,
            inputs=dict(inputs or {}),
            trigger=trigger,
        )
        self.pool.wake()
        return execution_id

    def __enter__(self) -> EmbeddedRuntime:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        if self.started:
            self.stop()
