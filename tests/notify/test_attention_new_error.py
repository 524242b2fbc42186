"""A workflow that already needs attention keeps failing (#14): the same error again is
quiet, a different one is diagnosed and reaches the channels, never dropped in silence."""

from __future__ import annotations

import json

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.healing.driver import HealingDriver
from kyra.healing.factory import make_healer
from kyra.notify import Notifier
from kyra.service import apply_workflow
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.workflows.model import Workflow
from tests.notify.conftest import add_webhook
from tests.servers.webhook import WebhookReceiver


def _events(receiver: WebhookReceiver) -> list[str]:
    """Healing events (`at_risk` is the predictor's, about the rising error rate)."""
    return [
        r.json["event"]
        for r in receiver.requests
        if r.path == "/hooks/kyra" and r.json["event"] != "at_risk"
    ]


def test_a_new_error_class_on_a_waiting_workflow_is_diagnosed_and_notified(
    kyra: Kyra, fault_server: FaultServer, notifier: Notifier, webhook_receiver: WebhookReceiver
) -> None:
    add_webhook(kyra, webhook_receiver)
    doc = {
        "name": "sync",
        "inputs": {"url": "x"},
        "config": {"retry": {"max_retries": 0}},
        "steps": [
            {
                "name": "post",
                "action": "http_request",
                "with": {
                    "url": "{{ inputs.url }}",
                    "method": "POST",
                    "json": {"due": "26/11/2026"},
                },
            }
        ],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    healer = make_healer(kyra, [notifier])
    auth = {"url": f"{fault_server.url}/auth?token=T"}
    dates = {"url": f"{fault_server.url}/dates?format=%Y-%m-%d&field=due"}

    def run(inputs: dict[str, str]) -> str:
        drive = HealingDriver(kyra, healer).run(record, inputs)
        assert not drive.final.succeeded
        return drive.outcomes[-1].action

    assert run(auth) == "needs_attention"  # RED: a person must act
    first = _events(webhook_receiver)
    assert first[-1] == "needs_attention"

    assert run(auth) == "skipped"  # the same error: no second alarm
    assert _events(webhook_receiver) == first

    assert run(dates) == "needs_attention"  # a new error class: diagnosed and announced
    new = _events(webhook_receiver)[len(first) :]
    assert new == ["failure_detected", "diagnosed", "needs_attention"]
    text = json.dumps([r.json for r in webhook_receiver.requests[-2:]])
    assert "invalid_date_format" in text and "a new error" in text
    assert wf_store.get_workflow_by_id(kyra.store, record.id).state == "needs_attention"
    audit = heal_store.list_audit(kyra.store, kyra.tenant.id, workflow_id=record.id)
    assert [a.details["error_class"] for a in audit if a.kind == "new_error"] == [
        "invalid_date_format"
    ]

    # Both errors are now known: neither alarms again while it waits.
    seen = _events(webhook_receiver)
    assert run(dates) == "skipped" and run(auth) == "skipped"
    assert _events(webhook_receiver) == seen
