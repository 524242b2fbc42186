"""While a host fails several workflows, the other workflows that call it are at risk:
marked when the incident opens (`kyra.predict.risk`, kind `host_incident`, subject the
host), cleared when it resolves. Which workflows call the host comes from the step
trends (each step's host as last seen), so nothing parses templated URLs."""

from __future__ import annotations

from datetime import datetime

from kyra.predict.risk import Reason, active_risks, clear_risk, raise_risk
from kyra.store import incidents as incident_store
from kyra.store.db import Store
from kyra.store.incidents import HostIncident

HOST_INCIDENT = "host_incident"
"""A host this workflow calls is failing other workflows right now."""


def _subject(incident: HostIncident) -> str:
    return f"host:{incident.host}"[:255]


def mark_at_risk(store: Store, incident: HostIncident, now: datetime) -> list[str]:
    """Raise the risk on every workflow calling the host that is not failing yet; their
    names."""
    callers = incident_store.workflows_calling(store, incident.tenant_id, incident.host)
    reason = Reason(
        "incident.host",
        {
            "host": incident.host,
            "workflows": ", ".join(incident.workflows[:10])[:300],
            "id": incident.id[:8],
        },
    )
    marked = []
    for workflow_id, name in sorted(callers.items(), key=lambda item: item[1]):
        if name in incident.workflows:
            continue
        raise_risk(
            store,
            tenant_id=incident.tenant_id,
            workflow_id=workflow_id,
            kind=HOST_INCIDENT,
            subject=_subject(incident),
            reason=reason,
            now=now,
        )
        marked.append(name)
    return marked


def clear_at_risk(store: Store, incident: HostIncident, now: datetime) -> int:
    """Clear the risk the incident raised (the host answers again)."""
    subject = _subject(incident)
    cleared = 0
    for risk in active_risks(store, incident.tenant_id):
        if risk.kind == HOST_INCIDENT and risk.subject == subject:
            cleared += clear_risk(
                store,
                tenant_id=incident.tenant_id,
                workflow_id=risk.workflow_id,
                kind=HOST_INCIDENT,
                subject=subject,
                now=now,
            )
    return cleared
