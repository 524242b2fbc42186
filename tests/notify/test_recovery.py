"""Recovery closes the incident (#14): a workflow that needed attention and then runs
cleanly again resolves its PagerDuty alert and says "resolved" in the incident's thread."""

from __future__ import annotations

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.healing.driver import DriveResult, HealingDriver
from kyra.healing.factory import make_healer
from kyra.notify import Notifier
from kyra.service import apply_workflow
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.workflows.model import Workflow
from tests.notify.conftest import ROUTING_KEY, add_channel, add_webhook
from tests.servers.webhook import CannedReply, WebhookReceiver


def test_a_clean_run_after_attention_resolves_the_incident(
    kyra: Kyra, fault_server: FaultServer, notifier: Notifier, webhook_receiver: WebhookReceiver
) -> None:
    add_channel(kyra, "pagerduty", routing_key_secret="PD_KEY")
    add_webhook(kyra, webhook_receiver)
    webhook_receiver.default_reply = CannedReply(
        202, '{"status":"success","message":"Event processed"}', "application/json"
    )
    doc = {
        "name": "sync",
        "inputs": {"url": "x"},
        "config": {"retry": {"max_retries": 0}},
        "steps": [{"name": "get", "action": "http_request", "with": {"url": "{{ inputs.url }}"}}],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    healer = make_healer(kyra, [notifier])

    def run(path: str) -> DriveResult:
        fresh = wf_store.get_workflow_by_id(kyra.store, record.id)
        return HealingDriver(kyra, healer).run(fresh, {"url": f"{fault_server.url}{path}"})

    failed = run("/auth?token=T")
    assert failed.outcomes[-1].action == "needs_attention"
    incident = failed.final.execution_id
    pages = [r.json for r in webhook_receiver.requests if r.path.startswith("/pagerduty")]
    assert [(p["event_action"], p["dedup_key"]) for p in pages] == [("trigger", incident)]

    # The person fixes the credential upstream; the next run succeeds.
    ok = run("/ok")
    assert ok.final.succeeded
    assert wf_store.get_workflow_by_id(kyra.store, record.id).state == "active"
    pages = [r.json for r in webhook_receiver.requests if r.path.startswith("/pagerduty")]
    assert pages[-1] == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": incident,
    }
    [hook] = [
        r.json
        for r in webhook_receiver.requests
        if r.path == "/hooks/kyra" and r.json["event"] == "recovered"
    ]
    assert hook["incident"] == incident and "resolved" in hook["title"]
    kinds = [
        a.kind for a in heal_store.list_audit(kyra.store, kyra.tenant.id, workflow_id=record.id)
    ]
    assert "recovered" in kinds

    # A further clean run is the usual case: nothing more is sent.
    sent = len(webhook_receiver.requests)
    assert run("/ok").final.succeeded
    assert len(webhook_receiver.requests) == sent
