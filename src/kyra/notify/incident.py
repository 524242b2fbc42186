"""What a notification is about, read from the store: the incident an event belongs to,
what broke, the diagnosis and the fix; and events as JSON for later re-delivery."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kyra.errors import NotFoundError
from kyra.healing.events import HealEvent
from kyra.healing.lifecycle import AuditKind
from kyra.notify.messages import Facts
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import incidents as incident_store
from kyra.store.db import Store

MAX_INCIDENT_CHAIN = 12
"""Heal re-runs followed back to the execution that opened the incident (the healing
driver's own hard stop on rounds is the same)."""


def incident_of(store: Store, event: HealEvent) -> str:
    """The execution that opened the incident: heal re-runs are followed back through
    `resume_of`, so an escalation after a failed fix stays in the same thread."""
    incident = event.incident or event.execution_id or f"{event.workflow_id}:{event.kind}"
    for _ in range(MAX_INCIDENT_CHAIN):
        try:
            execution = exec_store.get_execution(store, incident)
        except (NotFoundError, ValueError):
            break
        if execution.trigger != "heal" or not execution.resume_of:
            break
        incident = execution.resume_of
    host_incident = incident_store.incident_of_execution(store, incident)
    # A failure that is part of an incident across workflows joins that thread.
    return incident_store.thread_key(host_incident) if host_incident else incident


def incident_facts(store: Store, event: HealEvent, incident: str) -> Facts:
    """What broke (step, error), the diagnosis and the fix, from the event or the store."""
    fix = heal_store.get_fix(store, event.fix_id) if event.fix_id else None
    step, error = event.values.get("step"), event.values.get("error")
    if not error:
        origin = (fix.execution_id if fix else None) or incident
        step, error = _what_broke(store, origin, step)
    diagnosis = event.values.get("explanation")
    l10n = event.values.get("l10n")
    reasons = l10n.get("explanation") if isinstance(l10n, Mapping) else None
    if fix is not None:
        diagnosis = fix.diagnosis.get("explanation") or diagnosis
        reasons = fix.diagnosis.get("reasons") or reasons
    if diagnosis is None and event.workflow_id:
        stored = _diagnosis_of(store, event, incident)
        if stored is not None:
            diagnosis = stored.get("explanation") or stored.get("summary")
            reasons = stored.get("reasons")
    return Facts(
        step=str(step) if step else None,
        error=str(error) if error else None,
        diagnosis=str(diagnosis) if diagnosis else None,
        fix=fix,
        reasons=tuple(r for r in reasons or () if isinstance(r, Mapping)),
    )


def _diagnosis_of(store: Store, event: HealEvent, incident: str) -> dict[str, Any] | None:
    """The stored diagnosis of the incident (its audit details, plus the summary)."""
    wanted = {event.execution_id, incident}
    for record in heal_store.list_audit(
        store, event.tenant_id, workflow_id=event.workflow_id, limit=50
    ):
        if record.kind == AuditKind.DIAGNOSIS and record.execution_id in wanted:
            return {**record.details, "summary": record.summary}
    return None


def _what_broke(store: Store, execution_id: str, step: Any) -> tuple[Any, str | None]:
    try:
        ctx = exec_store.get_execution(store, execution_id).error_context or {}
    except (NotFoundError, ValueError):
        return step, None
    status = f"HTTP {ctx['status_code']} " if ctx.get("status_code") else ""
    message = ctx.get("error_message")
    error = f"{status}{ctx.get('error_type') or 'error'}: {message}"[:200] if message else None
    return step or ctx.get("step_name"), error


def event_to_json(event: HealEvent) -> dict[str, Any]:
    data = {
        "kind": event.kind,
        "tenant_id": event.tenant_id,
        "workflow_id": event.workflow_id,
        "workflow_name": event.workflow_name,
        "at": event.at.isoformat(),
        "execution_id": event.execution_id,
        "fix_id": event.fix_id,
        "incident": event.incident,
        "values": event.values,
    }
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def event_from_json(data: Mapping[str, Any]) -> HealEvent:
    return HealEvent(
        kind=str(data["kind"]),
        tenant_id=str(data["tenant_id"]),
        workflow_id=str(data.get("workflow_id") or ""),
        workflow_name=str(data.get("workflow_name") or ""),
        at=datetime.fromisoformat(str(data["at"])),
        execution_id=data.get("execution_id"),
        fix_id=data.get("fix_id"),
        values=dict(data.get("values") or {}),
        incident=data.get("incident"),
    )
