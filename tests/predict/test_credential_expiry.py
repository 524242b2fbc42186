"""Credential expiry against real upstreams: a local HTTPS server whose certificate
expires in two days, the fault server announcing a token's expiry in GitHub's header,
and a JWT secret that expires in three days. Each raises "at risk" once (one
notification to a real webhook receiver), is cleared when the credential is renewed,
and never lets the secret's value out."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kyra.actions.http import http_client
from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.predict.credentials import header_expiry, jwt_expiry, oauth_expiry
from kyra.predict.risk import CREDENTIAL_EXPIRY, active_risks
from kyra.service import apply_workflow
from kyra.store import executions as exec_store
from kyra.store import notify as notify_store
from kyra.store import secrets as secret_store
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings
from tests.notify.conftest import SIGNING_KEY, add_webhook
from tests.servers.tls import TlsServer
from tests.servers.webhook import CannedReply, WebhookReceiver


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def make_jwt(expires: datetime, subject: str = "svc-billing-7f3a") -> str:
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64({"sub": subject, "exp": int(expires.timestamp())})
    return f"{header}.{payload}.c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LWt5cmE"


@pytest.fixture
def clock() -> ManualClock:
    # TLS validity is checked against real time: the app's clock starts there too
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def kyra(tmp_path: Path, clock: ManualClock, webhook_receiver: WebhookReceiver) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path)
    app = create_app(settings, clock=clock)
    secret_store.set_secret(app.store, app.box, app.tenant.id, "HOOK_KEY", SIGNING_KEY)
    add_webhook(app, webhook_receiver, events=["at_risk"])
    yield app
    app.close()


def run(kyra: Kyra, doc: dict[str, Any]) -> str:
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc), replace=True)
    eid = exec_store.create_execution(
        kyra.store, tenant_id=kyra.tenant.id, workflow_id=record.id, inputs={}
    )
    result = kyra.executor().execute(eid)
    assert result.status == "succeeded", result
    return eid


def billing(fault_server: FaultServer, secret: str) -> dict[str, Any]:
    """A workflow sending the secret as its bearer token."""
    auth = {"bearer": "{{ secrets." + secret + " }}"}
    url = f"{fault_server.url}/status/200"
    step = {"name": "charge", "action": "http_request", "with": {"url": url, "auth": auth}}
    return {"name": "billing", "steps": [step]}


def at_risk_posts(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [r.json for r in receiver.requests if r.json and r.json.get("event") == "at_risk"]


def test_a_certificate_expiring_in_two_days_warns_once_and_clears_when_renewed(
    kyra: Kyra, webhook_receiver: WebhookReceiver
) -> None:
    with TlsServer(days=2) as server:
        kyra.__dict__["http"] = http_client(verify=server.client_context())
        doc = {
            "name": "invoices",
            "steps": [{"name": "get", "action": "http_request", "with": {"url": server.url}}],
        }
        run(kyra, doc)
        [risk] = active_risks(kyra.store, kyra.tenant.id)
        assert (risk.workflow, risk.kind, risk.subject) == (
            "invoices",
            CREDENTIAL_EXPIRY,
            f"tls:{server.host}",
        )
        expires = f"{server.not_after:%Y-%m-%d %H:%M}"
        assert risk.reason.text("en") == (
            f"the TLS certificate of {server.host} expires on {expires} UTC, in 2 day(s)"
        )
        [post] = at_risk_posts(webhook_receiver)
        assert post["title"] == "'invoices' is at risk: act before it fails"
        assert post["text"] == risk.reason.text("en") and post["status"] == "attention"

        run(kyra, doc)  # the same episode: refreshed, not announced again
        assert len(at_risk_posts(webhook_receiver)) == 1
        assert active_risks(kyra.store, kyra.tenant.id)[0].since == risk.since

        server.renew(days=90)
        run(kyra, doc)
        assert active_risks(kyra.store, kyra.tenant.id) == []


def test_a_certificate_far_from_expiry_raises_nothing(
    kyra: Kyra, webhook_receiver: WebhookReceiver
) -> None:
    with TlsServer(days=30) as server:
        kyra.__dict__["http"] = http_client(verify=server.client_context())
        run(
            kyra,
            {
                "name": "ok",
                "steps": [{"name": "get", "action": "http_request", "with": {"url": server.url}}],
            },
        )
    assert active_risks(kyra.store, kyra.tenant.id) == []
    assert at_risk_posts(webhook_receiver) == []


def test_a_provider_expiry_header_warns_and_its_absence_clears(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver, clock: ManualClock
) -> None:
    expires = (clock.now() + timedelta(days=2, hours=1)).replace(second=0, microsecond=0)
    header = f"GitHub-Authentication-Token-Expiration:{expires:%Y-%m-%d %H:%M:%S} UTC"
    doc: dict[str, Any] = {
        "name": "repo-sync",
        "steps": [
            {
                "name": "get",
                "action": "http_request",
                "with": {"url": f"{fault_server.url}/status/200", "query": {"header": header}},
            }
        ],
    }
    run(kyra, doc)
    [risk] = active_risks(kyra.store, kyra.tenant.id)
    host = fault_server.url.removeprefix("http://")
    assert risk.subject == f"key:{host}"
    assert risk.reason.text("en") == (
        f"{host} says (github-authentication-token-expiration) the credential this workflow "
        f"sends expires on {expires:%Y-%m-%d %H:%M} UTC, in 2 day(s)"
    )
    assert risk.reason.text("es").startswith(f"{host} avisa (github-authentication-token-")
    assert len(at_risk_posts(webhook_receiver)) == 1

    # A rotated token that never expires: GitHub stops sending the header
    doc["steps"][0]["with"] = {"url": f"{fault_server.url}/status/200"}
    run(kyra, doc)
    assert active_risks(kyra.store, kyra.tenant.id) == []


def test_a_jwt_secret_expiring_in_three_days_never_leaks(
    kyra: Kyra,
    fault_server: FaultServer,
    webhook_receiver: WebhookReceiver,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = make_jwt(clock.now() + timedelta(days=3))
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "BILLING_TOKEN", token)
    doc = billing(fault_server, "BILLING_TOKEN")
    with caplog.at_level(logging.DEBUG):
        run(kyra, doc)
    [risk] = active_risks(kyra.store, kyra.tenant.id)
    assert (risk.kind, risk.subject) == (CREDENTIAL_EXPIRY, "secret:BILLING_TOKEN")
    assert risk.reason.key == "credential.jwt"
    assert risk.reason.text("en").startswith("secret BILLING_TOKEN (a JWT) expires on")
    assert risk.reason.text("en").endswith("in 3 day(s)")
    assert risk.reason.text("es").startswith("el secreto BILLING_TOKEN (un JWT) caduca el")
    [post] = at_risk_posts(webhook_receiver)
    assert "BILLING_TOKEN" in post["text"]
    assert "BILLING_TOKEN" in caplog.text  # the warning names the secret...

    # ...and nothing anywhere carries its value, or the parts of it that identify it
    payload = token.split(".")[1]
    risk_json = json.dumps(risk.to_json("en")) + json.dumps(risk.to_json("es"))
    bodies = "".join(r.body.decode() for r in webhook_receiver.requests)
    for leak in (token, payload, "svc-billing-7f3a"):
        assert leak not in risk_json
        assert leak not in bodies
        assert leak not in caplog.text

    # Rotated to a token valid for 60 days: the next run clears the risk
    fresh = make_jwt(clock.now() + timedelta(days=60))
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "BILLING_TOKEN", fresh)
    run(kyra, doc)
    assert active_risks(kyra.store, kyra.tenant.id) == []

    # An expired one reads as expired, and is a new episode (a second notification)
    clock.advance(3600)
    stale = make_jwt(clock.now() - timedelta(hours=2))
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "BILLING_TOKEN", stale)
    run(kyra, doc)
    [risk] = active_risks(kyra.store, kyra.tenant.id)
    assert risk.reason.key == "credential.jwt.expired"
    assert len(at_risk_posts(webhook_receiver)) == 2


def test_the_warning_window_is_a_setting_and_zero_turns_it_off(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    token = make_jwt(datetime.now(UTC) + timedelta(days=3))
    doc = billing(fault_server, "TOKEN")
    for days, expected in ((2.0, 0), (0.0, 0), (4.0, 1)):
        settings = fresh_settings(
            tmp_path,
            database_url=f"sqlite:///{tmp_path / f'kyra-{days}.db'}",
            credential_expiry_warning_days=days,
        )
        with create_app(settings) as app:
            secret_store.set_secret(app.store, app.box, app.tenant.id, "TOKEN", token)
            run(app, doc)
            assert len(active_risks(app.store, app.tenant.id)) == expected, days


def test_expiry_is_read_from_jwts_oauth_objects_and_headers_and_nothing_else() -> None:
    at = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    token = make_jwt(at)
    assert jwt_expiry(token) == at and jwt_expiry(f"Bearer {token}") == at
    assert jwt_expiry("sk_live_51H8xYzAbCdEf") is None
    assert jwt_expiry("a.b.c") is None  # three dotted parts are not yet a JWT
    assert jwt_expiry(f"{_b64({'alg': 'none'})}.{_b64({'sub': 'x'})}.") is None  # no exp
    assert oauth_expiry(json.dumps({"access_token": "x", "expires_at": at.timestamp()})) == at
    assert oauth_expiry(json.dumps({"token": "x", "expiry": "2027-03-01T12:00:00Z"})) == at
    assert (
        oauth_expiry(json.dumps({"access_token": "x", "expires_on": str(int(at.timestamp()))}))
        == at
    )
    assert oauth_expiry(json.dumps({"access_token": token})) == at
    assert oauth_expiry(json.dumps({"expires_at": at.timestamp()})) is None  # not a token
    assert oauth_expiry("{not json") is None
    github = "github-authentication-token-expiration"
    for value in ("2027-03-01 12:00:00 UTC", "2027-03-01 14:00:00 +0200"):
        found = header_expiry({"GitHub-Authentication-Token-Expiration": value})
        assert found is not None and found.at == at and found.header == github
    assert header_expiry({github: "soon"}) is None
    assert header_expiry({"Expires": "Mon, 01 Mar 2027 12:00:00 GMT"}) is None


def test_a_failing_channel_never_fails_the_run_and_the_risk_still_stands(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver, clock: ManualClock
) -> None:
    webhook_receiver.default_reply = CannedReply(status=503, body="down")
    token = make_jwt(clock.now() + timedelta(days=2))
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "BILLING_TOKEN", token)
    run(kyra, billing(fault_server, "BILLING_TOKEN"))  # asserts the run succeeded
    assert [r.subject for r in active_risks(kyra.store, kyra.tenant.id)] == ["secret:BILLING_TOKEN"]
    deliveries = notify_store.list_deliveries(kyra.store, kyra.tenant.id)
    assert [(d.event_kind, d.status) for d in deliveries] == [("at_risk", "failed")]
    assert len(at_risk_posts(webhook_receiver)) >= 1  # it was tried, after the run


def test_each_channel_reads_the_warning_in_its_own_language(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver, clock: ManualClock
) -> None:
    add_webhook(kyra, webhook_receiver, name="equipo", lang="es", events=["at_risk"])
    token = make_jwt(clock.now() + timedelta(days=5))
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "BILLING_TOKEN", token)
    run(kyra, billing(fault_server, "BILLING_TOKEN"))
    by_lang = {post["lang"]: post for post in at_risk_posts(webhook_receiver)}
    assert set(by_lang) == {"en", "es"}
    assert by_lang["es"]["title"] == "'billing' está en riesgo: actúa antes de que falle"
    assert by_lang["es"]["text"].startswith("el secreto BILLING_TOKEN (un JWT) caduca el")
    assert by_lang["es"]["text"].endswith("en 5 día(s)")
    assert by_lang["en"]["text"].endswith("in 5 day(s)")


def test_a_workflow_that_stops_naming_the_secret_is_no_longer_at_risk_for_it(
    kyra: Kyra, fault_server: FaultServer, clock: ManualClock
) -> None:
    token = make_jwt(clock.now() + timedelta(days=2))
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "BILLING_TOKEN", token)
    run(kyra, billing(fault_server, "BILLING_TOKEN"))
    assert len(active_risks(kyra.store, kyra.tenant.id)) == 1
    clock.advance(1)  # the new definition is a later version of the row
    step = {"name": "charge", "action": "http_request", "with": {"url": fault_server.url}}
    run(kyra, {"name": "billing", "steps": [step]})
    assert active_risks(kyra.store, kyra.tenant.id) == []
