"""Trigger schedules and fired slots (tables from migration 0002).

A slot fires in the transaction that advances `schedules.next_fire_at`, with the due rows
locked (`FOR UPDATE SKIP LOCKED`; SQLite serialises writers) and `(workflow_id,
scheduled_for)` unique in `fired_triggers`: two schedulers never fire the same slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kyra.store.db import Store
from kyra.store.runtime_tables import FiredTriggerRow, ScheduleRow
from kyra.store.tables import ExecutionRow, WorkflowRow, new_id

SCHEDULED_KINDS = ("cron", "interval")


@dataclass(frozen=True)
class ScheduleSource:
    """A cron/interval workflow whose schedule row is missing or out of date."""

    workflow_id: str
    tenant_id: str
    definition_version: int
    trigger: dict[str, Any]


@dataclass(frozen=True)
class DueSchedule:
    workflow_id: str
    tenant_id: str
    state: str
    trigger: str
    next_fire_at: datetime


@dataclass(frozen=True)
class Fire:
    """What the scheduler decided for one due schedule: slots to fire, and the next slot."""

    slots: tuple[tuple[datetime, str], ...]
    """(scheduled_for, trigger label) pairs; usually one, none when skipped."""
    next_fire_at: datetime


@dataclass(frozen=True)
class Fired:
    workflow_id: str
    execution_id: str
    scheduled_for: datetime
    trigger: str


def workflows_change_mark(store: Store) -> tuple[int, Any]:
    """A cheap fingerprint of scheduled workflows; when it moves, sync schedules."""
    with store.reader.connect() as conn:
        count, latest = conn.execute(select(func.count(), func.max(WorkflowRow.updated_at))).one()
    return int(count), latest


def schedules_to_sync(store: Store) -> list[ScheduleSource]:
    """Cron/interval workflows without a schedule row, or with one from an older
    definition; also drops schedules of workflows that no longer have such a trigger."""
    with store.engine.begin() as conn:
        conn.execute(
            delete(ScheduleRow).where(
                ScheduleRow.workflow_id.in_(
                    select(WorkflowRow.id).where(WorkflowRow.trigger_kind.not_in(SCHEDULED_KINDS))
                )
            )
        )
        rows = conn.execute(
            select(
                WorkflowRow.id,
                WorkflowRow.tenant_id,
                WorkflowRow.definition_version,
                WorkflowRow.definition,
            )
            .outerjoin(ScheduleRow, ScheduleRow.workflow_id == WorkflowRow.id)
            .where(
                WorkflowRow.trigger_kind.in_(SCHEDULED_KINDS),
                (ScheduleRow.workflow_id.is_(None))
                | (ScheduleRow.definition_version != WorkflowRow.definition_version),
            )
        ).all()
    return [
        ScheduleSource(wid, tid, version, dict(definition.get("trigger") or {}))
        for wid, tid, version, definition in rows
    ]


def save_schedules(
    store: Store, rows: Sequence[tuple[ScheduleSource, str, datetime]], now: datetime
) -> None:
    """Insert (or update to a newer definition) schedules: (source, trigger JSON, next).
    Conditional on the definition version, so two schedulers syncing agree."""
    if not rows:
        return
    with store.engine.begin() as conn:
        values = [
            {
                "workflow_id": s.workflow_id,
                "tenant_id": s.tenant_id,
                "definition_version": s.definition_version,
                "trigger": trig,
                "next_fire_at": nxt,
                "updated_at": now,
            }
            for s, trig, nxt in rows
        ]
        conn.execute(insert_ignore(conn, ScheduleRow), values)
        for s, trig, nxt in rows:
            conn.execute(
                update(ScheduleRow)
                .where(
                    ScheduleRow.workflow_id == s.workflow_id,
                    ScheduleRow.definition_version < s.definition_version,
                )
                .values(definition_version=s.definition_version, trigger=trig, next_fire_at=nxt)
            )


def insert_ignore(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_ANY_DUE = (
    select(ScheduleRow.workflow_id)
    .where(ScheduleRow.next_fire_at <= bindparam("b_horizon"))
    .limit(1)
)


def fire_due(
    store: Store,
    now: datetime,
    decide: Callable[[DueSchedule], Fire],
    *,
    limit: int,
    fired_by: str,
    horizon: datetime | None = None,
) -> tuple[int, list[Fired]]:
    """Fire due schedules in one transaction: lock the due rows, let `decide` pick the
    slots, advance `next_fire_at`, and create one queued execution per slot, runnable
    at its slot. Schedules due up to `horizon` (default: now) are considered. Returns
    (due rows processed, slots fired)."""
    with store.reader.connect() as conn:  # most ticks find nothing: no write lock for that
        if conn.scalar(_ANY_DUE, {"b_horizon": horizon or now}) is None:
            return 0, []
    with store.engine.begin() as conn:
        due = conn.execute(
            select(
                ScheduleRow.workflow_id,
                ScheduleRow.tenant_id,
                WorkflowRow.state,
                ScheduleRow.trigger,
                ScheduleRow.next_fire_at,
            )
            .join(WorkflowRow, WorkflowRow.id == ScheduleRow.workflow_id)
            .where(ScheduleRow.next_fire_at <= (horizon or now))
            .order_by(ScheduleRow.next_fire_at)
            .limit(limit)
            .with_for_update(of=ScheduleRow, skip_locked=True)
        ).all()
        if not due:
            return 0, []
        advances: list[dict[str, Any]] = []
        fired: list[Fired] = []
        executions: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        for wid, tid, state, trig, nxt in due:
            decision = decide(DueSchedule(wid, tid, state, trig, nxt))
            advances.append({"wid": wid, "old": nxt, "new": decision.next_fire_at})
            for scheduled_for, label in decision.slots:
                eid = new_id()
                fired.append(Fired(wid, eid, scheduled_for, label))
                executions.append(_execution_values(eid, tid, wid, label, now, scheduled_for))
                records.append(
                    {
                        "workflow_id": wid,
                        "scheduled_for": scheduled_for,
                        "execution_id": eid,
                        "fired_at": now,
                        "fired_by": fired_by,
                    }
                )
        conn.execute(
            update(ScheduleRow)
            .where(
                ScheduleRow.workflow_id == bindparam("wid"),
                ScheduleRow.next_fire_at == bindparam("old"),
            )
            .values(next_fire_at=bindparam("new"), updated_at=now),
            advances,
        )
        if records:
            conn.execute(insert(FiredTriggerRow), records)
            conn.execute(insert(ExecutionRow), executions)
        return len(due), fired


def _execution_values(
    eid: str, tenant_id: str, workflow_id: str, trigger: str, now: datetime, run_at: datetime
) -> dict[str, Any]:
    return {
        "id": eid,
        "tenant_id": tenant_id,
        "workflow_id": workflow_id,
        "status": "queued",
        "trigger": trigger,
        "inputs": {},
        "start_step": 0,
        "run_at": run_at,
        "claims": 0,
        "created_at": now,
    }


@dataclass(frozen=True)
class UpcomingFire:
    workflow_id: str
    workflow_name: str
    next_fire_at: datetime
    trigger: str


def upcoming_fires(store: Store, limit: int) -> list[UpcomingFire]:
    """The next scheduled triggers, soonest first."""
    with store.reader.connect() as conn:
        rows = conn.execute(
            select(
                ScheduleRow.workflow_id,
                WorkflowRow.name,
                ScheduleRow.next_fire_at,
                ScheduleRow.trigger,
            )
            .join(WorkflowRow, WorkflowRow.id == ScheduleRow.workflow_id)
            .where(WorkflowRow.state != "inactive")
            .order_by(ScheduleRow.next_fire_at)
            .limit(limit)
        ).all()
    return [UpcomingFire(*row) for row in rows]


def fired_slots(store: Store, workflow_id: str | None = None) -> list[tuple[str, datetime, str]]:
    """(workflow_id, scheduled_for, execution_id) of fired slots, oldest first."""
    query = select(
        FiredTriggerRow.workflow_id, FiredTriggerRow.scheduled_for, FiredTriggerRow.execution_id
    ).order_by(FiredTriggerRow.scheduled_for)
    if workflow_id is not None:
        query = query.where(FiredTriggerRow.workflow_id == workflow_id)
    with store.reader.connect() as conn:
        return [(w, s, e) for w, s, e in conn.execute(query)]
