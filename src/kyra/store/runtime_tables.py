"""Tables of the runtime: trigger schedules, fired-trigger records, worker heartbeats and
the per-workflow healing lock (migration 0002). The execution queue itself is the
`executions` table (status, run_at, lease_owner, lease_until, claims)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base
from kyra.store.types import utcnow


class ScheduleRow(Base):
    """When a cron/interval workflow fires next; advanced by compare-and-set so two
    schedulers never fire the same slot."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_next_fire_at", "next_fire_at"),)

    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(36))
    definition_version: Mapped[int] = mapped_column(Integer)
    """The workflow definition this schedule was computed from (resync when it moves)."""
    trigger: Mapped[str] = mapped_column(String(300))
    """The trigger as JSON (kind, cron or interval, timezone, catch_up)."""
    next_fire_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FiredTriggerRow(Base):
    """One fired slot; the unique key makes a second firing of a slot impossible."""

    __tablename__ = "fired_triggers"
    __table_args__ = (UniqueConstraint("workflow_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime] = mapped_column()
    execution_id: Mapped[str] = mapped_column(String(36))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    fired_by: Mapped[str] = mapped_column(String(150), default="")


class WorkerHeartbeatRow(Base):
    """A live runtime process (embedded worker, Celery worker, scheduler) and its health."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(150), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer, default=0)
    running: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)


class HealingLockRow(Base):
    """At most one healer per workflow (one `fixing` at a time), with a lease so a
    crashed healer does not block the workflow forever."""

    __tablename__ = "healing_locks"

    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(150))
    execution_id: Mapped[str | None] = mapped_column(String(36), default=None)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime] = mapped_column()
