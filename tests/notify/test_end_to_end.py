"""The whole thread of one incident, from a real failing workflow healed by the real
healer, arriving at real receivers on loopback (aiosmtpd and an HTTP receiver)."""

from __future__ import annotations

from email.message import EmailMessage

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.notify import Notifier, verify_signature
from kyra.store import healing as heal_store
from kyra.store import notify as notify_store
from kyra.store.tenants import set_tenant
from tests.notify.conftest import (
    DASHBOARD,
    SIGNING_KEY,
    add_channel,
    add_email,
    add_webhook,
    dates_workflow,
    heal,
)
from tests.servers.smtp import SmtpTestServer
from tests.servers.webhook import WebhookReceiver


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "both a text and an HTML part"
    return text.get_content(), html.get_content()


def test_auto_fix_sends_one_english_email_thread_with_the_diff(
    kyra: Kyra, fault_server: FaultServer, smtp_server: SmtpTestServer, notifier: Notifier
) -> None:
    add_email(kyra, smtp_server)
    record = dates_workflow(kyra, fault_server)

    _, drive = heal(kyra, record, notifier)

    assert drive.healed
    fix = heal_store.list_fixes(kyra.store, kyra.tenant.id)[0]
    mails = smtp_server.messages
    kinds = [m.message["X-Kyra-Event"] for m in mails]
    assert kinds == ["failure_detected", "diagnosed", "verified"]
    first, diagnosed, fixed = (m.message for m in mails)
    assert first["Subject"] == "Kyra: invoices — 'invoices' failed — Kyra is analysing"
    assert diagnosed["Subject"] == fixed["Subject"] == f"Re: {first['Subject']}"
    root = first["Message-ID"]
    assert root == f"<incident.{fix.execution_id}@example.com>"
    assert diagnosed["In-Reply-To"] == root and diagnosed["References"] == root
    assert fixed["In-Reply-To"] == diagnosed["Message-ID"]
    assert fixed["References"] == f"{root} {diagnosed['Message-ID']}"
    assert mails[0].rcpt_tos == ["ops@example.com"]

    text, html = _parts(first)
    assert "failed at step 'post'" in text and "Invalid date format" in text
    text, html = _parts(diagnosed)
    assert "invalid_date_format" in text and "96%" in text
    text, html = _parts(fixed)
    assert "repaired: the re-run succeeded" in text
    assert "What Kyra changed (v1 → v2):" in text
    assert (
        'steps.post.date_normalisers: (unset) → [{"field": "json.due", "format": "%Y-%m-%d"}]'
        in text
    )
    assert f"How to undo: Run `kyra fixes rollback {fix.id[:8]}`" in text
    assert f"{DASHBOARD}/dashboard/workflows/invoices" in text
    assert "What broke: step 'post' — HTTP 400" in text
    assert "<h3>What Kyra changed (v1 → v2)</h3>" in html
    assert "steps.post.date_normalisers" in html and "%Y-%m-%d" in html
    assert f"kyra fixes rollback {fix.id[:8]}" in html
    assert f'href="{DASHBOARD}/dashboard/workflows/invoices"' in html
    assert "&#34;field&#34;" in html or "&quot;field&quot;" in html, "values are escaped"


def test_spanish_tenant_gets_the_thread_in_spanish(
    kyra: Kyra, fault_server: FaultServer, smtp_server: SmtpTestServer, notifier: Notifier
) -> None:
    set_tenant(kyra.store, kyra.tenant.name, lang="es")
    add_email(kyra, smtp_server)

    _, drive = heal(kyra, dates_workflow(kyra, fault_server), notifier)

    assert drive.healed
    first, _, fixed = (m.message for m in smtp_server.messages)
    assert first["Subject"] == "Kyra: invoices — 'invoices' falló — Kyra está analizando"
    text, _ = _parts(first)
    assert "falló en el paso 'post'" in text and "Qué falló: paso 'post'" in text
    text, html = _parts(fixed)
    assert "reparado: la nueva ejecución funcionó" in text
    assert "Qué cambió Kyra (v1 → v2):" in text and "(sin valor)" in text
    assert "Cómo deshacerlo: Ejecuta `kyra fixes rollback" in text
    assert "Abrir en el dashboard" in html and 'lang="es"' in html


def test_every_channel_hears_about_the_incident_and_healing_is_untouched(
    kyra: Kyra,
    fault_server: FaultServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
    notifier: Notifier,
    closed_port: int,
) -> None:
    add_email(kyra, smtp_server)
    add_webhook(kyra, webhook_receiver)
    add_channel(kyra, "slack", url=f"{webhook_receiver.url}/slack")
    add_channel(kyra, "teams", url=f"{webhook_receiver.url}/teams")
    add_channel(kyra, "pagerduty", routing_key_secret="PD_KEY")
    add_channel(
        kyra,
        "webhook",
        name="dead",
        url=f"http://127.0.0.1:{closed_port}/x",
        signing_secret="HOOK_KEY",
    )

    _, drive = heal(kyra, dates_workflow(kyra, fault_server), notifier)

    assert drive.healed, "a dead channel never breaks healing"
    by_path: dict[str, list[str]] = {}
    for request in webhook_receiver.requests:
        by_path.setdefault(request.path, []).append(request.json.get("event", "-"))
    webhook_events = [r.json["event"] for r in webhook_receiver.requests if r.path == "/hooks/kyra"]
    assert webhook_events == [
        "failure_detected",
        "diagnosed",
        "fix_applied",
        "rerun_scheduled",
        "verified",
    ]
    assert len(by_path["/slack"]) == 3 and len(by_path["/teams"]) == 3
    assert "/pagerduty/v2/enqueue" not in by_path, "nothing to page about: Kyra fixed it"
    assert len(smtp_server.messages) == 3
    for request in webhook_receiver.requests:
        if request.path == "/hooks/kyra":
            assert verify_signature(
                SIGNING_KEY, request.body, request.headers, now=kyra.clock.now().timestamp()
            )
    deliveries = notify_store.list_deliveries(kyra.store, kyra.tenant.id)
    dead = notify_store.get_channel(kyra.store, kyra.tenant.id, "dead")
    failed = [d for d in deliveries if d.channel_id == dead.id]
    assert {d.status for d in failed} == {"failed"}
    assert failed[0].attempts == 3 and "could not reach the webhook" in failed[0].last_error
    assert all(d.attempts == 0 for d in failed[1:]), "the open circuit skips a dead channel"
    assert len({d.incident for d in deliveries}) == 1, "one incident, one thread"
    pd = notify_store.get_channel(kyra.store, kyra.tenant.id, "pagerduty")
    assert [d.status for d in deliveries if d.channel_id == pd.id] == ["skipped"]
