"""Incidents across workflows: the SQL (`kyra.incidents` decides when and announces).

A failure on a host is recorded; when failures of at least `min_workflows` different
workflows on that host fall within `window`, they become one incident, and later
failures on the host join it while it is open. A success on the host resolves it: the
conditional UPDATE lets exactly one caller win, so exactly one caller announces it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kyra.errors import NotFoundError
from kyra.store.db import Store
from kyra.store.incident_tables import HostFailureRow, HostIncidentRow
from kyra.store.paging import Key, after
from kyra.store.tables import WorkflowRow
from kyra.store.trend_tables import StepTrendRow

MIN_PREFIX = 6


@dataclass(frozen=True)
class HostFailure:
    workflow_id: str
    workflow_name: str
    execution_id: str
    step_name: str
    error: str
    at: datetime


@dataclass(frozen=True)
class HostIncident:
    id: str
    tenant_id: str
    host: str
    status: str
    opened_at: datetime
    last_failure_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    workflows: list[str] = field(default_factory=list)
    """Names of the workflows that failed in it, first failure first."""
    failure_count: int = 0
    failures: list[HostFailure] = field(default_factory=list)
    """Filled by `get_incident` only."""


def _incident(row: HostIncidentRow, workflows: list[str], count: int) -> HostIncident:
    return HostIncident(
        id=row.id,
        tenant_id=row.tenant_id,
        host=row.host,
        status=row.status,
        opened_at=row.opened_at,
        last_failure_at=row.last_failure_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        workflows=workflows,
        failure_count=count,
    )


def fail_on_host(
    store: Store,
    *,
    tenant_id: str,
    host: str,
    workflow_id: str,
    execution_id: str,
    step_name: str,
    error: str,
    now: datetime,
    window: timedelta,
    min_workflows: int,
) -> tuple[HostIncident | None, bool]:
    """Record one failure on `host`; the incident it belongs to (None: not one yet) and
    whether this call opened it."""
    with store.session.begin() as session:
        session.execute(
            HostFailureRow.__table__.delete().where(  # type: ignore[attr-defined]
                HostFailureRow.tenant_id == tenant_id,
                HostFailureRow.host == host,
                HostFailureRow.incident_id.is_(None),
                HostFailureRow.at < now - window,
            )
        )
        current = session.scalar(
            select(HostIncidentRow).where(
                HostIncidentRow.tenant_id == tenant_id,
                HostIncidentRow.host == host,
                HostIncidentRow.status == "open",
            )
        )
        session.add(
            HostFailureRow(
                tenant_id=tenant_id,
                host=host[:255],
                workflow_id=workflow_id,
                execution_id=execution_id,
                step_name=step_name[:64],
                error=error[:300],
                at=now,
                incident_id=current.id if current is not None else None,
            )
        )
        session.flush()
        opened = False
        if current is not None:
            current.last_failure_at = now
        else:
            current = _maybe_open(session, tenant_id, host, now, window, min_workflows)
            opened = current is not None
        if current is None:
            return None, False
        names, count = _members(session, [current.id]).get(current.id, ([], 0))
        return _incident(current, names, count), opened


def _maybe_open(
    session: Session,
    tenant_id: str,
    host: str,
    now: datetime,
    window: timedelta,
    min_workflows: int,
) -> HostIncidentRow | None:
    loose = (
        HostFailureRow.tenant_id == tenant_id,
        HostFailureRow.host == host,
        HostFailureRow.incident_id.is_(None),
        HostFailureRow.at >= now - window,
    )
    workflows, first = session.execute(
        select(
            func.count(func.distinct(HostFailureRow.workflow_id)), func.min(HostFailureRow.at)
        ).where(*loose)
    ).one()
    if workflows < min_workflows:
        return None
    row = HostIncidentRow(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        host=host[:255],
        status="open",
        opened_at=first,
        last_failure_at=now,
    )
    session.add(row)
    session.flush()
    session.execute(update(HostFailureRow).where(*loose).values(incident_id=row.id))
    return row


def open_hosts(store: Store, tenant_id: str) -> frozenset[str]:
    """The hosts with an open incident (a read, no write turn)."""
    with store.session() as session:
        return frozenset(
            session.scalars(
                select(HostIncidentRow.host).where(
                    HostIncidentRow.tenant_id == tenant_id, HostIncidentRow.status == "open"
                )
            ).all()
        )


def recover_hosts(
    store: Store, tenant_id: str, hosts: set[str], execution_id: str, now: datetime
) -> list[HostIncident]:
    """Resolve the open incidents on `hosts` (a run just succeeded there); the ones this
    call resolved."""
    if not hosts:
        return []
    resolved: list[HostIncident] = []
    with store.session.begin() as session:
        rows = session.scalars(
            select(HostIncidentRow).where(
                HostIncidentRow.tenant_id == tenant_id,
                HostIncidentRow.host.in_(sorted(hosts)),
                HostIncidentRow.status == "open",
            )
        ).all()
        for row in rows:
            won = session.execute(
                update(HostIncidentRow)
                .where(HostIncidentRow.id == row.id, HostIncidentRow.status == "open")
                .values(status="resolved", resolved_at=now, resolved_by=execution_id)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(row)
                resolved.append(row)
        members = _members(session, [r.id for r in resolved])
        return [_incident(r, *members.get(r.id, ([], 0))) for r in resolved]


def thread_key(incident_id: str) -> str:
    """The notification thread (`HealEvent.incident`) of an incident across workflows."""
    return f"host:{incident_id}"


def incident_of_execution(store: Store, execution_id: str) -> str | None:
    """The incident a failed execution joined, if any (notifications thread on it)."""
    with store.session() as session:
        return session.scalar(
            select(HostFailureRow.incident_id).where(
                HostFailureRow.execution_id == execution_id,
                HostFailureRow.incident_id.is_not(None),
            )
        )


def incident_key(incident: HostIncident) -> Key:
    return (incident.opened_at, incident.id)


def list_incidents(
    store: Store,
    tenant_id: str,
    *,
    status: str | None = None,
    limit: int = 50,
    after_key: Key | None = None,
) -> list[HostIncident]:
    """Newest first; `after_key` (from `incident_key`) starts after that incident."""
    query = select(HostIncidentRow).where(HostIncidentRow.tenant_id == tenant_id)
    if status is not None:
        query = query.where(HostIncidentRow.status == status)
    order = [(HostIncidentRow.opened_at, True), (HostIncidentRow.id, True)]
    query = after(query, order, after_key).limit(limit)
    with store.session() as session:
        rows = session.scalars(query).all()
        members = _members(session, [r.id for r in rows])
    return [_incident(r, *members.get(r.id, ([], 0))) for r in rows]


def get_incident(store: Store, tenant_id: str, incident_id: str) -> HostIncident:
    """An incident by id or unique prefix (at least 6 characters), with its failures."""
    if len(incident_id) < MIN_PREFIX:
        raise NotFoundError(f"give at least {MIN_PREFIX} characters of an incident id")
    with store.session() as session:
        rows = session.scalars(
            select(HostIncidentRow)
            .where(
                HostIncidentRow.tenant_id == tenant_id,
                HostIncidentRow.id.startswith(incident_id, autoescape=True),
            )
            .limit(2)
        ).all()
        if not rows:
            raise NotFoundError(f"no incident {incident_id!r}")
        if len(rows) > 1:
            raise NotFoundError(f"incident id prefix {incident_id!r} is ambiguous")
        failures = [
            HostFailure(f.workflow_id, name, f.execution_id, f.step_name, f.error, f.at)
            for f, name in session.execute(
                select(HostFailureRow, WorkflowRow.name)
                .join(WorkflowRow, WorkflowRow.id == HostFailureRow.workflow_id)
                .where(HostFailureRow.incident_id == rows[0].id)
                .order_by(HostFailureRow.at, HostFailureRow.id)
            ).all()
        ]
    names = list(dict.fromkeys(f.workflow_name for f in failures))
    incident = _incident(rows[0], names, len(failures))
    incident.failures.extend(failures)
    return incident


def workflows_calling(store: Store, tenant_id: str, host: str) -> dict[str, str]:
    """Workflow id → name of the tenant's workflows with a step seen calling `host` (the
    step trends know each step's host; a workflow that never ran is not known)."""
    with store.session() as session:
        rows = session.execute(
            select(WorkflowRow.id, WorkflowRow.name)
            .join(StepTrendRow, StepTrendRow.workflow_id == WorkflowRow.id)
            .where(StepTrendRow.tenant_id == tenant_id, StepTrendRow.host == host)
            .distinct()
        ).all()
    return {workflow_id: name for workflow_id, name in rows}


def _members(session: Session, ids: list[str]) -> dict[str, tuple[list[str], int]]:
    """Incident id → (workflow names in order of first failure, number of failures)."""
    if not ids:
        return {}
    found: dict[str, tuple[list[str], int]] = {}
    for incident_id, name, count in session.execute(
        select(HostFailureRow.incident_id, WorkflowRow.name, func.count())
        .join(WorkflowRow, WorkflowRow.id == HostFailureRow.workflow_id)
        .where(HostFailureRow.incident_id.in_(ids))
        .group_by(HostFailureRow.incident_id, WorkflowRow.name)
        .order_by(func.min(HostFailureRow.at), func.min(HostFailureRow.id))
    ).all():
        names, total = found.get(incident_id, ([], 0))
        found[incident_id] = ([*names, name], total + count)
    return found
