"""Step trend state (table in `trend_tables.py`).

Written once per finished run by `kyra.predict.observer`: read the workflow's rows,
fold the run in, write them back. The warnings themselves are risks (`store/risks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from kyra.store.db import Store
from kyra.store.trend_tables import StepTrendRow
from kyra.store.types import utcnow


@dataclass
class StepTrend:
    """One step's stored trend state."""

    workflow_id: str
    step_name: str
    tenant_id: str
    host: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    proposal_fix_id: str | None = None
    proposal_timeout: float | None = None


def load_trends(store: Store, workflow_id: str) -> dict[str, StepTrend]:
    """The workflow's step trends by step name."""
    with store.session() as session:
        rows = session.scalars(select(StepTrendRow).where(StepTrendRow.workflow_id == workflow_id))
        return {
            row.step_name: StepTrend(
                row.workflow_id,
                row.step_name,
                row.tenant_id,
                row.host,
                dict(row.state),
                row.proposal_fix_id,
                row.proposal_timeout,
            )
            for row in rows
        }


def save_trends(store: Store, trends: list[StepTrend]) -> None:
    """Insert or rewrite these rows in one transaction."""
    now = utcnow()
    with store.session.begin() as session:
        for trend in trends:
            session.merge(
                StepTrendRow(
                    workflow_id=trend.workflow_id,
                    step_name=trend.step_name,
                    tenant_id=trend.tenant_id,
                    host=trend.host,
                    state=trend.state,
                    proposal_fix_id=trend.proposal_fix_id,
                    proposal_timeout=trend.proposal_timeout,
                    updated_at=now,
                )
            )
