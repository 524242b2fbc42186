"""Runtime process heartbeats and the per-workflow healing lock (migration 0002)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import aliased

from kyra.store.db import Store
from kyra.store.healing_tables import FixRow
from kyra.store.runtime_tables import HealingLockRow, WorkerHeartbeatRow
from kyra.store.schedules import insert_ignore
from kyra.store.tables import ExecutionRow, WorkflowRow

# -- worker heartbeats -------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerBeat:
    id: str
    kind: str
    hostname: str
    pid: int
    concurrency: int
    running: int
    processed: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None = None


def beat(store: Store, worker: WorkerBeat) -> None:
    """Record that a runtime process is alive (insert on its first beat)."""
    values = {
        "kind": worker.kind,
        "hostname": worker.hostname,
        "pid": worker.pid,
        "concurrency": worker.concurrency,
        "running": worker.running,
        "processed": worker.processed,
        "last_seen": worker.last_seen,
        "stopped_at": worker.stopped_at,
    }
    with store.engine.begin() as conn:
        result = conn.execute(
            update(WorkerHeartbeatRow).where(WorkerHeartbeatRow.id == worker.id).values(**values)
        )
        if result.rowcount == 0:
            conn.execute(
                insert(WorkerHeartbeatRow).values(
                    id=worker.id, started_at=worker.started_at, **values
                )
            )


def workers(store: Store, since: datetime) -> list[WorkerBeat]:
    """Processes seen since `since` (stopped ones included, newest first)."""
    with store.reader.connect() as conn:
        rows = conn.execute(
            select(WorkerHeartbeatRow)
            .where(WorkerHeartbeatRow.last_seen >= since)
            .order_by(WorkerHeartbeatRow.last_seen.desc())
        ).all()
    return [
        WorkerBeat(
            r.id,
            r.kind,
            r.hostname,
            r.pid,
            r.concurrency,
            r.running,
            r.processed,
            r.started_at,
            r.last_seen,
            r.stopped_at,
        )
        for r in rows
    ]


# -- healing lock ------------------------------------------------------------------------


def acquire_heal_lock(
    store: Store,
    workflow_id: str,
    owner: str,
    *,
    execution_id: str | None,
    now: datetime,
    until: datetime,
) -> bool:
    """Take the workflow's healing lock (free, expired, or already ours)."""
    with store.engine.begin() as conn:
        inserted = conn.execute(
            insert_ignore(conn, HealingLockRow)
            .values(
                workflow_id=workflow_id,
                owner=owner,
                execution_id=execution_id,
                acquired_at=now,
                lease_until=until,
            )
            .returning(HealingLockRow.workflow_id)
        ).first()
        if inserted is not None:
            return True
        taken = conn.execute(
            update(HealingLockRow)
            .where(
                HealingLockRow.workflow_id == workflow_id,
                (HealingLockRow.lease_until < now) | (HealingLockRow.owner == owner),
            )
            .values(owner=owner, execution_id=execution_id, acquired_at=now, lease_until=until)
        ).rowcount
        return bool(taken)


def release_heal_lock(store: Store, workflow_id: str, owner: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            delete(HealingLockRow).where(
                HealingLockRow.workflow_id == workflow_id, HealingLockRow.owner == owner
            )
        )


def unhealed_failures(store: Store, now: datetime) -> list[tuple[str, str, str]]:
    """(workflow id, state, failed execution id) of workflows left `failed` or `fixing`
    with nobody healing them: their latest execution failed, no fix answers it, and no
    live healing lock is held. What a process killed mid-healing (or with healing
    retries still pending in memory) leaves behind."""
    other = aliased(ExecutionRow)
    latest = (
        select(func.max(other.created_at))
        .where(other.workflow_id == WorkflowRow.id)
        .scalar_subquery()
    )
    held = select(HealingLockRow.workflow_id).where(HealingLockRow.lease_until >= now)
    answered = select(FixRow.id).where(FixRow.execution_id == ExecutionRow.id).exists()
    query = (
        select(WorkflowRow.id, WorkflowRow.state, ExecutionRow.id)
        .join(ExecutionRow, ExecutionRow.workflow_id == WorkflowRow.id)
        .where(
            WorkflowRow.state.in_(("failed", "fixing")),
            WorkflowRow.id.not_in(held),
            ExecutionRow.created_at == latest,
            ExecutionRow.status == "failed",
            ~answered,
        )
    )
    with store.reader.connect() as conn:
        return [(wid, state, eid) for wid, state, eid in conn.execute(query)]
