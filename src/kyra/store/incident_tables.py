"""Incidents across workflows (migration 0017): several workflows failing on one host
within a window are one incident, resolved when that host answers again.

`host_failures` keeps each failed run's host for the window (pruned as it goes);
`host_incidents` one row per incident. A failure joins an incident by `incident_id`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base
from kyra.store.types import UTCDateTime


class HostIncidentRow(Base):
    __tablename__ = "host_incidents"
    __table_args__ = (Index("ix_host_incidents_tenant_host", "tenant_id", "host", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))
    """The common cause: `host[:port]` of the failing steps (or the action without one)."""
    status: Mapped[str] = mapped_column(String(16))
    """open | resolved"""
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """The execution whose success on the host resolved the incident."""


class HostFailureRow(Base):
    __tablename__ = "host_failures"
    __table_args__ = (
        Index("ix_host_failures_tenant_host_at", "tenant_id", "host", "at"),
        Index("ix_host_failures_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    execution_id: Mapped[str] = mapped_column(String(36))
    step_name: Mapped[str] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(String(300), default="")
    """`HTTP 503 StatusError` (redacted, short): what the failure looked like."""
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("host_incidents.id", ondelete="CASCADE"), nullable=True
    )
