"""`GET /api/v1/executions/{id}` carries the diagnosis, with the root cause of an error
chain: step 1 got null from a real upstream, step 2 failed using it."""

from __future__ import annotations

from kyra.demo import FaultServer
from tests.api.conftest import Tenant
from tests.servers.webhook import CannedReply, WebhookReceiver


def test_the_execution_names_the_step_whose_output_broke_the_run(
    acme: Tenant, rival: Tenant, fault_server: FaultServer, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.default_reply = CannedReply(200, "null", "application/json")
    acme.apply(
        {
            "name": "enrich",
            "steps": [
                {
                    "name": "lookup",
                    "action": "http_request",
                    "with": {"url": f"{webhook_receiver.url}/people/7"},
                },
                {
                    "name": "send",
                    "action": "http_request",
                    "with": {
                        "url": f"{fault_server.url}/ok",
                        "method": "POST",
                        "json": {"email": "{{ steps.lookup.output.json.email }}"},
                    },
                },
            ],
        }
    )
    run = acme.post("/api/v1/workflows/enrich/run", params={"wait": "true"}).json()
    detail = acme.get(f"/api/v1/executions/{run['execution_id']}").json()
    assert detail["failed_step"] == "send"
    assert detail["diagnosis"]["root_cause"] == {
        "step": "lookup",
        "path": "steps.lookup.output.json",
        "reason": "null",
        "found": "null",
        "field": "json.email",
    }
    assert rival.get(f"/api/v1/executions/{run['execution_id']}").status_code == 404
