"""A proposal that needs a value only a person knows, over HTTP (#14 item 5): the fix
detail names the field and its candidates; approving without a value is a 422
problem+json (`value_required`) and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kyra.demo import FaultServer
from tests.api.conftest import Tenant, assert_problem, needs_email


def test_approve_without_the_needed_value_is_422_and_changes_nothing(
    acme: Tenant, fault_server: FaultServer
) -> None:
    acme.apply(needs_email(fault_server))
    assert acme.post("/api/v1/workflows/crm-sync/run", params={"wait": "true"}).status_code == 200
    [fix] = acme.get("/api/v1/fixes", params={"status": "proposed"}).json()
    detail = acme.get(f"/api/v1/fixes/{fix['id']}").json()
    assert (detail["value_needed"], detail["candidates"]) == ("json.email", [])
    assert detail["patch"][0]["value"] is None

    for body in (None, {"value": None}, {"value": " "}):
        r = acme.post(f"/api/v1/fixes/{fix['id']}/approve", json=body)
        problem = assert_problem(r, "value_required")
        assert r.status_code == 422 and problem["details"]["field"] == "json.email"
        assert "`value` in the API" in problem["detail"]
    assert acme.get(f"/api/v1/fixes/{fix['id']}").json()["status"] == "proposed"
    assert acme.get("/api/v1/workflows/crm-sync").json()["config_version"] == 1

    ok = acme.post(f"/api/v1/fixes/{fix['id']}/approve", json={"value": "ana@example.com"})
    assert ok.status_code == 200 and ok.json()["workflow_state"] == "active"
    assert acme.get(f"/api/v1/fixes/{fix['id']}").json()["value_needed"] is None


def test_the_dashboard_asks_for_the_value_instead_of_prefilling_null(
    http: TestClient, acme: Tenant, fault_server: FaultServer
) -> None:
    acme.apply(needs_email(fault_server))
    acme.post("/api/v1/workflows/crm-sync/run", params={"wait": "true"})
    [fix] = acme.get("/api/v1/fixes").json()
    http.post("/login", data={"key": acme.key, "next": "/dashboard"}, follow_redirects=False)
    page = http.get("/dashboard").text
    field = page.split('data-testid="value-crm-sync"')[0].rsplit("<input", 1)[1]
    assert 'value=""' in field and "required" in field and "null" not in field
    token = page.split('name="csrf" value="')[1].split('"')[0]
    r = http.post(
        f"/dashboard/fixes/{fix['id']}/approve",
        data={"csrf": token, "next": "/dashboard", "value": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "only%20a%20person%20knows" in r.headers["location"]
    assert acme.get(f"/api/v1/fixes/{fix['id']}").json()["status"] == "proposed"
