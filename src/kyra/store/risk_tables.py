"""Workflows at risk (migration 0015): one row per (tenant, workflow, kind, subject).

A risk is a warning before anything failed: a credential about to expire, step latency
heading for its timeout, a rising error rate. The row keeps its last episode: raised at
`since`, refreshed at `updated_at`, cleared at `cleared_at` (None while active); raising
it again after a clear starts a new episode (a new `since`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base
from kyra.store.types import JSONType, UTCDateTime


class RiskRow(Base):
    __tablename__ = "risks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "workflow_id", "kind", "subject"),
        Index("ix_risks_tenant_active", "tenant_id", "cleared_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    """credential_expiry, latency, error_rate, ... (`kyra.predict.risk`)."""
    subject: Mapped[str] = mapped_column(String(255), default="")
    """What in the workflow is at risk: a secret's name, a host, a step; "" for the whole."""
    reason_key: Mapped[str] = mapped_column(String(100))
    """A key of `kyra.predict.reasons.REASONS`: the reason is rendered when read, in the
    reader's language."""
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)
