"""Each channel's documented payload format, checked at a real loopback receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from kyra.app import Kyra
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.healing.events import HealEvent
from kyra.notify import Notifier, sign, verify_signature
from kyra.store import healing as heal_store
from tests.notify.conftest import (
    DASHBOARD,
    ROUTING_KEY,
    SIGNING_KEY,
    add_channel,
    add_email,
    add_webhook,
    dates_workflow,
    heal,
    required_workflow,
    run_rerun,
)
from tests.servers.smtp import SmtpTestServer
from tests.servers.webhook import CannedReply, RecordedRequest, WebhookReceiver


def _event(kyra: Kyra, kind: str, incident: str = "inc-1", **values: Any) -> HealEvent:
    return HealEvent(
        kind=kind,
        tenant_id=kyra.tenant.id,
        workflow_id="wf-1",
        workflow_name="billing",
        at=kyra.clock.now(),
        execution_id=incident,
        incident=incident,
        values={"workflow": "billing", **values},
    )


def _at(receiver: WebhookReceiver, path: str) -> list[RecordedRequest]:
    return [r for r in receiver.requests if r.path == path]


def test_webhook_signature_verifies_with_the_key_and_only_with_it(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier, clock: ManualClock
) -> None:
    add_webhook(kyra, webhook_receiver)

    notifier.notify(_event(kyra, "failure_detected", step="charge", error="HTTP 503"))

    (request,) = webhook_receiver.requests
    h = request.headers
    msg_id, ts, signature = h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"]
    now = clock.now().timestamp()
    assert ts == str(int(now))
    # Standard Webhooks, computed here as a receiver would: v1,<base64 HMAC(id.ts.body)>
    mac = hmac.new(SIGNING_KEY.encode(), f"{msg_id}.{ts}.".encode() + request.body, hashlib.sha256)
    expected = "v1," + base64.b64encode(mac.digest()).decode()
    assert signature == expected == sign(SIGNING_KEY, msg_id, ts, request.body)
    assert verify_signature(SIGNING_KEY, request.body, h, now=now) == msg_id
    assert verify_signature("another-key", request.body, h, now=now) is None
    assert verify_signature(SIGNING_KEY, request.body + b" ", h, now=now) is None
    assert verify_signature(SIGNING_KEY, request.body, h, now=now + 301) is None
    assert verify_signature(SIGNING_KEY, request.body, {**h, "webhook-id": "x"}, now=now) is None
    no_ts = {k: v for k, v in h.items() if k != "webhook-timestamp"}
    assert verify_signature(SIGNING_KEY, request.body, no_ts, now=now) is None
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-kyra-event"] == "failure_detected"
    body = request.json
    assert body["version"] == 1 and body["event"] == "failure_detected"
    assert body["incident"] == "inc-1" and body["workflow"] == {"id": "wf-1", "name": "billing"}
    assert body["what_broke"] == {"step": "charge", "error": "HTTP 503"}
    assert body["dashboard_url"] == f"{DASHBOARD}/dashboard/workflows/billing"
    assert request.headers["x-kyra-delivery"] == str(body["delivery"])


def test_slack_blocks_and_teams_card_follow_the_documented_shapes(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_channel(kyra, "slack", url=f"{webhook_receiver.url}/slack", events=["verified"])
    add_channel(kyra, "teams", url=f"{webhook_receiver.url}/teams", events=["verified"])

    heal(kyra, dates_workflow(kyra, fault_server), notifier)

    fix = heal_store.list_fixes(kyra.store, kyra.tenant.id)[0]
    (slack,) = _at(webhook_receiver, "/slack")
    payload = slack.json
    assert payload["text"].startswith("✅ 'invoices' repaired")
    blocks = payload["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "✅ 'invoices' repaired — running normally again",
            "emoji": True,
        },
    }
    assert {b["type"] for b in blocks} <= {"header", "section", "context", "actions"}
    texts = " ".join(b.get("text", {}).get("text", "") for b in blocks if b["type"] == "section")
    assert "*What Kyra changed* (v1 → v2)\n```steps.post.date_normalisers" in texts
    context = " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])
    assert f"`kyra fixes rollback {fix.id[:8]}`" in context
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    button = actions["elements"][0]
    assert button["type"] == "button"
    assert button["url"] == f"{DASHBOARD}/dashboard/workflows/invoices"
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)

    (teams,) = _at(webhook_receiver, "/teams")
    message = teams.json
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["body"][0]["color"] == "Good" and card["body"][0]["weight"] == "Bolder"
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert {"title": "Workflow", "value": "invoices"} in facts
    assert any(
        b.get("fontType") == "Monospace" and "date_normalisers" in b["text"] for b in card["body"]
    )
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in the dashboard",
            "url": f"{DASHBOARD}/dashboard/workflows/invoices",
        }
    ]


def test_teams_relayed_failure_counts_as_a_failure(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_channel(kyra, "teams", url=f"{webhook_receiver.url}/teams")
    relayed = (
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
        "HTTP error 429"
    )
    webhook_receiver.respond(200, relayed)

    (result,) = notifier.notify(_event(kyra, "needs_attention", reason="check the API key"))

    assert result.status == "sent" and result.attempts == 2


def test_pagerduty_triggers_on_attention_and_resolves_when_fixed(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_channel(kyra, "pagerduty", routing_key_secret="PD_KEY", severity="critical")
    webhook_receiver.default_reply = CannedReply(
        202, '{"status":"success","message":"Event processed"}', "application/json"
    )

    notifier.notify(_event(kyra, "failure_detected", step="charge", error="HTTP 401"))
    notifier.notify(_event(kyra, "needs_attention", step="charge", reason="reconnect"))
    notifier.notify(_event(kyra, "verified", fix="0123abcd"))

    trigger, resolve = (r.json for r in webhook_receiver.requests)
    assert trigger["routing_key"] == ROUTING_KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == "inc-1"
    payload = trigger["payload"]
    assert payload["severity"] == "critical" and payload["source"] == "kyra/billing"
    assert payload["summary"].startswith("'billing' needs your attention: ")
    assert len(payload["summary"]) <= 1024
    assert payload["custom_details"]["what_broke"] == {"step": "charge", "error": None}
    assert trigger["links"] == [
        {"href": f"{DASHBOARD}/dashboard/workflows/billing", "text": "Open in the dashboard"}
    ]
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "inc-1"}


def test_pagerduty_follows_a_proposal_through_approval_to_the_fix(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_channel(
        kyra, "pagerduty", routing_key_secret="PD_KEY", events=["proposed", "approved", "verified"]
    )
    healer, drive = heal(kyra, required_workflow(kyra, fault_server), notifier)
    assert drive.outcomes[-1].action == "proposed"

    outcome = healer.approve(drive.outcomes[-1].fix_id or "", value="ana@example.com")
    run_rerun(kyra, healer, outcome.rerun_execution_id)

    actions = [(r.json["event_action"], r.json["dedup_key"]) for r in webhook_receiver.requests]
    incident = drive.results[0].execution_id
    assert actions == [("trigger", incident), ("acknowledge", incident), ("resolve", incident)]
    assert "steps.post.defaults.json.email" in str(
        webhook_receiver.requests[0].json["payload"]["custom_details"]["changes"]
    )


def test_email_is_threaded_and_localised_from_plain_events(
    kyra: Kyra, notifier: Notifier, smtp_server: SmtpTestServer
) -> None:
    add_email(kyra, smtp_server, lang="es")
    for kind in ("failure_detected", "needs_attention"):
        notifier.notify(_event(kyra, kind, step="charge", error="HTTP 401", reason="clave"))

    first, second = (m.message for m in smtp_server.messages)
    assert first["Subject"] == "Kyra: billing — 'billing' falló — Kyra está analizando"
    assert second["Subject"] == f"Re: {first['Subject']}"
    assert second["In-Reply-To"] == first["Message-ID"] == "<incident.inc-1@example.com>"
    assert first["Date"] is not None
