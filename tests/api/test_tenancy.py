"""A key of one tenant can never read or change anything of another, on every route.

`ATTEMPTS` lists each route of the OpenAPI schema; `test_every_route_is_covered` fails when a route
is added without a cross-tenant case here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.store import api as api_store
from kyra.store import healing as heal_store
from tests.api.conftest import Response, Tenant, assert_problem, hooked, needs_email


@dataclass
class Acme:
    """What tenant acme owns, for the rival to go after."""

    workflow: str
    hook_workflow: str
    hook_id: str
    execution_id: str
    fix_id: str
    key_prefix: str


@pytest.fixture
def owned(acme: Tenant, fault_server: FaultServer) -> Acme:
    acme.apply(needs_email(fault_server))
    run = acme.post("/api/v1/workflows/crm-sync/run", params={"wait": "true"}).json()
    acme.apply(hooked(fault_server))
    hook = acme.post("/api/v1/workflows/inbound/webhook").json()
    fix = acme.get("/api/v1/fixes").json()[0]
    prefix = acme.get("/api/v1/apikeys").json()[0]["prefix"]
    return Acme("crm-sync", "inbound", hook["hook_id"], run["execution_id"], fix["id"], prefix)


Check = Callable[[Response], None]


def status(code: int) -> Check:
    def check(r: Response) -> None:
        assert r.status_code == code, r.text
        if code >= 400:
            assert_problem(r)

    return check


def empty_list(r: Response) -> None:
    assert r.status_code == 200 and r.json() == [], r.text
    assert "Link" not in r.headers and "X-Next-Cursor" not in r.headers


def own_tenant(r: Response) -> None:
    assert r.status_code == 200 and r.json()["name"] == "rival", r.text


def no_acme_text(r: Response) -> None:
    assert r.status_code in (200, 201), r.text
    assert "crm-sync" not in r.text and "inbound" not in r.text and "acme" not in r.text


def zero_health(r: Response) -> None:
    body = r.json()
    assert body["month"]["auto_fixes"] == 0 and body["pending_approvals"] == []
    assert sum(body["workflows_by_state"].values()) == 0


def zero_metrics(r: Response) -> None:
    assert r.status_code == 200
    assert 'kyra_workflows{state="needs_attention",tenant="rival"} 0.0' in r.text
    assert 'kyra_executions{status="queued",tenant="rival"} 0.0' in r.text
    assert 'tenant="acme"' not in r.text
    assert "missing_required_field" not in r.text


def new_own_key(r: Response) -> None:
    assert r.status_code == 201 and r.json()["key"].startswith("kyra_")


ATTEMPTS: dict[tuple[str, str], tuple[Callable[[Acme], str], dict[str, Any], Check]] = {
    ("GET", "/api/v1/workflows"): (lambda a: "/api/v1/workflows", {}, empty_list),
    ("POST", "/api/v1/workflows"): (
        lambda a: "/api/v1/workflows",
        {
            "json": {
                "definition": {
                    "name": "crm-sync",
                    "steps": [
                        {
                            "name": "s",
                            "action": "http_request",
                            "with": {"url": "http://127.0.0.1:9/"},
                        }
                    ],
                }
            }
        },
        status(201),
    ),
    ("GET", "/api/v1/workflows/{name}"): (
        lambda a: f"/api/v1/workflows/{a.workflow}",
        {},
        status(404),
    ),
    ("DELETE", "/api/v1/workflows/{name}"): (
        lambda a: f"/api/v1/workflows/{a.workflow}",
        {},
        status(404),
    ),
    ("POST", "/api/v1/workflows/{name}/activate"): (
        lambda a: f"/api/v1/workflows/{a.workflow}/activate",
        {},
        status(404),
    ),
    ("POST", "/api/v1/workflows/{name}/deactivate"): (
        lambda a: f"/api/v1/workflows/{a.workflow}/deactivate",
        {},
        status(404),
    ),
    ("POST", "/api/v1/workflows/{name}/run"): (
        lambda a: f"/api/v1/workflows/{a.workflow}/run?wait=true",
        {},
        status(404),
    ),
    ("POST", "/api/v1/workflows/{name}/runs"): (
        lambda a: f"/api/v1/workflows/{a.workflow}/runs",
        {"json": {"runs": [{"inputs": {}}]}},
        status(404),
    ),
    ("POST", "/api/v1/workflows/{name}/webhook"): (
        lambda a: f"/api/v1/workflows/{a.hook_workflow}/webhook",
        {},
        status(404),
    ),
    ("DELETE", "/api/v1/workflows/{name}/webhook"): (
        lambda a: f"/api/v1/workflows/{a.hook_workflow}/webhook",
        {},
        status(404),
    ),
    ("GET", "/api/v1/executions"): (lambda a: "/api/v1/executions", {}, empty_list),
    ("GET", "/api/v1/executions/{execution_id}"): (
        lambda a: f"/api/v1/executions/{a.execution_id}",
        {},
        status(404),
    ),
    ("GET", "/api/v1/fixes"): (lambda a: "/api/v1/fixes", {}, empty_list),
    ("GET", "/api/v1/fixes/{fix_id}"): (lambda a: f"/api/v1/fixes/{a.fix_id}", {}, status(404)),
    ("GET", "/api/v1/incidents"): (lambda a: "/api/v1/incidents", {}, empty_list),
    # acme's own incidents are refused to the rival in tests/api/test_incidents.py
    ("GET", "/api/v1/incidents/{incident_id}"): (
        lambda a: "/api/v1/incidents/abcdef12",
        {},
        status(404),
    ),
    ("POST", "/api/v1/fixes/{fix_id}/approve"): (
        lambda a: f"/api/v1/fixes/{a.fix_id}/approve",
        {"json": {"value": "x@y.z"}},
        status(404),
    ),
    ("POST", "/api/v1/fixes/{fix_id}/retry"): (
        lambda a: f"/api/v1/fixes/{a.fix_id}/retry",
        {},
        status(404),
    ),
    ("POST", "/api/v1/fixes/{fix_id}/reject"): (
        lambda a: f"/api/v1/fixes/{a.fix_id}/reject",
        {},
        status(404),
    ),
    ("POST", "/api/v1/fixes/{fix_id}/rollback"): (
        lambda a: f"/api/v1/fixes/{a.fix_id}/rollback",
        {},
        status(404),
    ),
    ("GET", "/api/v1/audit"): (lambda a: "/api/v1/audit", {}, empty_list),
    ("GET", "/api/v1/killswitch"): (lambda a: "/api/v1/killswitch", {}, status(200)),
    ("PUT", "/api/v1/killswitch"): (
        lambda a: "/api/v1/killswitch",
        {"json": {"enabled": True}},
        status(200),
    ),
    ("GET", "/api/v1/tenant"): (lambda a: "/api/v1/tenant", {}, own_tenant),
    ("PATCH", "/api/v1/tenant"): (
        lambda a: "/api/v1/tenant",
        {"json": {"downtime_value_per_hour": 1, "lang": "es"}},
        own_tenant,
    ),
    ("GET", "/api/v1/apikeys"): (lambda a: "/api/v1/apikeys", {}, no_acme_text),
    ("POST", "/api/v1/apikeys"): (lambda a: "/api/v1/apikeys", {}, new_own_key),
    ("DELETE", "/api/v1/apikeys/{prefix}"): (
        lambda a: f"/api/v1/apikeys/{a.key_prefix}",
        {},
        status(404),
    ),
    ("GET", "/api/v1/health"): (lambda a: "/api/v1/health", {}, zero_health),
    ("GET", "/api/v1/risks"): (lambda a: "/api/v1/risks", {}, no_acme_text),
    ("GET", "/metrics"): (lambda a: "/metrics", {}, zero_metrics),
    ("POST", "/hooks/{hook_id}"): (lambda a: f"/hooks/{a.hook_id}", {"json": {}}, status(401)),
    # Diagnosis reads nothing of any tenant and stores nothing: it only answers.
    ("POST", "/api/v1/diagnose"): (
        lambda a: "/api/v1/diagnose",
        {"json": {"status_code": 503}},
        status(200),
    ),
    ("GET", "/healthz"): (lambda a: "/healthz", {}, no_acme_text),
    ("GET", "/readyz"): (lambda a: "/readyz", {}, no_acme_text),
}


def test_every_route_is_covered(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    routes = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    assert routes == set(ATTEMPTS)


def test_the_rival_sees_and_changes_nothing_of_acme(
    acme: Tenant, rival: Tenant, owned: Acme, kyra: Any
) -> None:
    before = {
        "workflows": acme.get("/api/v1/workflows").json(),
        "fixes": acme.get("/api/v1/fixes").json(),
        "executions": acme.get("/api/v1/executions").json(),
        "tenant": acme.get("/api/v1/tenant").json(),
        "killswitch": acme.get("/api/v1/killswitch").json(),
    }
    # creating a workflow of the same name goes last: it must succeed in the rival's own
    # tenant, and the routes above must not find it in acme's
    order = sorted(ATTEMPTS, key=lambda k: k == ("POST", "/api/v1/workflows"))
    for method, route in order:
        path, kwargs, check = ATTEMPTS[(method, route)]
        response = rival.request(method, path(owned), **kwargs)
        try:
            check(response)
        except AssertionError as exc:
            raise AssertionError(f"{method} {path(owned)}: {exc}") from None
    # prefixes of an execution id work too, but never across tenants
    assert rival.get(f"/api/v1/executions/{owned.execution_id[:8]}").status_code == 404
    assert rival.get(f"/api/v1/fixes/{owned.fix_id[:8]}").status_code == 404

    after = {
        "workflows": acme.get("/api/v1/workflows").json(),
        "fixes": acme.get("/api/v1/fixes").json(),
        "executions": acme.get("/api/v1/executions").json(),
        "tenant": acme.get("/api/v1/tenant").json(),
        "killswitch": acme.get("/api/v1/killswitch").json(),
    }
    assert after == before
    assert api_store.find_api_key(kyra.store, owned.key_prefix).revoked is False  # type: ignore[union-attr]


def test_audit_ids_are_per_tenant_and_reveal_nothing_of_the_others(
    kyra: Kyra, acme: Tenant, rival: Tenant
) -> None:
    """A global counter told a tenant how much every other tenant did (its first audit
    id was the number of records before it): ids count within the tenant."""
    for n in range(5):
        heal_store.add_audit(
            kyra.store, kind="diagnosis", actor="kyra", summary=f"acme {n}", tenant_id=acme.id
        )
    heal_store.add_audit(
        kyra.store, kind="diagnosis", actor="kyra", summary="rival 0", tenant_id=rival.id
    )
    rival_ids = [r["id"] for r in rival.get("/api/v1/audit").json()]
    assert rival_ids == [1]
    page = acme.get("/api/v1/audit", params={"limit": 2})
    assert [r["id"] for r in page.json()] == [5, 4]
    # The cursor holds the tenant's own sequence too (it is readable base64 JSON)
    cursor = page.headers["X-Next-Cursor"]
    raw = cursor + "=" * (-len(cursor) % 4)
    assert json.loads(base64.urlsafe_b64decode(raw))[-1] == 4
    rest = acme.get("/api/v1/audit", params={"cursor": cursor}).json()
    assert [r["id"] for r in rest] == [3, 2, 1]
