"""What one execution holds while it runs (`RunState`), and how a run that must wait
longer than it may sleep is handed back (`Parked`) to be resumed where it stopped."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kyra.actions.base import ExchangeWatch, HostGuard, NoGuard, NoWatch, RequestPacer
from kyra.engine.events import RunInfo
from kyra.logconfig import log_context
from kyra.redaction import Redactor
from kyra.store.workflows import WorkflowRecord

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
class StepState:
    """Where a parked step stands: resumed with the same parameters and attempt."""

    index: int
    attempt: int
    started_at: Any
    t0: float
    params: dict[str, Any] | None = None
    parsed: Any = None


class ParkSignal(Exception):
    """Control flow: the step must wait longer than this run may sleep."""

    def __init__(self, seconds: float, kind: str, target: str, detail: str, attempt: int):
        super().__init__(kind)
        self.seconds, self.kind, self.target, self.detail = seconds, kind, target, detail
        self.attempt = attempt
        self.state: StepState | None = None


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
    run: RunState
    state: StepState

    @property
    def reason(self) -> str:
        return f"{self.kind} {self.target}: {self.detail}"[:300]


@dataclass
class RunState:
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
    redacted: dict[str, tuple[Redactor, Any]] = field(default_factory=dict)
    """Each step's output as recorded (redacted), with the redactor that did it: the
    run's result reuses them instead of redacting every output a second time."""


def start_watch(factory: WatchFactory, run: RunState) -> ExchangeWatch:
    try:
        return factory(run.info, run.record, run.secrets)
    except Exception:  # a warning about tomorrow must never fail today's run
        log.exception("the credential watch failed to start")
        return NoWatch()


def run_log_context(execution_id: str, record: WorkflowRecord) -> AbstractContextManager[None]:
    """Every log line of the run names its execution and workflow (JSON logs)."""
    return log_context(
        execution_id=execution_id,
        workflow_id=record.id,
        workflow=record.name,
        tenant_id=record.tenant_id,
    )
