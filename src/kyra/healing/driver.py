"""In-process healing for `kyra run` (embedded default): run, heal, wait for the planned
re-run, run it, verify, until the workflow is healthy or needs a person.

The re-run is a durable `waiting` execution; this driver claims it like any worker would,
so a `kyra serve` process on the same database can never run it twice. If another worker
claims it first, the driver waits for that worker's result instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kyra.app import Kyra
from kyra.engine.events import ExecutorObserver, RunResult
from kyra.engine.executor import Executor
from kyra.healing.healer import Healer, HealOutcome
from kyra.store import executions as exec_store
from kyra.store import queue
from kyra.store.workflows import WorkflowRecord

MAX_ROUNDS = 12
"""A hard stop under the gate's own limits: the loop can never spin."""
POLL_SECONDS = 0.5


@dataclass
class DriveResult:
    results: list[RunResult] = field(default_factory=list)
    outcomes: list[HealOutcome] = field(default_factory=list)

    @property
    def final(self) -> RunResult:
        """The last run (only call when at least one run happened)."""
        return self.results[-1]

    @property
    def healed(self) -> bool:
        return len(self.results) > 1 and self.final.succeeded


class HealingDriver:
    def __init__(self, kyra: Kyra, healer: Healer, observers: list[ExecutorObserver] | None = None):
        self.kyra = kyra
        self.healer = healer
        # Runs and claimed re-runs are held under this process's lease, renewed while
        # it lives: if it dies, they go back to the queue instead of staying `running`.
        self.lease = kyra.inline_lease
        self.executor: Executor = kyra.executor(observers, lease=self.lease)

    def run(
        self, record: WorkflowRecord, inputs: dict[str, Any] | None = None, *, wait: bool = True
    ) -> DriveResult:
        """Run now; on failure heal, and (with `wait`) follow the planned re-runs."""
        drive = DriveResult()
        self._follow(drive, self.executor.run(record, inputs), wait)
        return drive

    def resume(self, rerun_id: str | None) -> DriveResult:
        """Run a planned re-run (e.g. an approved fix's) when due, and follow healing
        until the workflow is healthy or needs a person."""
        drive = DriveResult()
        result = self.run_when_due(rerun_id) if rerun_id else None
        if result is not None:
            self._follow(drive, result, wait=True)
        return drive

    def _follow(self, drive: DriveResult, result: RunResult, wait: bool) -> None:
        drive.results.append(result)
        while len(drive.results) <= MAX_ROUNDS:
            outcome = self.healer.after_run(result)
            drive.outcomes.append(outcome)
            if outcome.action != "rerun" or outcome.rerun_execution_id is None or not wait:
                return
            rerun = self.run_when_due(outcome.rerun_execution_id)
            if rerun is None:  # another worker ran it and healed with its own healer
                return
            result = rerun
            drive.results.append(result)

    def run_when_due(self, execution_id: str) -> RunResult | None:
        clock = self.kyra.clock
        execution = exec_store.get_execution(self.kyra.store, execution_id)
        delay = (execution.run_at - clock.now()).total_seconds()
        if delay > 0:
            clock.sleep(delay)
        if not self.healer.may_rerun(execution_id):
            return None
        with self.lease:
            now = clock.now()
            claimed = queue.claim(
                self.kyra.store, execution_id, self.lease.owner, now, self.lease.until()
            )
            if claimed is None:
                self._wait_for(execution_id)
                return None
            return self.executor.execute(execution_id)

    def _wait_for(self, execution_id: str) -> None:
        while exec_store.get_execution(self.kyra.store, execution_id).status not in (
            "succeeded",
            "failed",
            "cancelled",
        ):
            self.kyra.clock.sleep(POLL_SECONDS)
