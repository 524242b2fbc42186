"""Fleet-wide per-host state (migration 0007): learned pacing and circuit breakers.

Times are epoch seconds (floats) so that "next slot = max(next, now) + pace" is plain
arithmetic in one UPDATE on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base


class HostLimitRow(Base):
    """A tenant's learned pacing for one host, shared by all its workflows and processes."""

    __tablename__ = "host_limits"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pace_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    """Minimum spacing between two requests of the tenant to this host."""
    next_allowed_at: Mapped[float] = mapped_column(Float, default=0.0)
    """The earliest time (epoch s) the next request may start."""
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    """429s seen from this host (what the pacing was learned from)."""
    reason: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)


class CircuitRow(Base):
    """closed → open (burst of 5xx/connection failures) → half_open (one probe) → closed."""

    __tablename__ = "host_circuits"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[float] = mapped_column(Float, default=0.0)
    opened_at: Mapped[float] = mapped_column(Float, default=0.0)
    retry_at: Mapped[float] = mapped_column(Float, default=0.0)
    """When the next probe may go (open → half_open)."""
    probe_until: Mapped[float] = mapped_column(Float, default=0.0)
    """A probe is in flight until then; nobody else may send meanwhile."""
    openings: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)
