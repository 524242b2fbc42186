"""Fleet-wide upstream state (migration 0011): what each tenant learned about each
rate limit and each circuit, one row per (tenant, host, scope).

A scope is a route family of the host (`/v1/messages/*`) or the provider's own name for
its limiter (`bucket:core`). The rows are a shared picture, not the hot path: each
process paces and breaks in memory and writes here when something a person (or another
process) should see changes. Times are epoch seconds.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base


class FleetScopeRow(Base):
    __tablename__ = "fleet_scopes"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    rate: Mapped[float | None] = mapped_column(Float, default=None)
    """Requests per second the tenant paces itself to (None: not paced)."""
    source: Mapped[str] = mapped_column(String(100), default="")
    """What the pacing was learned from: 429 answers, a header family, a fix."""
    reason: Mapped[str] = mapped_column(String(300), default="")
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
    """No request before this time (a long Retry-After, a spent quota)."""
    block_reason: Mapped[str] = mapped_column(String(300), default="")
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    circuit: Mapped[str] = mapped_column(String(10), default="closed")
    circuit_retry_at: Mapped[float] = mapped_column(Float, default=0.0)
    circuit_reason: Mapped[str] = mapped_column(String(300), default="")
    openings: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)
