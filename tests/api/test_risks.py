"""`GET /api/v1/risks`: the tenant's workflows at risk, in its language, never another's."""

from __future__ import annotations

from kyra.app import Kyra
from kyra.predict.risk import CREDENTIAL_EXPIRY, Reason, clear_risk, raise_risk
from kyra.store import workflows as wf
from kyra.store.types import utcnow
from kyra.workflows.model import Workflow
from tests.api.conftest import Tenant, assert_problem


def _risky(kyra: Kyra, tenant: Tenant, name: str) -> str:
    doc = {
        "name": name,
        "steps": [{"name": "get", "action": "http_request", "with": {"url": "http://x"}}],
    }
    record, _ = wf.save_workflow(kyra.store, tenant.id, Workflow.model_validate(doc))
    raise_risk(
        kyra.store,
        tenant_id=tenant.id,
        workflow_id=record.id,
        kind=CREDENTIAL_EXPIRY,
        subject="secret:API_TOKEN",
        reason=Reason(
            "credential.jwt", {"secret": "API_TOKEN", "expires": "2026-12-07 10:00", "days": 3}
        ),
        now=utcnow(),
    )
    return record.id


def test_risks_are_listed_per_tenant_in_the_asked_language(
    kyra: Kyra, acme: Tenant, rival: Tenant
) -> None:
    workflow_id = _risky(kyra, acme, "billing")
    body = acme.get("/api/v1/risks").json()
    [risk] = body["at_risk"]
    assert risk["workflow"] == "billing" and risk["kind"] == CREDENTIAL_EXPIRY
    assert risk["reason"] == "secret API_TOKEN (a JWT) expires on 2026-12-07 10:00 UTC, in 3 day(s)"
    assert risk["reason_key"] == "credential.jwt" and risk["subject"] == "secret:API_TOKEN"
    spanish = acme.get("/api/v1/risks", params={"lang": "es"}).json()["at_risk"][0]
    assert spanish["reason"].startswith("el secreto API_TOKEN (un JWT) caduca el 2026-12-07")
    assert acme.get("/api/v1/risks", params={"workflow": "billing"}).json() == body

    assert rival.get("/api/v1/risks").json() == {"at_risk": []}
    assert_problem(rival.get("/api/v1/risks", params={"workflow": "billing"}), "not_found")
    assert_problem(acme.get("/api/v1/risks", params={"lang": "fr"}))

    clear_risk(
        kyra.store,
        tenant_id=acme.id,
        workflow_id=workflow_id,
        kind=CREDENTIAL_EXPIRY,
        now=utcnow(),
    )
    assert acme.get("/api/v1/risks").json() == {"at_risk": []}
