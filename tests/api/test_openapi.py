"""The OpenAPI document is complete and true: it validates, every reference resolves,
operations have readable ids, the bearer scheme is declared, and every authenticated
route documents its errors as problem details."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from tests.api.conftest import Tenant, assert_problem


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_the_document_validates_and_every_ref_resolves(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    validate(schema)  # raises on an invalid document
    components = schema["components"]["schemas"]
    for ref in _refs(schema):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components
    body = schema["paths"]["/api/v1/workflows"]["post"]["requestBody"]["content"]
    workflow_in = components["WorkflowIn"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/WorkflowIn"}
    assert {"source", "definition", "replace"} <= set(workflow_in["properties"])


def test_operation_ids_security_and_descriptions(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    ids = {op["operationId"] for _, _, op in _operations(schema)}
    assert {"createWorkflow", "listExecutions", "approveFix", "listApiKeys"} <= ids
    assert all("_" not in i for i in ids)
    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, op in _operations(schema):
        public = path in ("/healthz", "/readyz") or path.startswith("/hooks/")
        assert public or op.get("security") == [{"apiKey": []}], (method, path)
    for method, path, op in _operations(schema):
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), (method, path, parameter["name"])
    for name in ("ExecutionOut", "FixOut", "Problem", "WorkflowIn", "WorkflowSummary"):
        props = schema["components"]["schemas"][name]["properties"]
        assert all(p.get("description") for p in props.values()), name
    for op_id in ("listWorkflows", "listExecutions", "listFixes", "listAudit", "listApiKeys"):
        (op,) = [op for _, _, op in _operations(schema) if op["operationId"] == op_id]
        ok = op["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["type"] == "array", op_id
        assert {"Link", "X-Next-Cursor"} <= set(ok["headers"]), op_id


def test_every_keyed_route_documents_its_errors_as_problems(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    for method, path, op in _operations(schema):
        if path in ("/healthz", "/readyz", "/metrics"):
            continue
        for code in ("401", "404", "409", "422"):
            content = op["responses"][code]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, code)


def test_errors_sent_are_the_documented_problems(http: TestClient, acme: Tenant) -> None:
    assert_problem(http.get("/api/v1/workflows"), "unauthorized")
    assert_problem(acme.get("/api/v1/workflows/nope"), "not_found")
    assert_problem(acme.get("/api/v1/executions", params={"limit": 0}), "validation_error")
    bad = assert_problem(acme.post("/api/v1/workflows", json={"source": "name: [1"}))
    assert bad["code"] == "invalid_workflow" and bad["details"]["problems"]


def test_lists_page_with_a_cursor_stable_under_inserts(acme: Tenant) -> None:
    for n in range(5):
        acme.apply(
            {"name": f"w{n}", "steps": [{"name": "s", "action": "transform", "with": {"value": 1}}]}
        )
    for _ in range(7):
        assert acme.post("/api/v1/workflows/w0/run").status_code == 202
    first = acme.get("/api/v1/executions", params={"limit": 3})
    assert len(first.json()) == 3 and first.headers["X-Next-Cursor"]
    # New executions arrive between pages: they are newer, so no page shifts.
    for _ in range(4):
        acme.post("/api/v1/workflows/w1/run")
    seen = [e["id"] for e in first.json()]
    cursor = first.headers.get("X-Next-Cursor")
    while cursor:
        page = acme.get("/api/v1/executions", params={"limit": 3, "cursor": cursor})
        seen += [e["id"] for e in page.json()]
        cursor = page.headers.get("X-Next-Cursor")
    assert len(seen) == len(set(seen)) == 7
    w0 = acme.get("/api/v1/executions", params={"limit": 100, "workflow": "w0"}).json()
    assert all(e["workflow"] == "w0" for e in w0)
    # The Link header is the same page, followed as a client library would (httpx's
    # `response.links`), relative to the request's URL.
    names, url = [], "/api/v1/workflows?limit=2"
    while True:
        page = acme.get(url)
        names += [w["name"] for w in page.json()]
        if "next" not in page.links:
            assert "X-Next-Cursor" not in page.headers
            break
        url = page.links["next"]["url"]
        assert url.startswith("/api/v1/workflows?limit=2&cursor=")
    assert names == ["w0", "w1", "w2", "w3", "w4"]


def test_a_list_is_the_array_a_client_of_the_first_api_reads(acme: Tenant) -> None:
    """Scripts written when lists were unpaginated arrays (`for e in r.json()`) keep
    working: the paging lives in headers."""
    acme.apply({"name": "w", "steps": [{"name": "s", "action": "transform", "with": {"value": 1}}]})
    assert acme.post("/api/v1/workflows/w/run").status_code == 202
    for path in ("/api/v1/workflows", "/api/v1/executions", "/api/v1/apikeys"):
        body = acme.get(path, params={"limit": 1000}).json()
        assert isinstance(body, list) and body and all(isinstance(x, dict) for x in body), path
    for path in ("/api/v1/fixes", "/api/v1/audit"):
        assert acme.get(path, params={"limit": 1000}).json() == [], path


def test_a_cursor_the_api_did_not_hand_out_is_a_400(acme: Tenant) -> None:
    for cursor in ("garbage!", "W10", "WyJhIiwiYiIsImMiXQ", "W3RydWVd", "e30"):
        for path in ("/api/v1/executions", "/api/v1/workflows", "/api/v1/audit"):
            assert_problem(acme.get(path, params={"cursor": cursor}), "invalid_cursor")
