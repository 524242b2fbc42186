"""`POST /api/v1/workflows?replace=true` keeps Kyra's fixes that still fit and says which
(#14 item 3); the kept ones are re-applied on the new definition."""

from __future__ import annotations

import copy
from typing import Any

from kyra.demo import FaultServer
from tests.api.conftest import Tenant


def _dated(server: FaultServer) -> dict[str, Any]:
    return {
        "name": "invoices",
        "inputs": {"due": "26/11/2026"},
        "steps": [
            {
                "name": "call",
                "action": "http_request",
                "with": {
                    "url": f"{server.url}/dates?format=%Y-%m-%d&field=due",
                    "method": "POST",
                    "json": {"due": "{{ inputs.due }}", "amount": 10},
                },
            }
        ],
    }


def test_replace_over_the_api_reports_kept_and_retired_fixes(
    acme: Tenant, fault_server: FaultServer
) -> None:
    doc = _dated(fault_server)
    acme.apply(doc)
    run = acme.post("/api/v1/workflows/invoices/run", params={"wait": "true"})
    assert run.status_code == 200, run.text
    [fix] = acme.get("/api/v1/fixes").json()
    assert fix["status"] == "applied"

    edited = copy.deepcopy(doc)
    edited["description"] = "edited by a person"
    kept = acme.post("/api/v1/workflows", json={"definition": edited, "replace": True})
    assert kept.status_code == 200, kept.text
    assert [k["fix_id"] for k in kept.json()["fixes"]["kept"]] == [fix["id"]]
    config = acme.get("/api/v1/workflows/invoices").json()["config"]
    assert config["steps"]["call"]["date_normalisers"][0]["field"] == "json.due"

    edited["steps"][0]["with"]["json"] = {"amount": 10}
    retired = acme.post("/api/v1/workflows", json={"definition": edited, "replace": True})
    body = retired.json()["fixes"]
    assert body["kept"] == [] and [r["reason_key"] for r in body["retired"]] == ["field_gone"]
    assert acme.get(f"/api/v1/fixes/{fix['id']}").json()["status"] == "retired"
    listed = acme.get("/api/v1/fixes", params={"status": "retired"}).json()
    assert [f["id"] for f in listed] == [fix["id"]]
