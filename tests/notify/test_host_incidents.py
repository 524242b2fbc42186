"""Incidents across workflows with real upstreams: workflows failing on one host within
the window become one incident on one notification thread, the host named as the
common cause, resolved by a later success on that host."""

from __future__ import annotations

from typing import Any

from kyra.app import Kyra
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.engine.events import RunResult
from kyra.predict.risk import active_risks
from kyra.service import apply_workflow
from kyra.store import incidents as incident_store
from kyra.store import workflows as wf_store
from kyra.workflows.model import Workflow
from tests.notify.conftest import add_webhook
from tests.servers.webhook import WebhookReceiver


def _run(kyra: Kyra, name: str, url: str, **extra: Any) -> RunResult:
    doc = {
        "name": name,
        "steps": [{"name": "call", "action": "http_request", "with": {"url": url, **extra}}],
    }
    try:
        record = wf_store.get_workflow(kyra.store, kyra.tenant.id, name)
    except Exception:
        record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return kyra.executor().run(record)


def _sent(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [r.json for r in receiver.requests if r.path == "/hooks/kyra"]


def test_failures_on_one_host_become_one_incident_resolved_when_the_host_recovers(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver
) -> None:
    add_webhook(kyra, webhook_receiver)
    host = fault_server.url.split("//")[1]
    # status-page calls the same host and works (for now).
    assert _run(kyra, "status-page", f"{fault_server.url}/ok").status == "succeeded"
    assert _run(kyra, "billing", f"{fault_server.url}/status/503").status == "failed"
    assert incident_store.list_incidents(kyra.store, kyra.tenant.id) == []
    assert _sent(webhook_receiver) == []
    assert _run(kyra, "crm-sync", f"{fault_server.url}/status/502").status == "failed"
    assert _run(kyra, "billing", f"{fault_server.url}/status/503").status == "failed"

    [incident] = incident_store.list_incidents(kyra.store, kyra.tenant.id)
    assert (incident.host, incident.status) == (host, "open")
    assert incident.workflows == ["billing", "crm-sync"] and incident.failure_count == 3
    opened = _sent(webhook_receiver)
    assert [m["event"] for m in opened] == ["host_incident"]
    assert opened[0]["incident"] == f"host:{incident.id}"
    assert host in opened[0]["text"] and "billing, crm-sync" in opened[0]["text"]

    # A workflow that calls the host and has not failed yet is at risk meanwhile.
    [risk] = [r for r in active_risks(kyra.store, kyra.tenant.id) if r.kind == "host_incident"]
    assert (risk.workflow, risk.subject) == ("status-page", f"host:{host}")
    assert risk.reason.text("en").startswith(f"it calls {host}, which is failing other")
    assert risk.reason.text("es").startswith(f"llama a {host}, que está haciendo fallar")

    assert _run(kyra, "status-page", f"{fault_server.url}/ok").status == "succeeded"
    assert [r for r in active_risks(kyra.store, kyra.tenant.id) if r.kind == "host_incident"] == []
    shown = incident_store.get_incident(kyra.store, kyra.tenant.id, incident.id[:8])
    assert shown.status == "resolved" and shown.resolved_at is not None
    assert [f.error[:8] for f in shown.failures] == ["HTTP 503", "HTTP 502", "HTTP 503"]
    assert shown.resolved_by is not None
    messages = _sent(webhook_receiver)
    assert [m["event"] for m in messages] == ["host_incident", "host_recovered"]
    assert {m["incident"] for m in messages} == {f"host:{incident.id}"}
    # A later success does not announce it twice.
    assert _run(kyra, "status-page", f"{fault_server.url}/ok").status == "succeeded"
    assert len(_sent(webhook_receiver)) == 2


def test_only_host_trouble_in_one_window_opens_an_incident(
    kyra: Kyra, clock: ManualClock, fault_server: FaultServer, closed_port: int
) -> None:
    # Requests the host rejected (400) say nothing about the host.
    for name in ("a", "b"):
        result = _run(
            kyra, name, f"{fault_server.url}/require?fields=email", method="POST", json={}
        )
        assert result.status == "failed"
    # Two workflows down on one host, but further apart than the window.
    down = f"http://127.0.0.1:{closed_port}/v1"
    assert _run(kyra, "c", down).status == "failed"
    clock.advance(kyra.settings.incident_window_seconds + 1)
    assert _run(kyra, "d", down).status == "failed"
    assert incident_store.list_incidents(kyra.store, kyra.tenant.id) == []
    # Within the window: one incident, the refused connections named as the cause.
    assert _run(kyra, "e", down).status == "failed"
    [incident] = incident_store.list_incidents(kyra.store, kyra.tenant.id, status="open")
    assert incident.host == f"127.0.0.1:{closed_port}"
    assert incident.workflows == ["d", "e"]
