"""`/api/v1/incidents`: incidents across workflows (several workflows failing on one
host within a window), newest first, with the host named as the common cause."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from kyra.api.auth import Auth, kyra_of
from kyra.api.paging import PAGE_HEADERS, CursorParam, decode, limit_param, page, paged
from kyra.store import incidents as incident_store
from kyra.store.incidents import HostIncident

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


class CommonCause(BaseModel):
    kind: Literal["host"] = "host"
    host: str


class IncidentFailureOut(BaseModel):
    workflow: str
    execution_id: str
    step: str
    error: str
    """Status and error type (`HTTP 503 StatusError`), never a body."""
    at: datetime


class IncidentOut(BaseModel):
    id: str
    host: str
    common_cause: CommonCause
    status: Literal["open", "resolved"]
    workflows: list[str]
    """The workflows that failed on the host, first failure first."""
    failure_count: int
    opened_at: datetime
    last_failure_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    """The execution whose success on the host resolved the incident."""


class IncidentDetail(IncidentOut):
    failures: list[IncidentFailureOut]


def _out(incident: HostIncident) -> dict[str, object]:
    return {
        "id": incident.id,
        "host": incident.host,
        "common_cause": CommonCause(host=incident.host),
        "status": incident.status,
        "workflows": incident.workflows,
        "failure_count": incident.failure_count,
        "opened_at": incident.opened_at,
        "last_failure_at": incident.last_failure_at,
        "resolved_at": incident.resolved_at,
        "resolved_by": incident.resolved_by,
    }


@router.get("", response_model=list[IncidentOut], responses=PAGE_HEADERS)
def list_incidents(
    request: Request,
    response: Response,
    who: Auth,
    status: Literal["open", "resolved"] | None = Query(None, description="Only this status."),
    cursor: CursorParam = None,
    limit: int = limit_param(50),
) -> list[IncidentOut]:
    """Incidents across workflows of your tenant, newest first."""
    found = incident_store.list_incidents(
        kyra_of(request).store,
        who.tenant_id,
        status=status,
        limit=limit + 1,
        after_key=decode(cursor, 2),
    )
    shown, next_cursor = page(found, limit, incident_store.incident_key)
    return paged(
        request, response, [IncidentOut.model_validate(_out(i)) for i in shown], next_cursor
    )


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident(request: Request, who: Auth, incident_id: str) -> IncidentDetail:
    """One incident (id or a unique prefix of at least 6 characters) with its failures."""
    incident = incident_store.get_incident(kyra_of(request).store, who.tenant_id, incident_id)
    failures = [
        IncidentFailureOut(
            workflow=f.workflow_name,
            execution_id=f.execution_id,
            step=f.step_name,
            error=f.error,
            at=f.at,
        )
        for f in incident.failures
    ]
    return IncidentDetail.model_validate({**_out(incident), "failures": failures})
