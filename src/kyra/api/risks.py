"""Workflows at risk (`GET /api/v1/risks`): warnings raised before runs fail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kyra.api.auth import Auth, kyra_of
from kyra.predict.risk import active_risks
from kyra.store import workflows as wf_store
from kyra.store.tenants import get_tenant_by_id

router = APIRouter(prefix="/api/v1", tags=["risks"])


class RiskOut(BaseModel):
    workflow: str
    kind: str
    """credential_expiry, latency, error_rate, ..."""
    subject: str
    """What is at risk inside the workflow: a secret's name, a host, a step."""
    reason: str
    """The reason as a sentence, in the requested (or the tenant's) language."""
    reason_key: str
    reason_params: dict[str, Any]
    since: datetime
    updated_at: datetime


class RisksOut(BaseModel):
    at_risk: list[RiskOut]


@router.get("/risks", response_model=RisksOut)
def list_risks(
    request: Request,
    who: Auth,
    workflow: str | None = Query(None, description="Only this workflow (by name)."),
    lang: Literal["en", "es"] | None = Query(None, description="Language of `reason`."),
) -> RisksOut:
    """The workflows at risk of failing soon (credentials about to expire, latency heading
    for a timeout, rising error rates), oldest first."""
    kyra = kyra_of(request)
    workflow_id = None
    if workflow is not None:
        workflow_id = wf_store.get_workflow(kyra.store, who.tenant_id, workflow).id
    language = lang or get_tenant_by_id(kyra.store, who.tenant_id).lang_code
    risks = active_risks(kyra.store, who.tenant_id, workflow_id=workflow_id)
    return RisksOut(at_risk=[RiskOut.model_validate(r.to_json(language)) for r in risks])
