"""Monotonic metric counters (migration 0008), kept on write.

Counting events where they are written (an execution finishes, a fix changes status, a
diagnosis is recorded) keeps `/metrics` cheap and correct: a scrape reads one row per
series instead of the tenant's whole history, and a counter never goes down, not even
when retention prunes the rows it counted.
"""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base


class MetricCountRow(Base):
    """One counter series of one tenant: `name` with its `labels` (canonical JSON)."""

    __tablename__ = "metric_counts"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    labels: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)
