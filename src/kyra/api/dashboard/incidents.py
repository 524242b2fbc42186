"""A workflow's timeline: one incident per failed execution, told as the spec's four
stages (failure → diagnosis → fix → recovery) from the stored records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kyra.app import Kyra
from kyra.errors import NotFoundError
from kyra.healing.lifecycle import CHANGED, IN_FORCE, AuditKind, FixStatus
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store.healing import AuditRecord, FixInfo
from kyra.store.workflows import WorkflowRecord

MAX_INCIDENTS = 12


@dataclass
class Incident:
    execution_id: str
    at: datetime
    error: str = ""
    step: str | None = None
    diagnosis: dict[str, Any] | None = None
    fix: FixInfo | None = None
    attention: str | None = None
    recovered_at: datetime | None = None
    rerun_failed: bool = False
    events: list[AuditRecord] = field(default_factory=list)

    @property
    def stage(self) -> str:
        """The furthest stage reached: failure | diagnosis | fix | recovery."""
        if self.recovered_at is not None:
            return "recovery"
        if self.fix is not None and self.fix.status in CHANGED:
            return "fix"
        if self.diagnosis is not None:
            return "diagnosis"
        return "failure"

    @property
    def repair_seconds(self) -> float | None:
        if self.recovered_at is None:
            return None
        return (self.recovered_at - self.at).total_seconds()


def _error_text(ctx: dict[str, Any] | None) -> str:
    if not ctx:
        return ""
    status = f"HTTP {ctx['status_code']} " if ctx.get("status_code") else ""
    return f"{status}{ctx.get('error_type') or 'error'}: {ctx.get('error_message') or ''}"[:300]


def incidents(kyra: Kyra, record: WorkflowRecord) -> list[Incident]:
    """Newest first; at most `MAX_INCIDENTS`."""
    store = kyra.store
    fixes = heal_store.list_fixes(store, record.tenant_id, workflow_id=record.id, limit=100)
    trail = heal_store.list_audit(store, record.tenant_id, workflow_id=record.id, limit=500)
    by_fix = {f.id: f for f in fixes}
    found: dict[str, Incident] = {}

    def incident(execution_id: str, at: datetime) -> Incident:
        if execution_id not in found:
            found[execution_id] = Incident(execution_id, at)
        return found[execution_id]

    for fix in reversed(fixes):  # oldest first: the newest fix of an incident wins
        if fix.execution_id:
            incident(fix.execution_id, fix.created_at).fix = fix
    for rec in reversed(trail):
        owner = by_fix.get(rec.fix_id or "")
        key = owner.execution_id if owner and owner.execution_id else rec.execution_id
        if key:
            _record(incident(key, rec.created_at), rec)
    newest = sorted(found.values(), key=lambda i: i.at, reverse=True)[:MAX_INCIDENTS]
    for item in newest:
        try:
            execution = exec_store.get_execution(store, item.execution_id)
        except NotFoundError:
            continue
        item.error = _error_text(execution.error_context)
        item.step = execution.failed_step
        if execution.finished_at is not None:
            item.at = execution.finished_at
    return newest


def _record(item: Incident, rec: AuditRecord) -> None:
    item.events.append(rec)
    if rec.kind == AuditKind.DIAGNOSIS:
        item.diagnosis = rec.details
    elif rec.kind == AuditKind.NEEDS_ATTENTION:
        item.attention = rec.summary
    elif rec.kind == AuditKind.VERIFIED:
        item.recovered_at = rec.created_at
    elif rec.kind == AuditKind.FIX_FAILED:
        item.rerun_failed = True


def can_roll_back(fix: FixInfo, record: WorkflowRecord) -> bool:
    """The healer refuses a rollback once the config moved on; so does the button."""
    return (
        fix.status in (*IN_FORCE, FixStatus.FAILED)
        and fix.from_version is not None
        and fix.to_version == record.config_version
    )
