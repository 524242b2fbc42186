"""Error chains with real upstreams: step 1 gets null / [] / a string / an object without
the key from a loopback server, step 2 uses it and fails; the diagnosis blames step 1."""

from __future__ import annotations

from typing import Any

import pytest

from kyra.demo import FaultServer
from kyra.store import healing as heal_store
from tests.healing_loop.conftest import Loop, http
from tests.servers.webhook import CannedReply, WebhookReceiver

EMAIL = "{{ steps.fetch.output.json.user.email }}"


def _upstream(receiver: WebhookReceiver, body: str) -> str:
    receiver.default_reply = CannedReply(200, body, "application/json")
    return receiver.url + "/data"


def _run(loop: Loop, name: str, upstream: str, use: dict[str, Any], target: str) -> dict[str, Any]:
    loop.apply(
        {
            "name": name,
            "steps": [
                http("fetch", upstream),
                http("notify", target, method="POST", json=use),
            ],
        }
    )
    drive = loop.run(name)
    assert drive.final.failed_step == "notify"
    diagnosis = heal_store.execution_diagnosis(
        loop.kyra.store, loop.kyra.tenant.id, drive.results[0].execution_id
    )
    assert diagnosis is not None
    return diagnosis


@pytest.mark.parametrize(
    ("body", "use", "cause"),
    [
        (
            "null",
            {"email": EMAIL},
            {"step": "fetch", "path": "steps.fetch.output.json", "reason": "null"},
        ),
        (
            "[]",
            {"sku": "{{ steps.fetch.output.json[0].sku }}"},
            {"step": "fetch", "path": "steps.fetch.output.json", "reason": "empty"},
        ),
        (
            '"maintenance"',
            {"email": EMAIL},
            {"step": "fetch", "path": "steps.fetch.output.json", "reason": "wrong_type"},
        ),
        (
            '{"user": {"id": 7}}',
            {"email": EMAIL},
            {
                "step": "fetch",
                "path": "steps.fetch.output.json.user.email",
                "reason": "missing_key",
            },
        ),
    ],
    ids=["null", "empty_list", "wrong_type", "missing_key"],
)
def test_a_template_fed_by_a_bad_output_names_the_step_that_produced_it(
    loop: Loop,
    webhook_receiver: WebhookReceiver,
    fault_server: FaultServer,
    body: str,
    use: dict[str, Any],
    cause: dict[str, str],
) -> None:
    upstream = _upstream(webhook_receiver, body)
    diagnosis = _run(loop, "chain", upstream, use, fault_server.url + "/ok")
    assert {k: diagnosis["root_cause"][k] for k in cause} == cause
    assert "Root cause: step 'fetch'" in diagnosis["explanation"]


@pytest.mark.parametrize(
    ("body", "use", "cause"),
    [
        (
            '{"user": {"email": null}}',
            {"email": EMAIL},
            {"path": "steps.fetch.output.json.user.email", "reason": "null", "field": "json.email"},
        ),
        (
            '{"user": {"email": ""}}',
            {"email": EMAIL},
            {
                "path": "steps.fetch.output.json.user.email",
                "reason": "empty",
                "field": "json.email",
            },
        ),
        (
            '{"user": {"name": "Ana"}}',
            "{{ steps.fetch.output.json.user }}",
            {"path": "steps.fetch.output.json.user.email", "reason": "missing_key"},
        ),
    ],
    ids=["null_value_sent", "empty_value_sent", "object_without_the_key_sent"],
)
def test_a_value_the_service_rejects_is_traced_to_the_step_that_returned_it(
    loop: Loop,
    webhook_receiver: WebhookReceiver,
    fault_server: FaultServer,
    body: str,
    use: Any,
    cause: dict[str, str],
) -> None:
    upstream = _upstream(webhook_receiver, body)
    diagnosis = _run(loop, "sent", upstream, use, fault_server.url + "/require?fields=email")
    assert diagnosis["error_class"] == "missing_required_field"
    assert diagnosis["root_cause"]["step"] == "fetch"
    assert {k: diagnosis["root_cause"][k] for k in cause} == cause
    # The proposal would patch 'notify'; the fault is in 'fetch', so nothing patches 'notify'.
    fixes = loop.fixes("sent")
    assert all(fix.status != "proposed" for fix in fixes)
    assert loop.workflow("sent").state == "needs_attention"
    assert any(
        "step 'fetch' returned the bad value" in (e.values.get("reason") or "")
        for e in loop.recorder.events
        if e.kind == "needs_attention"
    )


def test_a_good_upstream_or_a_service_outage_has_no_root_cause(
    loop: Loop, webhook_receiver: WebhookReceiver, fault_server: FaultServer
) -> None:
    upstream = _upstream(webhook_receiver, "null")
    down = _run(
        loop,
        "down",
        upstream,
        {"email": "{{ steps.fetch.output.json }}"},
        fault_server.url + "/status/503",
    )
    assert "root_cause" not in down
    upstream = _upstream(webhook_receiver, '{"user": {"email": "a@example.com"}}')
    other = _run(
        loop, "other", upstream, {"email": EMAIL}, fault_server.url + "/require?fields=email,name"
    )
    assert other["error_class"] == "missing_required_field"
    assert "root_cause" not in other
