"""Workflows and executions over HTTP: create from YAML/JSON, history, state, delete, run."""

from __future__ import annotations

import yaml

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.store import executions as ex
from tests.api.conftest import Tenant, assert_problem, paced

ORDERS_YAML = """
name: orders
description: Pull new orders
steps:
  - name: fetch
    action: http_request
    with:
      url: http://127.0.0.1:9/orders
"""


def test_create_from_yaml_body_then_list_and_show(acme: Tenant) -> None:
    r = acme.post(
        "/api/v1/workflows", content=ORDERS_YAML, headers={"Content-Type": "application/yaml"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "orders" and r.json()["created"] is True

    listed = acme.get("/api/v1/workflows").json()
    assert [w["name"] for w in listed] == ["orders"]
    detail = acme.get("/api/v1/workflows/orders").json()
    assert detail["config"]["timeout"] == 30.0
    assert [v["version"] for v in detail["config_history"]] == [1]
    assert detail["config_history"][0]["author"] == "user"


def test_create_from_json_envelope_and_replace_makes_a_new_config_version(acme: Tenant) -> None:
    doc = yaml.safe_load(ORDERS_YAML)
    assert acme.post("/api/v1/workflows", json={"source": ORDERS_YAML}).status_code == 201
    again = acme.post("/api/v1/workflows", json={"definition": doc})
    problem = assert_problem(again, "workflow_exists")
    assert again.status_code == 409 and "replace=true" in problem["detail"]
    assert "--replace" not in problem["detail"]  # API words for API callers

    doc["config"] = {"timeout": 10}
    updated = acme.post("/api/v1/workflows", json={"definition": doc, "replace": True})
    assert updated.status_code == 200 and updated.json()["created"] is False
    history = acme.get("/api/v1/workflows/orders").json()["config_history"]
    assert [(v["version"], v["config"]["timeout"]) for v in history] == [(1, 30.0), (2, 10.0)]


def test_an_invalid_document_is_422_with_every_problem(acme: Tenant) -> None:
    bad = "name: x\nsteps:\n  - name: a\n    action: no_such_action\n"
    r = acme.post("/api/v1/workflows", json={"source": bad})
    assert r.status_code == 422
    error = assert_problem(r)
    assert error["code"] == "invalid_workflow"
    assert any("no_such_action" in p for p in error["details"]["problems"])


def test_bad_bodies_are_4xx_with_the_error_shape(acme: Tenant) -> None:
    cases = [
        acme.post(
            "/api/v1/workflows", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        acme.post("/api/v1/workflows", json={"source": "x", "definition": {}}),
        acme.post("/api/v1/workflows", json=[1, 2]),
        acme.post("/api/v1/workflows", content=b"\xff\xfe", headers={"Content-Type": "text/yaml"}),
        acme.post("/api/v1/workflows", content=b"a", headers={"Content-Type": "image/png"}),
        acme.post("/api/v1/workflows", content=b": : :", headers={"Content-Type": "text/yaml"}),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, r.text
        assert_problem(r)


def test_activate_deactivate_and_illegal_moves(acme: Tenant) -> None:
    acme.post("/api/v1/workflows", json={"source": ORDERS_YAML})
    r = acme.post("/api/v1/workflows/orders/deactivate")
    assert r.status_code == 200 and r.json()["state"] == "inactive"
    assert acme.post("/api/v1/workflows/orders/deactivate").json()["state"] == "inactive"
    assert acme.post("/api/v1/workflows/orders/activate").json()["state"] == "active"
    states = acme.get("/api/v1/workflows/orders").json()["state_history"]
    assert [(s["from_state"], s["to_state"]) for s in states] == [
        ("active", "inactive"),
        ("inactive", "active"),
    ]


def test_delete_removes_the_workflow_and_its_executions(acme: Tenant) -> None:
    acme.post("/api/v1/workflows", json={"source": ORDERS_YAML})
    queued = acme.post("/api/v1/workflows/orders/run").json()["execution_id"]
    assert acme.delete("/api/v1/workflows/orders").status_code == 204
    assert acme.get("/api/v1/workflows/orders").status_code == 404
    assert acme.get(f"/api/v1/executions/{queued}").status_code == 404
    assert acme.delete("/api/v1/workflows/orders").status_code == 404


def test_run_without_wait_queues_an_execution_for_the_runtime(acme: Tenant) -> None:
    acme.post("/api/v1/workflows", json={"source": ORDERS_YAML})
    r = acme.post("/api/v1/workflows/orders/run", json={"inputs": {"since": "2026-01-01"}})
    assert r.status_code == 202
    execution_id = r.json()["execution_id"]
    detail = acme.get(f"/api/v1/executions/{execution_id[:8]}").json()
    assert detail["status"] == "queued" and detail["inputs"] == {"since": "2026-01-01"}
    listed = acme.get("/api/v1/executions", params={"workflow": "orders", "status": "queued"})
    assert [e["id"] for e in listed.json()] == [execution_id]


def test_run_and_wait_heals_a_rate_limit_in_process(
    acme: Tenant, fault_server: FaultServer
) -> None:
    acme.apply(paced(fault_server))
    r = acme.post("/api/v1/workflows/gmail-digest/run", params={"wait": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "succeeded" and body["healing"] == ["rerun", "verified"]
    assert body["workflow_state"] == "active"

    failed_id, healed_id = body["executions"]
    failed = acme.get(f"/api/v1/executions/{failed_id}").json()
    assert failed["status"] == "failed" and failed["failed_step"] == "send"
    assert failed["error_context"]["status_code"] == 429
    assert [s["status"] for s in failed["steps"]] == ["succeeded", "failed"]
    healed = acme.get(f"/api/v1/executions/{healed_id}").json()
    assert healed["resume_of"] == failed_id and healed["trigger"] == "heal"
    assert [s["reused"] for s in healed["steps"]] == [True, False]
    assert acme.get("/api/v1/workflows/gmail-digest").json()["config_version"] == 2


def test_execution_filters_are_validated(acme: Tenant) -> None:
    assert acme.get("/api/v1/executions", params={"status": "exploded"}).status_code == 422
    assert acme.get("/api/v1/executions", params={"limit": 0}).status_code == 422
    assert acme.get("/api/v1/executions", params={"workflow": "nope"}).status_code == 404
    assert acme.get("/api/v1/executions/abc").status_code == 404


def test_a_batch_of_runs_is_queued_in_one_request(acme: Tenant, rival: Tenant, kyra: Kyra) -> None:
    acme.apply(
        {"name": "bulk", "steps": [{"name": "t", "action": "transform", "with": {"value": 1}}]}
    )
    woken: list[int] = []
    kyra.on_work_queued(lambda: woken.append(1))  # what `kyra serve` wakes its workers with
    runs = [{"inputs": {"n": n}} for n in range(250)]
    r = acme.post("/api/v1/workflows/bulk/runs", json={"runs": runs})
    assert r.status_code == 202, r.text
    ids = r.json()["execution_ids"]
    assert len(ids) == len(set(ids)) == 250 and woken == [1]
    stored = [ex.get_execution(kyra.store, i) for i in ids[:3]]
    assert [e.inputs for e in stored] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert {e.status for e in stored} == {"queued"}
    # Bounded, validated, tenant-scoped: a 4xx with a message, never a 500.
    too_many = acme.post("/api/v1/workflows/bulk/runs", json={"runs": [{}] * 1001})
    assert too_many.status_code == 422
    assert acme.post("/api/v1/workflows/bulk/runs", json={"runs": []}).status_code == 422
    assert rival.post("/api/v1/workflows/bulk/runs", json={"runs": runs[:1]}).status_code == 404
