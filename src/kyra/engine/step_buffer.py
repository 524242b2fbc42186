"""The steps of runs in flight, for executor observers that judge a run when it ends
(trends, incidents): bounded, so runs parked for later never grow a long-lived worker."""

from __future__ import annotations

import threading

from kyra.engine.events import RunInfo
from kyra.store.executions import StepRun

MAX_OPEN_RUNS = 1000
"""Runs held at once; past this the oldest is forgotten (a run parked for later has no
`on_run_finished` now)."""


class StepBuffer:
    def __init__(self, max_runs: int = MAX_OPEN_RUNS) -> None:
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._steps: dict[str, list[StepRun]] = {}

    def add(self, run: RunInfo, step: StepRun) -> None:
        """Hold one finished step; steps reused from an earlier run are not new news."""
        if step.reused:
            return
        with self._lock:
            if run.execution_id not in self._steps and len(self._steps) >= self.max_runs:
                self._steps.pop(next(iter(self._steps)))
            self._steps.setdefault(run.execution_id, []).append(step)

    def pop(self, execution_id: str) -> list[StepRun]:
        """The run's steps, forgotten here."""
        with self._lock:
            return self._steps.pop(execution_id, [])
