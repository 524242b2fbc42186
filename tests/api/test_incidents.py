"""`/api/v1/incidents`: incidents across workflows from real failing hosts, cursor pages,
problem+json errors, never another tenant's."""

from __future__ import annotations

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.engine.events import RunResult
from kyra.store import workflows as wf
from kyra.workflows.model import Workflow
from tests.api.conftest import Tenant, assert_problem


def _run(kyra: Kyra, tenant: Tenant, name: str, url: str) -> RunResult:
    doc = {"name": name, "steps": [{"name": "get", "action": "http_request", "with": {"url": url}}]}
    record, _ = wf.save_workflow(kyra.store, tenant.id, Workflow.model_validate(doc))
    return kyra.executor().run(record)


def test_incidents_are_paged_and_shown_per_tenant(
    kyra: Kyra, acme: Tenant, rival: Tenant, fault_server: FaultServer, closed_port: int
) -> None:
    down = f"http://127.0.0.1:{closed_port}"
    host = fault_server.url.split("//")[1]
    for name in ("billing", "crm"):
        assert _run(kyra, acme, name, f"{fault_server.url}/status/503").status == "failed"
    for name in ("digest", "inbound"):
        assert _run(kyra, acme, name, f"{down}/v1").status == "failed"

    first = acme.get("/api/v1/incidents", params={"limit": 1})
    assert [i["host"] for i in first.json()] == [f"127.0.0.1:{closed_port}"]
    assert 'rel="next"' in first.headers["Link"]
    second = acme.get(
        "/api/v1/incidents", params={"limit": 1, "cursor": first.headers["X-Next-Cursor"]}
    )
    assert [i["host"] for i in second.json()] == [host] and "Link" not in second.headers
    incident = second.json()[0]
    assert incident["common_cause"] == {"kind": "host", "host": host}
    assert incident["workflows"] == ["billing", "crm"] and incident["status"] == "open"

    shown = acme.get(f"/api/v1/incidents/{incident['id'][:8]}").json()
    assert [(f["workflow"], f["error"][:8]) for f in shown["failures"]] == [
        ("billing", "HTTP 503"),
        ("crm", "HTTP 503"),
    ]
    assert _run(kyra, acme, "status", f"{fault_server.url}/ok").status == "succeeded"
    resolved = acme.get("/api/v1/incidents", params={"status": "resolved"}).json()
    assert [i["id"] for i in resolved] == [incident["id"]]

    assert rival.get("/api/v1/incidents").json() == []
    assert_problem(rival.get(f"/api/v1/incidents/{incident['id']}"), "not_found")
    assert_problem(acme.get("/api/v1/incidents", params={"cursor": "not-a-cursor"}))
    assert_problem(acme.get("/api/v1/incidents", params={"status": "closed"}))
    assert_problem(acme.get("/api/v1/incidents/abc"), "not_found")
