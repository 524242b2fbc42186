"""The durable execution queue: claims, leases, reclaims and dispatch marks on the
`executions` table. Every runtime guarantee about executions rests on a statement here:

* a claim is `SELECT ... FOR UPDATE SKIP LOCKED` then `UPDATE ... RETURNING` in one
  transaction (on SQLite the engine's `BEGIN IMMEDIATE` serialises writers), so two workers never
  hold the same execution;
* a lease that its owner stops renewing expires, and the execution goes back to
  `queued` with its recorded steps kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from kyra.store.db import Store
from kyra.store.tables import ExecutionRow, WorkflowRow

RUNNABLE = ("queued", "waiting")
DISPATCHED = "dispatched"
"""`lease_owner` of a queued execution sent to the broker and not yet claimed."""


# -- executions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """An execution this process now holds under a lease."""

    id: str
    workflow_id: str
    claims: int
    """Times claimed, this one included: above 1 it was interrupted or redelivered."""


# Built once: the claim runs once per execution, and building these per call cost more
# than executing them.
_DUE = {
    status: select(ExecutionRow.id)
    .where(ExecutionRow.status == status, ExecutionRow.run_at <= bindparam("b_now"))
    .order_by(ExecutionRow.run_at)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True)
    for status in RUNNABLE
}


def claim_due(
    store: Store, owner: str, now: datetime, lease_until: datetime, limit: int = 1
) -> list[Claimed]:
    """Take up to `limit` due executions (queued first, then waiting re-runs, oldest
    first) for `owner`, in one transaction."""
    with store.engine.begin() as conn:
        ids: list[str] = []
        for status in RUNNABLE:  # one ordered index scan per status, no sort of the queue
            ids += conn.scalars(_DUE[status], {"b_now": now, "b_limit": limit - len(ids)}).all()
            if len(ids) >= limit:
                break
        if not ids:
            return []
        rows = conn.execute(
            _TAKE_DUE, {**_take_params(owner, now, lease_until), "b_ids": ids}
        ).all()
    return [Claimed(*row) for row in rows]


def claim(
    store: Store, execution_id: str, owner: str, now: datetime, lease_until: datetime
) -> Claimed | None:
    """Take one named execution (a Celery delivery) if it is runnable: queued, waiting,
    or running under an expired lease. None when it is finished or held by a live lease."""
    with store.engine.begin() as conn:
        params = {**_take_params(owner, now, lease_until), "b_id": execution_id}
        row = conn.execute(_TAKE_ONE, params).first()
    return Claimed(*row) if row else None


def _take(condition: Any) -> Any:
    """Claiming also starts the execution: status, start time and the workflow's current
    config version in the same statement (the executor then needs no write to begin)."""
    current_config = (
        select(WorkflowRow.config_version)
        .where(WorkflowRow.id == ExecutionRow.workflow_id)
        .scalar_subquery()
    )
    return (
        update(ExecutionRow)
        .where(condition)
        .values(
            status="running",
            lease_owner=bindparam("b_owner"),
            lease_until=bindparam("b_until"),
            claims=ExecutionRow.claims + 1,
            started_at=bindparam("b_now"),
            config_version=current_config,
        )
        .returning(ExecutionRow.id, ExecutionRow.workflow_id, ExecutionRow.claims)
    )


def _take_params(owner: str, now: datetime, lease_until: datetime) -> dict[str, Any]:
    return {"b_owner": owner, "b_until": lease_until, "b_now": now}


_TAKE_DUE = _take(
    ExecutionRow.id.in_(bindparam("b_ids", expanding=True)) & ExecutionRow.status.in_(RUNNABLE)
)
_TAKE_ONE = _take(
    (ExecutionRow.id == bindparam("b_id"))
    & (
        ExecutionRow.status.in_(RUNNABLE)
        | ((ExecutionRow.status == "running") & (ExecutionRow.lease_until < bindparam("b_now")))
    )
)


def renew_leases(store: Store, owner: str, until: datetime) -> int:
    """Extend every lease `owner` holds (one statement per heartbeat, not per run)."""
    with store.engine.begin() as conn:
        result = conn.execute(
            update(ExecutionRow)
            .where(ExecutionRow.lease_owner == owner, ExecutionRow.status == "running")
            .values(lease_until=until)
        )
        return int(result.rowcount)


def release_leases(
    store: Store,
    owner: str,
    execution_ids: Sequence[str] | None = None,
    *,
    run_at: datetime | None = None,
) -> int:
    """Hand running executions back to the queue (graceful stop past the drain time, or
    an unexpected error, then not before `run_at`); the next claim resumes them after
    their recorded steps."""
    condition = (ExecutionRow.lease_owner == owner) & (ExecutionRow.status == "running")
    if execution_ids is not None:
        condition = condition & ExecutionRow.id.in_(list(execution_ids))
    with store.engine.begin() as conn:
        result = conn.execute(
            update(ExecutionRow)
            .where(condition)
            .values(
                status="queued",
                lease_owner=None,
                lease_until=None,
                **({"run_at": run_at} if run_at is not None else {}),
            )
        )
        return int(result.rowcount)


def reclaim_expired(store: Store, now: datetime) -> list[str]:
    """Running executions whose owner stopped renewing (killed, hung, cut off) go back to
    `queued`; their recorded steps are kept and not repeated."""
    with store.engine.begin() as conn:
        ids = list(
            conn.scalars(
                select(ExecutionRow.id)
                .where(ExecutionRow.status == "running", ExecutionRow.lease_until < now)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            conn.execute(
                update(ExecutionRow)
                .where(
                    ExecutionRow.id.in_(ids),
                    ExecutionRow.status == "running",
                    ExecutionRow.lease_until < now,
                )
                .values(status="queued", lease_owner=None, lease_until=None)
            )
        return ids


def mark_dispatched(store: Store, now: datetime, resend_at: datetime, limit: int) -> list[str]:
    """Due executions not sent to the broker (or sent and unclaimed until `now`): mark
    them sent until `resend_at` and return their ids for the caller to enqueue."""
    with store.engine.begin() as conn:
        ids = list(
            conn.scalars(
                select(ExecutionRow.id)
                .where(
                    ExecutionRow.status.in_(RUNNABLE),
                    ExecutionRow.run_at <= now,
                    (ExecutionRow.lease_until.is_(None)) | (ExecutionRow.lease_until < now),
                )
                .order_by(ExecutionRow.run_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            conn.execute(
                update(ExecutionRow)
                .where(ExecutionRow.id.in_(ids))
                .values(lease_owner=DISPATCHED, lease_until=resend_at)
            )
        return ids


def unmark_dispatched(store: Store, execution_ids: Sequence[str]) -> None:
    """The broker refused the messages: let the next tick send them again."""
    with store.engine.begin() as conn:
        conn.execute(
            update(ExecutionRow)
            .where(
                ExecutionRow.id.in_(list(execution_ids)),
                ExecutionRow.status.in_(RUNNABLE),
                ExecutionRow.lease_owner == DISPATCHED,
            )
            .values(lease_owner=None, lease_until=None)
        )


def execution_status(store: Store, execution_id: str) -> tuple[str, str | None] | None:
    """(status, lease_owner) of an execution, or None if it does not exist."""
    with store.reader.connect() as conn:
        row = conn.execute(
            select(ExecutionRow.status, ExecutionRow.lease_owner).where(
                ExecutionRow.id == execution_id
            )
        ).first()
    return (row[0], row[1]) if row else None


# -- status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedExecution:
    id: str
    workflow_name: str
    status: str
    trigger: str
    run_at: datetime
    lease_owner: str | None
    lease_until: datetime | None
    claims: int


def count_by_status(store: Store, statuses: Sequence[str] | None = None) -> dict[str, int]:
    """Number of executions per status (all statuses, or the given ones)."""
    query = select(ExecutionRow.status, func.count()).group_by(ExecutionRow.status)
    if statuses is not None:
        query = query.where(ExecutionRow.status.in_(list(statuses)))
    with store.reader.connect() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


def active_executions(store: Store, statuses: Sequence[str], limit: int) -> list[QueuedExecution]:
    """Running, queued or waiting executions, soonest first."""
    with store.reader.connect() as conn:
        rows = conn.execute(
            select(
                ExecutionRow.id,
                WorkflowRow.name,
                ExecutionRow.status,
                ExecutionRow.trigger,
                ExecutionRow.run_at,
                ExecutionRow.lease_owner,
                ExecutionRow.lease_until,
                ExecutionRow.claims,
            )
            .join(WorkflowRow, WorkflowRow.id == ExecutionRow.workflow_id)
            .where(ExecutionRow.status.in_(list(statuses)))
            .order_by(ExecutionRow.run_at)
            .limit(limit)
        ).all()
    return [QueuedExecution(*row) for row in rows]
