"""Step trend state (table in `trend_tables.py`).

Written once per finished run by `kyra.predict.observer`: read the workflow's rows,
fold the run in, write them back. The warnings themselves are risks (`store/risks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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


_TABLE: Table = StepTrendRow.__table__  # type: ignore[assignment]
_COLUMNS = ("host", "state", "proposal_fix_id", "proposal_timeout")
_LOAD = select(
    _TABLE.c.step_name,
    _TABLE.c.tenant_id,
    *(_TABLE.c[name] for name in _COLUMNS),
).where(_TABLE.c.workflow_id == bindparam("b_workflow"))


def load_trends(store: Store, workflow_id: str) -> dict[str, StepTrend]:
    """The workflow's step trends by step name."""
    with store.reader.connect() as conn:
        rows = conn.execute(_LOAD, {"b_workflow": workflow_id}).all()
    return {
        step: StepTrend(workflow_id, step, tenant, host, dict(state or {}), fix, timeout)
        for step, tenant, host, state, fix, timeout in rows
    }


def _upsert(dialect: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    statement = insert(_TABLE)
    changed = {name: statement.excluded[name] for name in (*_COLUMNS, "updated_at")}
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.workflow_id, _TABLE.c.step_name], set_=changed
    )


_UPSERTS = {name: _upsert(name) for name in ("sqlite", "postgresql")}


def save_trends(store: Store, trends: list[StepTrend]) -> None:
    """Insert or rewrite these rows: one statement, one transaction (the hot path: once
    per run, so no ORM session and no read before the write)."""
    now = utcnow()
    rows = [
        {
            "workflow_id": t.workflow_id,
            "step_name": t.step_name,
            "tenant_id": t.tenant_id,
            "host": t.host,
            "state": t.state,
            "proposal_fix_id": t.proposal_fix_id,
            "proposal_timeout": t.proposal_timeout,
            "updated_at": now,
        }
        for t in trends
    ]
    with store.engine.begin() as conn:
        conn.execute(_UPSERTS[conn.dialect.name], rows)
