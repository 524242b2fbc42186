"""Workflows at risk: raise, refresh, clear and list (`kyra.predict.risk` is the public
face; this module only holds the SQL).

Raising is idempotent and safe across processes without a lock: an active row is
refreshed, a cleared row is reopened by a conditional UPDATE that only one writer can
win, and a missing row is inserted with ON CONFLICT DO NOTHING (a writer that loses the
race refreshes instead). The boolean each call returns says whether this call opened a
new episode, so exactly one caller announces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kyra.store.db import Store
from kyra.store.risk_tables import RiskRow
from kyra.store.tables import WorkflowRow


@dataclass(frozen=True)
class RiskRecord:
    id: int
    tenant_id: str
    workflow_id: str
    workflow_name: str
    kind: str
    subject: str
    reason_key: str
    reason_params: dict[str, Any]
    since: datetime
    updated_at: datetime
    cleared_at: datetime | None


def _key(tenant_id: str, workflow_id: str, kind: str, subject: str) -> ColumnElement[bool]:
    return and_(
        RiskRow.tenant_id == tenant_id,
        RiskRow.workflow_id == workflow_id,
        RiskRow.kind == kind,
        RiskRow.subject == subject,
    )


_REFRESH = (
    update(RiskRow)
    .where(
        RiskRow.tenant_id == bindparam("b_tenant"),
        RiskRow.workflow_id == bindparam("b_workflow"),
        RiskRow.kind == bindparam("b_kind"),
        RiskRow.subject == bindparam("b_subject"),
        RiskRow.cleared_at.is_(None),
    )
    .values(
        reason_key=bindparam("b_key"),
        reason_params=bindparam("b_params", type_=RiskRow.__table__.c.reason_params.type),
        updated_at=bindparam("b_now", type_=RiskRow.__table__.c.updated_at.type),
    )
)


def raise_risk(
    store: Store,
    *,
    tenant_id: str,
    workflow_id: str,
    kind: str,
    subject: str,
    reason_key: str,
    reason_params: dict[str, Any],
    now: datetime,
) -> bool:
    """Open or refresh the risk; True when this call opened a new episode."""
    key = _key(tenant_id, workflow_id, kind, subject)
    reason = {"reason_key": reason_key, "reason_params": reason_params, "updated_at": now}
    with store.engine.begin() as conn:
        # The common case, once per run while a step stays at risk: a prepared statement.
        refreshed = conn.execute(
            _REFRESH,
            {
                "b_tenant": tenant_id,
                "b_workflow": workflow_id,
                "b_kind": kind,
                "b_subject": subject,
                "b_key": reason_key,
                "b_params": reason_params,
                "b_now": now,
            },
        )
        if refreshed.rowcount:
            return False
        reopened = conn.execute(
            update(RiskRow)
            .where(key, RiskRow.cleared_at.is_not(None))
            .values(**reason, since=now, cleared_at=None)
        )
        if reopened.rowcount:
            return True
        insert = pg_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
        inserted = conn.execute(
            insert(RiskRow)
            .values(
                tenant_id=tenant_id,
                workflow_id=workflow_id,
                kind=kind,
                subject=subject,
                since=now,
                cleared_at=None,
                **reason,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "workflow_id", "kind", "subject"])
        )
        if inserted.rowcount:
            return True
        # Another writer inserted it between our UPDATEs and INSERT: theirs is the episode.
        conn.execute(update(RiskRow).where(key).values(**reason))
        return False


def clear_risk(
    store: Store,
    *,
    tenant_id: str,
    workflow_id: str,
    kind: str,
    subject: str | None,
    now: datetime,
) -> int:
    """Clear the active risk (every subject of `kind` when `subject` is None); returns
    how many were active."""
    condition = and_(
        RiskRow.tenant_id == tenant_id,
        RiskRow.workflow_id == workflow_id,
        RiskRow.kind == kind,
        RiskRow.cleared_at.is_(None),
    )
    if subject is not None:
        condition = and_(condition, RiskRow.subject == subject)
    with store.engine.begin() as conn:
        result = conn.execute(
            update(RiskRow).where(condition).values(cleared_at=now, updated_at=now)
        )
        return int(result.rowcount or 0)


def list_risks(
    store: Store,
    tenant_id: str,
    *,
    workflow_id: str | None = None,
    active: bool = True,
    limit: int = 500,
) -> list[RiskRecord]:
    """Risks of a tenant (or one workflow), oldest first; `active=False` lists the
    cleared ones too."""
    query = (
        select(RiskRow, WorkflowRow.name)
        .join(WorkflowRow, WorkflowRow.id == RiskRow.workflow_id)
        .where(RiskRow.tenant_id == tenant_id)
        .order_by(RiskRow.since, RiskRow.id)
        .limit(limit)
    )
    if workflow_id is not None:
        query = query.where(RiskRow.workflow_id == workflow_id)
    if active:
        query = query.where(RiskRow.cleared_at.is_(None))
    with store.session() as session:
        return [_record(row, name) for row, name in session.execute(query)]


def _record(row: RiskRow, workflow_name: str) -> RiskRecord:
    return RiskRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        workflow_id=row.workflow_id,
        workflow_name=workflow_name,
        kind=row.kind,
        subject=row.subject,
        reason_key=row.reason_key,
        reason_params=dict(row.reason_params or {}),
        since=row.since,
        updated_at=row.updated_at,
        cleared_at=row.cleared_at,
    )
