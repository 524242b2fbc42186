"""Read-only aggregates for the Health Center and `/metrics`, one tenant at a time.

Each function is one query; the figures themselves (MTTR, ROI...) are computed from
these rows in `kyra.api.figures`, where they can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from kyra.healing import lifecycle
from kyra.healing.lifecycle import AuditKind, FixStatus
from kyra.store.db import Store
from kyra.store.healing_tables import AuditRow, FixRow
from kyra.store.risk_tables import RiskRow
from kyra.store.tables import ExecutionRow, WorkflowRow

CHANGED = (*sorted(lifecycle.CHANGED), FixStatus.FAILED)
"""Fix statuses that changed a config (what counts as an attempted repair)."""


@dataclass(frozen=True)
class Repair:
    """One attempted repair and the times that measure it."""

    fix_id: str
    workflow_name: str
    error_class: str
    safety: str
    status: str
    outcome: str
    created_at: datetime
    verified_at: datetime | None
    failed_at: datetime | None
    """When the execution the fix answers finished (failed)."""
    cost: float


def repairs(store: Store, tenant_id: str, since: datetime | None = None) -> list[Repair]:
    query = (
        select(
            FixRow.id,
            WorkflowRow.name,
            FixRow.error_class,
            FixRow.safety,
            FixRow.status,
            FixRow.outcome,
            FixRow.created_at,
            FixRow.verified_at,
            ExecutionRow.finished_at,
            FixRow.cost,
        )
        .join(WorkflowRow, WorkflowRow.id == FixRow.workflow_id)
        .outerjoin(ExecutionRow, ExecutionRow.id == FixRow.execution_id)
        .where(FixRow.tenant_id == tenant_id, FixRow.status.in_(CHANGED))
        .order_by(FixRow.created_at)
    )
    if since is not None:
        query = query.where(FixRow.created_at >= since)
    with store.session() as session:
        return [Repair(*tuple(row)) for row in session.execute(query).all()]


def execution_counts(store: Store, tenant_id: str) -> dict[str, int]:
    with store.session() as session:
        rows = session.execute(
            select(ExecutionRow.status, func.count())
            .where(ExecutionRow.tenant_id == tenant_id)
            .group_by(ExecutionRow.status)
        ).all()
    return {status: int(n) for status, n in rows}


def failure_times(store: Store, tenant_id: str, since: datetime) -> list[datetime]:
    """When each failed execution since `since` finished (the chart's red series)."""
    with store.session() as session:
        return [
            at
            for at in session.scalars(
                select(ExecutionRow.finished_at).where(
                    ExecutionRow.tenant_id == tenant_id,
                    ExecutionRow.status == "failed",
                    ExecutionRow.finished_at >= since,
                )
            )
            if at is not None
        ]


def fix_counts(store: Store, tenant_id: str) -> list[tuple[str, str, str, int]]:
    """(error_class, status, outcome, count) over every fix of the tenant."""
    with store.session() as session:
        rows = session.execute(
            select(FixRow.error_class, FixRow.status, FixRow.outcome, func.count())
            .where(FixRow.tenant_id == tenant_id)
            .group_by(FixRow.error_class, FixRow.status, FixRow.outcome)
        ).all()
    return [(c, s, o, int(n)) for c, s, o, n in rows]


@dataclass(frozen=True)
class DiagnosisRecord:
    tier: str
    latency_ms: float
    tokens: int
    cost: float


def diagnoses(store: Store, tenant_id: str) -> list[DiagnosisRecord]:
    """Every diagnosis the tenant paid for (audit records of kind `diagnosis`)."""
    with store.session() as session:
        rows = session.execute(
            select(AuditRow.details, AuditRow.cost).where(
                AuditRow.tenant_id == tenant_id, AuditRow.kind == AuditKind.DIAGNOSIS
            )
        ).all()
    return [_diagnosis(details or {}, cost) for details, cost in rows]


def _diagnosis(details: dict[str, Any], cost: float) -> DiagnosisRecord:
    def number(key: str) -> float:
        value = details.get(key)
        return float(value) if isinstance(value, int | float) else 0.0

    return DiagnosisRecord(
        tier=str(details.get("tier") or "rules"),
        latency_ms=number("latency_ms"),
        tokens=int(number("tokens")),
        cost=float(cost or 0.0),
    )


def activity_stamp(store: Store, tenant_id: str) -> str:
    """Changes whenever something the dashboard shows changes (audit, state, runs,
    risks raised, refreshed or cleared)."""
    with store.session() as session:
        audit = session.scalar(
            select(func.max(AuditRow.seq)).where(AuditRow.tenant_id == tenant_id)
        )
        updated = session.scalar(
            select(func.max(WorkflowRow.updated_at)).where(WorkflowRow.tenant_id == tenant_id)
        )
        runs, finished = session.execute(
            select(func.count(), func.max(ExecutionRow.finished_at)).where(
                ExecutionRow.tenant_id == tenant_id
            )
        ).one()
        risks = session.scalar(
            select(func.max(RiskRow.updated_at)).where(RiskRow.tenant_id == tenant_id)
        )
    return f"{audit or 0}-{updated or ''}-{runs or 0}-{finished or ''}-{risks or ''}"
