"""Runs the API does in-process (`?wait=true`, approvals): on a small bounded thread
pool, so a burst of waiting requests cannot starve the server of threads. A full pool
answers 429 rather than queueing without end."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kyra.api.errors import ApiError
from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.healing.driver import DriveResult, HealingDriver
from kyra.healing.healer import Healer
from kyra.store.workflows import WorkflowRecord

T = TypeVar("T")


class InlineRuns:
    """A bounded pool for in-process runs."""

    def __init__(self, workers: int = 2, max_pending: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kyra-api-run")
        self._max = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pending >= self._max:
                raise ApiError(
                    429,
                    "busy",
                    "too many runs in progress; retry later or use wait=false",
                    headers={"Retry-After": "5"},
                )
            self._pending += 1
        try:
            return await asyncio.wrap_future(self._pool.submit(fn, *args))
        finally:
            with self._lock:
                self._pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def healer_for(kyra: Kyra) -> Healer:
    """The app's healer (approvals via the API notify too)."""
    return kyra.healer


def run_and_heal(kyra: Kyra, record: WorkflowRecord, inputs: dict[str, Any]) -> DriveResult:
    """What `kyra run` does: run, heal a failure, run the healed re-run, verify."""
    return HealingDriver(kyra, healer_for(kyra)).run(record, inputs)


def drive_rerun(kyra: Kyra, healer: Healer, rerun_id: str | None) -> list[RunResult]:
    """Run an approved fix's re-run now and follow healing until it settles (like
    `kyra fixes approve`)."""
    return HealingDriver(kyra, healer).resume(rerun_id).results
