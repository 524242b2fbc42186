"""What `kyra status` shows: running, queued and waiting executions, the next scheduled
triggers, and the health of the runtime processes (from their heartbeats)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kyra.app import Kyra
from kyra.runtime.settings import RuntimeSettings
from kyra.store import queue, schedules, workers
from kyra.store.queue import QueuedExecution
from kyra.store.schedules import UpcomingFire
from kyra.store.workers import WorkerBeat


@dataclass(frozen=True)
class WorkerHealth:
    beat: WorkerBeat
    healthy: bool
    """Beating within a lease period and not stopped."""
    silent_for: float
    """Seconds since the last heartbeat."""


@dataclass(frozen=True)
class RuntimeStatus:
    at: datetime
    counts: dict[str, int]
    running: list[QueuedExecution]
    queued: list[QueuedExecution]
    upcoming: list[UpcomingFire]
    workers: list[WorkerHealth]

    @property
    def healthy(self) -> bool:
        """At least one live worker or embedded runtime."""
        return any(w.healthy and w.beat.kind in ("embedded", "celery") for w in self.workers)


def runtime_status(app: Kyra, settings: RuntimeSettings, *, limit: int = 10) -> RuntimeStatus:
    now = app.clock.now()
    grace = max(settings.lease_seconds, 3 * settings.heartbeat)
    beats = workers.workers(app.store, since=now - timedelta(hours=1))
    health = [
        WorkerHealth(
            beat=b,
            healthy=b.stopped_at is None and (now - b.last_seen).total_seconds() <= grace,
            silent_for=max(0.0, (now - b.last_seen).total_seconds()),
        )
        for b in beats
    ]
    return RuntimeStatus(
        at=now,
        counts=queue.count_by_status(app.store, ("queued", "waiting", "running")),
        running=queue.active_executions(app.store, ("running",), limit),
        queued=queue.active_executions(app.store, ("queued", "waiting"), limit),
        upcoming=schedules.upcoming_fires(app.store, limit),
        workers=health,
    )
