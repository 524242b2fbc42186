"""Step trends (migration 0016): the detector's bounded state per workflow step (see
`kyra.predict.trends`); the warnings it raises live in `risks` (`kyra.predict.risk`).

One row per (workflow, step), rewritten after each run: the state is a window of 20
latency ratios and a few numbers, so a run never reads the execution history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base
from kyra.store.types import utcnow


class StepTrendRow(Base):
    __tablename__ = "step_trends"

    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    step_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    proposal_fix_id: Mapped[str | None] = mapped_column(String(36), default=None)
    """The proactive fix proposed for this warning (one per warning, not one per run);
    "" when the gate refused it."""
    proposal_timeout: Mapped[float | None] = mapped_column(Float, default=None)
    """The timeout that fix proposes."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
