"""Fixes, audit and kill switch over HTTP, against real failures from the fault server."""

from __future__ import annotations

from typing import Any

from kyra.demo import FaultServer
from kyra.healing.lifecycle import FixStatus
from tests.api.conftest import Tenant, assert_problem, bad_token, needs_email, paced


def _fail(acme: Tenant, doc: dict[str, Any]) -> dict[str, Any]:
    acme.apply(doc)
    r = acme.post(f"/api/v1/workflows/{doc['name']}/run", params={"wait": "true"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _proposal(acme: Tenant) -> dict[str, Any]:
    fixes = acme.get("/api/v1/fixes", params={"status": "proposed"}).json()
    assert len(fixes) == 1
    fix: dict[str, Any] = fixes[0]
    return fix


def test_a_yellow_proposal_approved_with_a_value_heals_the_workflow(
    acme: Tenant, fault_server: FaultServer
) -> None:
    run = _fail(acme, needs_email(fault_server))
    assert run["status"] == "failed" and run["workflow_state"] == "needs_attention"
    fix = _proposal(acme)
    assert fix["safety"] == "YELLOW" and fix["error_class"] == "missing_required_field"
    # Nothing to guess from: no empty default, the proposal asks for the value (#14).
    assert fix["diff"] == [
        {"path": "steps.upsert.defaults.json.email", "before": None, "after": None}
    ]
    assert (fix["patch"][0]["field"], fix["patch"][0]["value"]) == ("json.email", None)

    r = acme.post(f"/api/v1/fixes/{fix['id'][:8]}/approve", json={"value": "ana@example.com"})
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["workflow_state"] == "active" and decision["rerun_status"] == "succeeded"
    assert decision["fix"]["status"] == "approved" and decision["fix"]["outcome"] == "succeeded"
    assert decision["fix"]["decided_by"].startswith("apikey:")

    again = acme.post(f"/api/v1/fixes/{fix['id']}/approve")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    detail = acme.get(f"/api/v1/fixes/{fix['id']}").json()
    assert [a["kind"] for a in detail["audit"]][-2:] == ["approved", "verified"]


def test_approve_without_wait_schedules_the_rerun(acme: Tenant, fault_server: FaultServer) -> None:
    _fail(acme, needs_email(fault_server))
    fix = _proposal(acme)
    r = acme.post(
        f"/api/v1/fixes/{fix['id']}/approve", params={"wait": "false"}, json={"value": "a@b.c"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["workflow_state"] == "fixing" and body["rerun_status"] is None
    rerun = acme.get(f"/api/v1/executions/{body['rerun_execution_id']}").json()
    assert rerun["status"] == "waiting" and rerun["trigger"] == "heal"


def test_reject_keeps_the_workflow_needing_attention(
    acme: Tenant, fault_server: FaultServer
) -> None:
    _fail(acme, needs_email(fault_server))
    fix = _proposal(acme)
    r = acme.post(f"/api/v1/fixes/{fix['id']}/reject", json={"reason": "wrong field"})
    assert r.status_code == 200
    assert r.json()["fix"]["status"] == "rejected"
    assert r.json()["workflow_state"] == "needs_attention"
    assert acme.post(f"/api/v1/fixes/{fix['id']}/reject").status_code == 409


def test_rollback_restores_the_previous_config_as_a_new_version(
    acme: Tenant, fault_server: FaultServer
) -> None:
    run = _fail(acme, paced(fault_server))
    assert run["healing"] == ["rerun", "verified"]
    fix = acme.get("/api/v1/fixes").json()[0]
    assert fix["status"] == "applied" and fix["to_version"] == 2
    r = acme.post(f"/api/v1/fixes/{fix['id']}/rollback", json={"reason": "too slow"})
    assert r.status_code == 200 and r.json()["fix"]["status"] == "rolled_back"
    history = acme.get("/api/v1/workflows/gmail-digest").json()["config_history"]
    assert history[-1]["config"]["request_delay"] == history[0]["config"]["request_delay"]
    assert history[-1]["reason"].startswith("rollback of fix")
    assert acme.post(f"/api/v1/fixes/{fix['id']}/rollback").status_code == 409
    trail = acme.get("/api/v1/audit", params={"workflow": "gmail-digest"}).json()
    kinds = [a["kind"] for a in trail]
    assert kinds[0] == "rollback" and "fix_applied" in kinds and "diagnosis" in kinds


def test_red_failures_get_no_fix_and_need_attention(
    acme: Tenant, fault_server: FaultServer
) -> None:
    run = _fail(acme, bad_token(fault_server))
    assert run["healing"] == ["needs_attention"] and run["workflow_state"] == "needs_attention"
    assert acme.get("/api/v1/fixes").json() == []
    audit = acme.get("/api/v1/audit").json()
    assert [a["kind"] for a in audit] == ["needs_attention", "diagnosis"]


def test_unknown_fix_ids_are_404(acme: Tenant) -> None:
    for action in ("approve", "reject", "rollback"):
        r = acme.post(f"/api/v1/fixes/00000000-0000-0000-0000-000000000000/{action}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert acme.get("/api/v1/fixes/abc").status_code == 404


def test_kill_switch_blocks_automatic_fixes_and_stops_fixes_in_flight(
    acme: Tenant, fault_server: FaultServer
) -> None:
    assert acme.get("/api/v1/killswitch").json()["enabled"] is False
    on = acme.put("/api/v1/killswitch", json={"enabled": True, "reason": "incident 42"})
    assert on.status_code == 200 and on.json() == {
        "enabled": True,
        "scope": "tenant",
        "reason": "incident 42",
        "stopped_fixes": [],
    }
    run = _fail(acme, paced(fault_server))
    assert run["status"] == "failed" and run["healing"] == ["blocked"]
    assert acme.get("/api/v1/fixes").json()[0]["status"] == "blocked"
    off = acme.put("/api/v1/killswitch", json={"enabled": False})
    assert off.json()["enabled"] is False
    assert acme.put("/api/v1/killswitch", json={"enabled": "maybe"}).status_code == 422


def test_a_blocked_fix_is_retried_once_the_kill_switch_is_off(
    acme: Tenant, fault_server: FaultServer
) -> None:
    acme.put("/api/v1/killswitch", json={"enabled": True, "reason": "incident 43"})
    run = _fail(acme, paced(fault_server))
    assert run["healing"] == ["blocked"] and run["workflow_state"] == "needs_attention"
    [blocked] = acme.get("/api/v1/fixes").json()
    refused = acme.post(f"/api/v1/fixes/{blocked['id'][:8]}/retry")
    assert refused.status_code == 409
    problem = assert_problem(refused, "conflict")
    assert "still blocked (kill_switch)" in problem["detail"] and "43" in problem["detail"]
    assert acme.get("/api/v1/fixes").json()[0]["status"] == "blocked"  # nothing changed

    acme.put("/api/v1/killswitch", json={"enabled": False})
    r = acme.post(f"/api/v1/fixes/{blocked['id']}/retry")
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["workflow_state"] == "active" and decision["rerun_status"] == "succeeded"
    assert decision["fix"]["id"] != blocked["id"] and decision["fix"]["status"] == "applied"
    old = acme.get(f"/api/v1/fixes/{blocked['id']}").json()
    assert old["status"] == "superseded"
    [retried] = [a for a in old["audit"] if a["kind"] == "fix_retried"]
    assert retried["actor"].startswith("apikey:")
    again = acme.post(f"/api/v1/fixes/{blocked['id']}/retry")
    assert again.status_code == 409 and "not blocked" in assert_problem(again)["detail"]


def test_fixes_filter_by_the_status_words_the_rows_hold(acme: Tenant) -> None:
    # FixStatus members equal the stored strings: every documented status filters (no row
    # needed a migration); a word that is no status is a 422 problem naming it, not [].
    for status in FixStatus:
        r = acme.get("/api/v1/fixes", params={"status": status})
        assert r.status_code == 200 and r.json() == [], (status, r.text)
    bad = acme.get("/api/v1/fixes", params={"status": "fixed"})
    assert bad.status_code == 422
    assert "status" in str(assert_problem(bad, "validation_error")["details"])
