"""Delivery rules: retries with backoff, failures that never raise, quiet duplicates,
routing, and re-sending what failed."""

from __future__ import annotations

import pytest

import kyra.notify
from kyra.app import Kyra
from kyra.clock import ManualClock
from kyra.healing.events import HealEvent
from kyra.i18n import missing_translations
from kyra.notify import EVENT_KINDS, ChannelConfigError, Notifier, NotifySettings, parse_events
from kyra.notify.messages import LABELS, TITLES
from kyra.notify.routing import parse_config
from kyra.store import notify as notify_store
from kyra.store import secrets as secret_store
from tests.notify.conftest import add_channel, add_email, add_webhook
from tests.servers.smtp import SmtpTestServer
from tests.servers.webhook import WebhookReceiver


def _event(kyra: Kyra, kind: str, incident: str = "inc-1", fix: str | None = None) -> HealEvent:
    return HealEvent(
        kind=kind,
        tenant_id=kyra.tenant.id,
        workflow_id="wf-1",
        workflow_name="billing",
        at=kyra.clock.now(),
        execution_id=incident,
        incident=incident,
        values={
            "workflow": "billing",
            "step": "charge",
            "error": "HTTP 503",
            "reason": "x",
            "fix": fix or "-",
        },
    )


def test_a_failing_webhook_is_retried_with_backoff_and_delivered(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier, clock: ManualClock
) -> None:
    add_webhook(kyra, webhook_receiver)
    webhook_receiver.respond(500, "boom")
    webhook_receiver.respond(500, "boom")

    (result,) = notifier.notify(_event(kyra, "failure_detected"))

    assert (result.status, result.attempts) == ("sent", 3)
    assert len(webhook_receiver.requests) == 3
    assert len({r.headers["x-kyra-delivery"] for r in webhook_receiver.requests}) == 1
    first, second = clock.slept
    assert 0.5 <= first <= 0.55 and 1.0 <= second <= 1.1, "exponential, with a little jitter"


def test_retry_after_is_honoured_within_the_cap(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier, clock: ManualClock
) -> None:
    add_channel(kyra, "slack", url=f"{webhook_receiver.url}/slack")
    webhook_receiver.respond(429, "rate_limited", headers={"Retry-After": "3"})

    (result,) = notifier.notify(_event(kyra, "needs_attention"))

    assert result.status == "sent" and clock.slept == [3.0]


def test_a_channel_that_always_fails_never_raises_and_is_recorded(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_webhook(kyra, webhook_receiver)
    webhook_receiver.default_reply = type(webhook_receiver.default_reply)(503, "down")

    notifier.on_heal_event(_event(kyra, "failure_detected"))  # the HealListener entry point

    (delivery,) = notify_store.list_deliveries(kyra.store, kyra.tenant.id)
    assert delivery.status == "failed" and delivery.attempts == 3
    assert "the webhook answered HTTP 503: down" in delivery.last_error
    assert webhook_receiver.url not in delivery.last_error, "URLs may be credentials"


def test_a_client_error_is_not_retried(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_channel(kyra, "slack", url=f"{webhook_receiver.url}/slack")
    webhook_receiver.respond(404, "no_service")

    (result,) = notifier.notify(_event(kyra, "needs_attention"))

    assert (result.status, result.attempts) == ("failed", 1)
    assert "HTTP 404: no_service" in result.error


def test_smtp_rejection_is_a_failed_delivery_not_an_exception(
    kyra: Kyra, smtp_server: SmtpTestServer, notifier: Notifier
) -> None:
    add_email(kyra, smtp_server)
    smtp_server.behaviour.reject_all_recipients = "550 5.1.1 No such user"

    (result,) = notifier.notify(_event(kyra, "failure_detected"))

    assert (result.status, result.attempts) == ("failed", 1)
    assert "550" in result.error


def test_duplicates_of_one_stage_are_collapsed_across_notifiers(
    kyra: Kyra,
    webhook_receiver: WebhookReceiver,
    smtp_server: SmtpTestServer,
    notify_settings: NotifySettings,
) -> None:
    add_webhook(kyra, webhook_receiver)
    add_email(kyra, smtp_server)
    first, second = Notifier(kyra, notify_settings), Notifier(kyra, notify_settings)
    event = _event(kyra, "failure_detected")

    sent = first.notify(event)
    again = first.notify(event)
    other_process = second.notify(event)

    assert [r.status for r in sent] == ["sent", "sent"]
    assert [r.status for r in again + other_process] == ["duplicate"] * 4
    assert len(webhook_receiver.requests) == 1 and len(smtp_server.messages) == 1


def test_a_new_round_of_the_same_incident_is_a_new_message_in_the_thread(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_webhook(kyra, webhook_receiver)
    first = _event(kyra, "diagnosed")
    later = HealEvent(**{**first.__dict__, "execution_id": "rerun-2"})

    results = notifier.notify(first) + notifier.notify(later)

    assert [r.status for r in results] == ["sent", "sent"]
    assert {r.json["incident"] for r in webhook_receiver.requests} == {"inc-1"}


def test_routing_sends_only_the_configured_kinds(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier
) -> None:
    add_channel(
        kyra,
        "slack",
        name="fixed-only",
        url=f"{webhook_receiver.url}/fixed",
        events=parse_events(["verified"]),
    )
    add_channel(kyra, "teams", name="defaults", url=f"{webhook_receiver.url}/defaults")
    pagerduty = add_channel(kyra, "pagerduty", routing_key_secret="PD_KEY")

    for kind in EVENT_KINDS:
        notifier.notify(_event(kyra, kind))

    seen: dict[str, int] = {}
    for request in webhook_receiver.requests:
        seen[request.path] = seen.get(request.path, 0) + 1
    assert seen["/fixed"] == 1
    assert seen["/defaults"] == 11  # user-flow stages, recovery, at_risk, host incidents
    # EVENT_KINDS lists `verified` before `needs_attention`: nothing to resolve yet; the
    # later `recovered` resolves the alert.
    pd = [r.json for r in webhook_receiver.requests if r.path.startswith("/pagerduty")]
    assert [p["event_action"] for p in pd] == ["trigger", "resolve"]
    rows = notify_store.list_deliveries(kyra.store, kyra.tenant.id, channel_id=pagerduty.id)
    assert [(d.event_kind, d.status) for d in rows] == [
        ("verified", "skipped"),
        ("needs_attention", "sent"),
        ("recovered", "sent"),
    ]


def test_failed_deliveries_are_sent_later_by_retry_failed(
    kyra: Kyra, webhook_receiver: WebhookReceiver, notifier: Notifier, clock: ManualClock
) -> None:
    add_channel(kyra, "webhook", url=f"{webhook_receiver.url}/h", signing_secret="LATER_KEY")

    (missing,) = notifier.notify(_event(kyra, "failure_detected"))
    assert missing.status == "failed" and "LATER_KEY" in missing.error
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "LATER_KEY", "k")
    for _ in range(3):
        webhook_receiver.respond(502, "bad gateway")
    (down,) = notifier.notify(_event(kyra, "needs_attention"))
    (skipped,) = notifier.notify(_event(kyra, "verified"))
    assert down.status == "failed" and skipped.attempts == 0, "circuit open: not even tried"

    results = notifier.retry_failed()

    assert [r.status for r in results] == ["sent", "sent", "sent"]
    assert [r.json["event"] for r in webhook_receiver.requests[3:]] == [
        "failure_detected",
        "needs_attention",
        "verified",
    ]
    assert notifier.retry_failed() == []
    assert {d.status for d in notify_store.list_deliveries(kyra.store, kyra.tenant.id)} == {"sent"}


def test_config_is_validated_when_added() -> None:
    with pytest.raises(ChannelConfigError, match="url_secret"):
        parse_config("slack", {"url": "http://x", "url_secret": "SLACK"})
    with pytest.raises(ChannelConfigError, match="Extra inputs"):
        parse_config("webhook", {"url": "http://x", "signing_secret": "K", "password": "p"})
    with pytest.raises(ChannelConfigError, match="unknown channel kind"):
        parse_config("fax", {})
    with pytest.raises(ChannelConfigError, match="did you mean 'verified'"):
        parse_events(["verfied"])
    assert parse_events(["all"]) == list(EVENT_KINDS)


def test_every_text_has_both_languages_and_every_event_a_title() -> None:
    assert missing_translations(TITLES) == [] and missing_translations(LABELS) == []
    assert set(EVENT_KINDS) <= set(TITLES)


def test_the_public_api_is_pinned() -> None:
    assert sorted(kyra.notify.__all__) == [
        "CHANNEL_KINDS",
        "ChannelConfigError",
        "DEFAULT_EVENTS",
        "DeliveryResult",
        "EVENT_KINDS",
        "Notification",
        "Notifier",
        "NotifySettings",
        "parse_config",
        "parse_events",
        "sign",
        "verify_signature",
    ]
