"""Fixes, audit records and kill switches: the healing loop's durable memory."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kyra.errors import NotFoundError
from kyra.store.db import Store
from kyra.store.healing_tables import AuditRow, FixRow, KillSwitchRow
from kyra.store.metric_counts import LATENCY_BUCKETS, REPAIR_BUCKETS, bump, observe
from kyra.store.paging import Key, after
from kyra.store.tables import ExecutionRow, WorkflowRow, new_id
from kyra.store.types import utcnow

GLOBAL_SCOPE = "global"


@dataclass(frozen=True)
class FixInfo:
    id: str
    tenant_id: str
    workflow_id: str
    workflow_name: str
    execution_id: str | None
    step_name: str | None
    error_class: str
    safety: str
    confidence: int
    tier: str
    status: str
    reason: str
    diagnosis: dict[str, Any]
    patch: dict[str, Any]
    diff: dict[str, Any]
    from_version: int | None
    to_version: int | None
    rerun_execution_id: str | None
    rerun_at: datetime | None
    outcome: str
    cost: float
    tokens: int
    attempt: int
    decided_by: str | None
    decided_at: datetime | None
    verified_at: datetime | None
    settled: bool
    created_at: datetime
    updated_at: datetime


_FIX_FIELDS = [f.name for f in fields(FixInfo) if f.name != "workflow_name"]


def _fix(row: FixRow, workflow_name: str) -> FixInfo:
    return FixInfo(
        workflow_name=workflow_name, **{name: getattr(row, name) for name in _FIX_FIELDS}
    )


AUDIT_INSERT_TRIES = 5
"""Tries to take the tenant's next audit seq when writers race (PostgreSQL)."""


@dataclass(frozen=True)
class AuditRecord:
    id: int
    """Per tenant (1, 2, 3...): never the global row id."""
    tenant_id: str | None
    workflow_id: str | None
    workflow_name: str | None
    fix_id: str | None
    execution_id: str | None
    kind: str
    actor: str
    summary: str
    details: dict[str, Any]
    cost: float
    created_at: datetime


def _fix_counted(
    conn: Connection, tenant_id: str, error_class: str, safety: str, status: str
) -> None:
    labels = {"error_class": error_class, "safety": safety, "status": status}
    bump(conn, tenant_id, "kyra_fixes_total", labels, 1)


def create_fix(store: Store, **values: Any) -> str:
    with store.engine.begin() as conn:
        return insert_fix(conn, **values)


def insert_fix(conn: Connection, **values: Any) -> str:
    """A new fix row inside the caller's transaction (the healing ledger writes it with
    its audit record); counted for `/metrics` in the same transaction."""
    values.setdefault("id", new_id())
    conn.execute(insert(FixRow).values(**values))
    _fix_counted(
        conn, values["tenant_id"], values["error_class"], values["safety"], values["status"]
    )
    return str(values["id"])


def update_fix(store: Store, fix_id: str, **changes: Any) -> None:
    """Change a fix; a new status and a verification are counted for `/metrics` in the
    same transaction."""
    with store.engine.begin() as conn:
        change_fix(conn, fix_id, **changes)


def change_fix(conn: Connection, fix_id: str, **changes: Any) -> None:
    """`update_fix` inside the caller's transaction."""
    changes.setdefault("updated_at", utcnow())
    row = conn.execute(
        update(FixRow)
        .where(FixRow.id == fix_id)
        .values(**changes)
        .returning(FixRow.tenant_id, FixRow.error_class, FixRow.safety, FixRow.execution_id)
    ).first()
    if row is None:
        return
    tenant_id, error_class, safety, execution_id = row
    if "status" in changes:
        _fix_counted(conn, tenant_id, error_class, safety, changes["status"])
    if changes.get("outcome") in ("succeeded", "failed"):
        labels = {"error_class": error_class, "safety": safety, "outcome": changes["outcome"]}
        bump(conn, tenant_id, "kyra_fix_verifications_total", labels, 1)
    verified_at = changes.get("verified_at")
    if verified_at is not None and changes.get("outcome") == "succeeded" and execution_id:
        failed_at = conn.scalar(
            select(ExecutionRow.finished_at).where(ExecutionRow.id == execution_id)
        )
        if failed_at is not None:
            seconds = max(0.0, (_aware(verified_at) - _aware(failed_at)).total_seconds())
            observe(conn, tenant_id, "kyra_time_to_repair_seconds", {}, seconds, REPAIR_BUCKETS)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _fix_query() -> Any:
    return select(FixRow, WorkflowRow.name).join(WorkflowRow, WorkflowRow.id == FixRow.workflow_id)


def get_fix(store: Store, fix_id: str, *, tenant_id: str | None = None) -> FixInfo:
    """A fix by id or unique prefix (≥ 6 characters)."""
    if len(fix_id) < 6:
        raise NotFoundError("give at least 6 characters of a fix id")
    query = _fix_query().where(FixRow.id.startswith(fix_id, autoescape=True)).limit(2)
    if tenant_id is not None:
        query = query.where(FixRow.tenant_id == tenant_id)
    with store.session() as session:
        rows = session.execute(query).all()
    if not rows:
        raise NotFoundError(f"no fix {fix_id!r}")
    if len(rows) > 1:
        raise NotFoundError(f"fix id prefix {fix_id!r} is ambiguous")
    return _fix(*rows[0])


def list_fixes(
    store: Store,
    tenant_id: str,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    after_key: Key | None = None,
) -> list[FixInfo]:
    """Newest first; `after_key` (from `fix_key`) starts after that fix."""
    query = _fix_query().where(FixRow.tenant_id == tenant_id)
    if workflow_id is not None:
        query = query.where(FixRow.workflow_id == workflow_id)
    if status is not None:
        query = query.where(FixRow.status == status)
    if since is not None:
        query = query.where(FixRow.created_at >= since)
    query = after(query, [(FixRow.created_at, True), (FixRow.id, False)], after_key)
    with store.session() as session:
        return [_fix(row, name) for row, name in session.execute(query.limit(limit)).all()]


def fix_key(fix: FixInfo) -> Key:
    """The sort key of `list_fixes`."""
    return (fix.created_at, fix.id)


def fix_for_rerun(store: Store, execution_id: str) -> FixInfo | None:
    """The fix whose verification re-run is `execution_id`, if any."""
    with store.session() as session:
        row = session.execute(_fix_query().where(FixRow.rerun_execution_id == execution_id)).first()
    return _fix(*row) if row else None


def pending_fixes(store: Store, tenant_id: str | None = None) -> list[FixInfo]:
    """Fixes whose re-run has not finished yet (in flight)."""
    query = _fix_query().where(FixRow.outcome == "pending")
    if tenant_id is not None:
        query = query.where(FixRow.tenant_id == tenant_id)
    with store.session() as session:
        return [_fix(row, name) for row, name in session.execute(query).all()]


def watched_fix(store: Store, workflow_id: str) -> FixInfo | None:
    """The latest verified fix still inside its post-fix watch window."""
    with store.session() as session:
        row = session.execute(
            _fix_query()
            .where(
                FixRow.workflow_id == workflow_id,
                FixRow.outcome == "succeeded",
                FixRow.settled.is_(False),
                FixRow.to_version.is_not(None),
            )
            .order_by(FixRow.created_at.desc())
        ).first()
    return _fix(*row) if row else None


def month_usage(store: Store, tenant_id: str, since: datetime) -> tuple[int, float]:
    """(automatic changes made, diagnosis cost) for a tenant since `since`: what the
    tier quotas count. Blocked and rejected fixes changed nothing and do not count."""
    with store.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(FixRow)
            .where(
                FixRow.tenant_id == tenant_id,
                FixRow.created_at >= since,
                FixRow.status.in_(("applied", "approved", "rolled_back", "failed")),
            )
        )
        cost = session.scalar(
            select(func.coalesce(func.sum(AuditRow.cost), 0.0)).where(
                AuditRow.tenant_id == tenant_id, AuditRow.created_at >= since
            )
        )
    return int(count or 0), float(cost or 0.0)


def attempts_since(
    store: Store,
    *,
    tenant_id: str | None = None,
    workflow_id: str | None = None,
    error_class: str | None = None,
    since: datetime,
) -> list[datetime]:
    """Times of fix attempts (automatic changes, applied or failed) matching the filters."""
    query = select(FixRow.created_at).where(
        FixRow.created_at >= since,
        FixRow.status.in_(("applied", "approved", "rolled_back", "failed")),
    )
    if tenant_id is not None:
        query = query.where(FixRow.tenant_id == tenant_id)
    if workflow_id is not None:
        query = query.where(FixRow.workflow_id == workflow_id)
    if error_class is not None:
        query = query.where(FixRow.error_class == error_class)
    with store.session() as session:
        return list(session.scalars(query.order_by(FixRow.created_at)))


def add_audit(
    store: Store,
    *,
    kind: str,
    actor: str,
    summary: str,
    tenant_id: str | None = None,
    workflow_id: str | None = None,
    fix_id: str | None = None,
    execution_id: str | None = None,
    details: dict[str, Any] | None = None,
    cost: float = 0.0,
    at: datetime | None = None,
) -> None:
    with store.engine.begin() as conn:
        insert_audit(
            conn,
            kind=kind,
            actor=actor,
            summary=summary,
            tenant_id=tenant_id,
            workflow_id=workflow_id,
            fix_id=fix_id,
            execution_id=execution_id,
            details=details,
            cost=cost,
            at=at,
        )


def insert_audit(
    conn: Connection,
    *,
    kind: str,
    actor: str,
    summary: str,
    tenant_id: str | None = None,
    workflow_id: str | None = None,
    fix_id: str | None = None,
    execution_id: str | None = None,
    details: dict[str, Any] | None = None,
    cost: float = 0.0,
    at: datetime | None = None,
) -> None:
    """An audit record inside the caller's transaction. Each try takes the tenant's next
    seq under a savepoint: when two writers take the same seq (PostgreSQL), only the
    savepoint is undone and the record tries again, the caller's other writes stay."""
    owner = AuditRow.tenant_id == tenant_id if tenant_id else AuditRow.tenant_id.is_(None)
    if kind == "diagnosis" and tenant_id is not None:
        _diagnosis_counted(conn, tenant_id, details or {}, cost)
    for attempt in range(AUDIT_INSERT_TRIES):
        try:
            with conn.begin_nested():
                last = conn.scalar(select(func.max(AuditRow.seq)).where(owner))
                conn.execute(
                    insert(AuditRow).values(
                        seq=(last or 0) + 1,
                        tenant_id=tenant_id,
                        workflow_id=workflow_id,
                        fix_id=fix_id,
                        execution_id=execution_id,
                        kind=kind,
                        actor=actor,
                        summary=summary,
                        details=details or {},
                        cost=cost,
                        created_at=at or utcnow(),
                    )
                )
            return
        except IntegrityError:
            if attempt == AUDIT_INSERT_TRIES - 1:
                raise


def list_audit(
    store: Store,
    tenant_id: str,
    *,
    workflow_id: str | None = None,
    fix_id: str | None = None,
    limit: int = 100,
    after_key: Key | None = None,
) -> list[AuditRecord]:
    """Newest first; `after_key` (from `audit_key`) starts after that record."""
    query = (
        select(AuditRow, WorkflowRow.name)
        .outerjoin(WorkflowRow, WorkflowRow.id == AuditRow.workflow_id)
        .where((AuditRow.tenant_id == tenant_id) | AuditRow.tenant_id.is_(None))
    )
    if workflow_id is not None:
        query = query.where(AuditRow.workflow_id == workflow_id)
    if fix_id is not None:
        query = query.where(AuditRow.fix_id == fix_id)
    order = [(AuditRow.created_at, True), (AuditRow.seq, True)]
    query = after(query, order, after_key).limit(limit)
    with store.session() as session:
        return [
            AuditRecord(
                id=r.seq or 0,
                tenant_id=r.tenant_id,
                workflow_id=r.workflow_id,
                workflow_name=name,
                fix_id=r.fix_id,
                execution_id=r.execution_id,
                kind=r.kind,
                actor=r.actor,
                summary=r.summary,
                details=r.details,
                cost=r.cost,
                created_at=r.created_at,
            )
            for r, name in session.execute(query).all()
        ]


def execution_diagnosis(store: Store, tenant_id: str, execution_id: str) -> dict[str, Any] | None:
    """The latest diagnosis recorded for one execution (its audit details), or None."""
    query = (
        select(AuditRow.details)
        .where(
            AuditRow.tenant_id == tenant_id,
            AuditRow.execution_id == execution_id,
            AuditRow.kind == "diagnosis",
        )
        .order_by(AuditRow.created_at.desc(), AuditRow.seq.desc())
        .limit(1)
    )
    with store.session() as session:
        details = session.scalar(query)
    return dict(details) if details is not None else None


@dataclass(frozen=True)
class KillSwitch:
    scope: str
    enabled: bool
    reason: str
    changed_by: str
    changed_at: datetime


def set_kill_switch(
    store: Store, scope: str, *, enabled: bool, reason: str = "", changed_by: str = "user"
) -> KillSwitch:
    with store.session.begin() as session:
        row = session.get(KillSwitchRow, scope)
        if row is None:
            row = KillSwitchRow(scope=scope)
            session.add(row)
        row.enabled = enabled
        row.reason = reason
        row.changed_by = changed_by
        row.changed_at = utcnow()
        session.flush()
        return KillSwitch(row.scope, row.enabled, row.reason, row.changed_by, row.changed_at)


def active_kill_switch(store: Store, tenant_id: str) -> KillSwitch | None:
    """The enabled switch that applies to a tenant (global first), if any."""
    with store.session() as session:
        rows = session.scalars(
            select(KillSwitchRow).where(
                KillSwitchRow.scope.in_((GLOBAL_SCOPE, tenant_id)), KillSwitchRow.enabled.is_(True)
            )
        ).all()
    rows = sorted(rows, key=lambda r: r.scope != GLOBAL_SCOPE)
    if not rows:
        return None
    r = rows[0]
    return KillSwitch(r.scope, r.enabled, r.reason, r.changed_by, r.changed_at)


def kill_switches(store: Store) -> list[KillSwitch]:
    with store.session() as session:
        rows = session.scalars(select(KillSwitchRow).order_by(KillSwitchRow.scope)).all()
    return [KillSwitch(r.scope, r.enabled, r.reason, r.changed_by, r.changed_at) for r in rows]


def audit_key(record: AuditRecord) -> Key:
    """The sort key of `list_audit`."""
    return (record.created_at, record.id)


def _diagnosis_counted(
    conn: Connection, tenant_id: str, details: dict[str, Any], cost: float
) -> None:
    """Diagnoses, LLM tokens, cost and latency by tier, for `/metrics`."""

    def number(key: str) -> float:
        value = details.get(key)
        return float(value) if isinstance(value, int | float) else 0.0

    tier = {"tier": str(details.get("tier") or "rules")}
    bump(conn, tenant_id, "kyra_diagnoses_total", tier, 1)
    if number("tokens"):
        bump(conn, tenant_id, "kyra_ai_tokens_total", tier, number("tokens"))
    if cost:
        bump(conn, tenant_id, "kyra_ai_cost_usd_total", tier, float(cost))
    latency = number("latency_ms") / 1000
    observe(conn, tenant_id, "kyra_diagnosis_latency_seconds", tier, latency, LATENCY_BUCKETS)
