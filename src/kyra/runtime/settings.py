"""The runtime's section of the settings tree (`KYRA_RUNTIME_*`, read by
`kyra.settings.Settings` and handed down; a plain model so it can grow knobs without
touching the root).

Seconds at the edge (`*_seconds`), `timedelta` inside (see the properties).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RuntimeSettings(BaseModel):
    """How workers, the scheduler and the Celery app behave."""

    model_config = ConfigDict(extra="forbid")
    """A misspelt `KYRA_RUNTIME_*` name is an error, not a silently ignored knob."""

    concurrency: int = Field(default=8, ge=1, le=256)
    """Worker threads of `kyra serve`, and of `kyra worker` (Celery thread pool)."""
    processes: int = Field(default=1, ge=1, le=64)
    """Processes of `kyra serve` running workers (this one included): one per core
    makes use of a multi-core machine (Python runs one thread at a time per process)."""
    prefetch: int = Field(default=4, ge=0, le=256)
    """Executions `kyra serve` claims ahead of its free workers, so a worker that
    finishes starts the next one at once instead of waiting for a claim. Claimed ahead
    means leased: a stop hands them back, a crash lets them expire like running ones."""
    max_parked: int = Field(default=1000, ge=0, le=1_000_000)
    """Runs a `kyra serve` process keeps waiting in memory (a paced rate limit, a retry
    backoff) while its workers run others; beyond it, it claims no new work."""
    lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    """A running execution whose lease is not renewed for this long is taken over."""
    heartbeat_seconds: float | None = Field(default=None, gt=0)
    """How often leases are renewed; defaults to a third of `lease_seconds`."""
    poll_seconds: float = Field(default=0.5, gt=0, le=60)
    """Idle workers look for due work at least this often."""
    scheduler_tick_seconds: float = Field(default=0.25, gt=0, le=60)
    """How often the scheduler fires due triggers and (scale-out) dispatches work."""
    sync_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often the scheduler re-reads trigger definitions of changed workflows."""
    lookahead_seconds: float = Field(default=5.0, ge=0, le=60)
    """Slots due within this horizon are queued ahead, runnable at their slot time, so a
    burst of triggers firing together is queued before its instant."""
    misfire_grace_seconds: float = Field(default=30.0, ge=0, le=86400)
    """A slot older than this when the scheduler sees it was missed (process down):
    the workflow's `catch_up` policy decides (skip, or run once)."""
    drain_seconds: float = Field(default=30.0, ge=0, le=3600)
    """On SIGTERM/SIGINT, how long running executions may take to finish before their
    leases are released for the next start to resume them."""
    max_claims: int = Field(default=10, ge=1, le=1000)
    """An execution claimed this often without finishing (it crashes its worker every
    time) is marked failed instead of being run again."""
    fire_batch: int = Field(default=1000, ge=1, le=100_000)
    """Most triggers fired (or executions dispatched) per transaction."""
    queue: str = Field(default="kyra", min_length=1, max_length=100)
    """Celery queue name (use one per environment sharing a broker)."""
    visibility_timeout_seconds: float = Field(default=3600.0, gt=0)
    """Redis: an unacknowledged task is redelivered after this long. Longer than the
    longest execution, or a healthy long run is delivered twice (harmless: the
    database lease refuses the second claim, but wasteful)."""
    redispatch_seconds: float = Field(default=60.0, gt=0)
    """Scale-out: a queued execution sent to the broker but not claimed after this long
    is sent again (a lost message never loses the execution)."""
    heal_backoff_seconds: float = Field(default=60.0, ge=0)
    """Base of the failure-handler retry backoff: base × 2^n (the spec's 60 s)."""
    heal_max_retries: int = Field(default=3, ge=0, le=20)
    """Retries of a failing failure handler (the spec's max_retries=3)."""
    heal_lock_seconds: float = Field(default=300.0, gt=0)
    """Lease of the per-workflow healing lock; a crashed healer frees it after this."""
    failure_handlers: list[str] = Field(default_factory=list)
    """Import paths `package.module:function` of run-failed handlers to load at start."""

    @model_validator(mode="after")
    def _heartbeat_inside_lease(self) -> RuntimeSettings:
        if self.heartbeat_seconds is not None and self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("runtime heartbeat_seconds must be shorter than lease_seconds")
        return self

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def heartbeat(self) -> float:
        return self.heartbeat_seconds or self.lease_seconds / 3

    @property
    def misfire_grace(self) -> timedelta:
        return timedelta(seconds=self.misfire_grace_seconds)
