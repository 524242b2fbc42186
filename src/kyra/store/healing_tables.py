"""Tables of the healing loop (migration 0003): fixes, the audit trail, kill switches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base, new_id
from kyra.store.types import utcnow


class FixRow(Base):
    """One fix's life: proposed → approved/rejected, or applied → verified/failed/rolled
    back, or blocked (with the limit that blocked it)."""

    __tablename__ = "fixes"
    __table_args__ = (
        Index("ix_fixes_workflow_created", "workflow_id", "created_at"),
        Index("ix_fixes_tenant_created", "tenant_id", "created_at"),
        Index("ix_fixes_rerun_execution", "rerun_execution_id"),
        Index("ix_fixes_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    execution_id: Mapped[str | None] = mapped_column(String(36), default=None)
    """The failed execution this fix answers."""
    step_name: Mapped[str | None] = mapped_column(String(64), default=None)
    error_class: Mapped[str] = mapped_column(String(40))
    safety: Mapped[str] = mapped_column(String(10))
    confidence: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[str] = mapped_column(String(10), default="rules")
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    diagnosis: Mapped[dict[str, Any]] = mapped_column(default=dict)
    patch: Mapped[dict[str, Any]] = mapped_column(default=dict)
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    from_version: Mapped[int | None] = mapped_column(Integer, default=None)
    to_version: Mapped[int | None] = mapped_column(Integer, default=None)
    rerun_execution_id: Mapped[str | None] = mapped_column(String(36), default=None)
    rerun_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(20), default="none")
    """none | pending (re-run scheduled) | succeeded | failed."""
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    settled: Mapped[bool] = mapped_column(default=False)
    """The post-fix watch window ended (kept, or rolled back); no more rollback checks."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditRow(Base):
    """Who (kyra or a user) did what, when, to which workflow, with which diff and cost."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_tenant_created", "tenant_id", "created_at"),
        Index("ix_audit_workflow_created", "workflow_id", "created_at"),
        Index("ux_audit_tenant_seq", "tenant_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Internal only: a global counter would tell a tenant how busy the others are."""
    seq: Mapped[int | None] = mapped_column(Integer, default=None)
    """The id a tenant sees: 1, 2, 3... within the tenant (global records: their own)."""
    tenant_id: Mapped[str | None] = mapped_column(String(36), default=None)
    workflow_id: Mapped[str | None] = mapped_column(String(36), default=None)
    fix_id: Mapped[str | None] = mapped_column(String(36), default=None)
    execution_id: Mapped[str | None] = mapped_column(String(36), default=None)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KillSwitchRow(Base):
    """`scope` is "global" or a tenant id; an enabled switch stops every automatic change."""

    __tablename__ = "kill_switches"

    scope: Mapped[str] = mapped_column(String(36), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(100), default="user")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
