"""Retention: old executions and their steps are deleted; what a fix or the audit trail
points at is kept.

Every run writes an execution row and a row per step, so a busy install grows without
bound. `KYRA_RETENTION_DAYS` bounds it: a finished execution older than that goes, with
its steps, unless a fix (its failure or its verification re-run), an audit record or a
healing lock names it, or a newer or unfinished execution resumes from it (its outputs
are reused). Deletes run in small batches so a long prune never holds the write lock
for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select

from kyra.engine.states import TERMINAL_EXECUTION_STATUSES
from kyra.store.db import Store
from kyra.store.healing_tables import AuditRow, FixRow
from kyra.store.runtime_tables import HealingLockRow
from kyra.store.tables import ExecutionRow, StepRunRow
from kyra.store.types import utcnow

BATCH = 500
FINISHED = sorted(str(s) for s in TERMINAL_EXECUTION_STATUSES)


@dataclass(frozen=True)
class PruneResult:
    executions: int
    steps: int
    cutoff: datetime


def _prunable(cutoff: datetime) -> Select[Any]:
    """The ids of executions that nothing needs any more."""
    resumer = ExecutionRow.__table__.alias("resumer")
    needed = [
        select(FixRow.execution_id).where(FixRow.execution_id.is_not(None)),
        select(FixRow.rerun_execution_id).where(FixRow.rerun_execution_id.is_not(None)),
        select(AuditRow.execution_id).where(AuditRow.execution_id.is_not(None)),
        select(HealingLockRow.execution_id).where(HealingLockRow.execution_id.is_not(None)),
        select(resumer.c.resume_of).where(
            resumer.c.resume_of.is_not(None),
            or_(resumer.c.created_at >= cutoff, resumer.c.status.not_in(FINISHED)),
        ),
    ]
    query = select(ExecutionRow.id).where(
        ExecutionRow.status.in_(FINISHED),
        or_(
            ExecutionRow.finished_at < cutoff,
            and_(ExecutionRow.finished_at.is_(None), ExecutionRow.created_at < cutoff),
        ),
    )
    for subquery in needed:
        query = query.where(ExecutionRow.id.not_in(subquery))
    return query


def prune_executions(store: Store, days: float, *, now: datetime | None = None) -> PruneResult:
    """Delete finished executions (and steps) older than `days` that nothing needs."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    executions = steps = 0
    while True:
        with store.session.begin() as session:
            ids = list(session.scalars(_prunable(cutoff).limit(BATCH)))
            if not ids:
                break
            steps += session.execute(
                delete(StepRunRow).where(StepRunRow.execution_id.in_(ids))
            ).rowcount
            executions += session.execute(
                delete(ExecutionRow).where(ExecutionRow.id.in_(ids))
            ).rowcount
        if len(ids) < BATCH:
            break
    return PruneResult(executions, steps, cutoff)
