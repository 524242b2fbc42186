"""Current states for `/metrics`, each one aggregate query over an indexed column, so a
scrape costs what the live state holds (active executions, workflows, open circuits,
live processes), never what history holds."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from kyra.healing.lifecycle import FixStatus
from kyra.store.db import Store
from kyra.store.fleet_tables import FleetScopeRow
from kyra.store.healing_tables import FixRow
from kyra.store.runtime_tables import ScheduleRow, WorkerHeartbeatRow
from kyra.store.tables import ExecutionRow, Tenant, WorkflowRow

ACTIVE = ("queued", "waiting", "running")

PerTenant = dict[tuple[str, str], int]
"""(tenant id, label value) → count."""


def _scoped(query: Any, column: Any, tenant_ids: Collection[str] | None) -> Any:
    return query if tenant_ids is None else query.where(column.in_(list(tenant_ids)))


def _grouped(store: Store, query: Any) -> PerTenant:
    with store.reader.connect() as conn:
        return {(tenant, str(label)): int(n) for tenant, label, n in conn.execute(query)}


def tenant_names(store: Store, tenant_ids: Collection[str] | None = None) -> dict[str, str]:
    query = _scoped(select(Tenant.id, Tenant.name), Tenant.id, tenant_ids)
    with store.reader.connect() as conn:
        return {tid: name for tid, name in conn.execute(query)}


def active_executions(store: Store, tenant_ids: Collection[str] | None) -> PerTenant:
    """Executions queued, waiting or running, by tenant and status."""
    query = (
        select(ExecutionRow.tenant_id, ExecutionRow.status, func.count())
        .where(ExecutionRow.status.in_(ACTIVE))
        .group_by(ExecutionRow.tenant_id, ExecutionRow.status)
    )
    return _grouped(store, _scoped(query, ExecutionRow.tenant_id, tenant_ids))


def due_executions(store: Store, tenant_ids: Collection[str] | None, now: datetime) -> PerTenant:
    """Queued executions whose time has come and no worker has claimed: the backlog."""
    query = (
        select(ExecutionRow.tenant_id, ExecutionRow.status, func.count())
        .where(ExecutionRow.status == "queued", ExecutionRow.run_at <= now)
        .group_by(ExecutionRow.tenant_id, ExecutionRow.status)
    )
    return _grouped(store, _scoped(query, ExecutionRow.tenant_id, tenant_ids))


def workflow_states(store: Store, tenant_ids: Collection[str] | None) -> PerTenant:
    query = select(WorkflowRow.tenant_id, WorkflowRow.state, func.count()).group_by(
        WorkflowRow.tenant_id, WorkflowRow.state
    )
    return _grouped(store, _scoped(query, WorkflowRow.tenant_id, tenant_ids))


def pending_approvals(store: Store, tenant_ids: Collection[str] | None) -> PerTenant:
    query = (
        select(FixRow.tenant_id, FixRow.status, func.count())
        .where(FixRow.status == FixStatus.PROPOSED)
        .group_by(FixRow.tenant_id, FixRow.status)
    )
    return _grouped(store, _scoped(query, FixRow.tenant_id, tenant_ids))


def open_circuits(store: Store, tenant_ids: Collection[str] | None) -> PerTenant:
    query = (
        select(FleetScopeRow.tenant_id, FleetScopeRow.circuit, func.count())
        .where(FleetScopeRow.circuit.in_(("open", "half_open")))
        .group_by(FleetScopeRow.tenant_id, FleetScopeRow.circuit)
    )
    return _grouped(store, _scoped(query, FleetScopeRow.tenant_id, tenant_ids))


def scheduler_lag(store: Store, now: datetime) -> float:
    """Seconds the most overdue trigger is late (0 when none is): a scheduler that
    stopped, or cannot keep up, shows here first."""
    with store.reader.connect() as conn:
        oldest = conn.scalar(select(func.min(ScheduleRow.next_fire_at)))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, float((now - oldest).total_seconds()))


def live_workers(store: Store, now: datetime, grace: timedelta) -> dict[str, int]:
    """Runtime processes (by kind) that beat within `grace` and did not stop."""
    query = (
        select(WorkerHeartbeatRow.kind, func.count())
        .where(WorkerHeartbeatRow.last_seen >= now - grace, WorkerHeartbeatRow.stopped_at.is_(None))
        .group_by(WorkerHeartbeatRow.kind)
    )
    with store.reader.connect() as conn:
        return {kind: int(n) for kind, n in conn.execute(query)}
