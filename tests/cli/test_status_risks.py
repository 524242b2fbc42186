"""`kyra status` lists the workflows at risk; `--json` carries `at_risk`."""

from __future__ import annotations

import json
from datetime import timedelta

from kyra.predict.risk import CREDENTIAL_EXPIRY, Reason, raise_risk
from kyra.store import open_store
from kyra.store import workflows as wf
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow
from tests.cli.conftest import Kyra
from tests.predict.test_credential_expiry import make_jwt

FLOW = """
name: billing
steps:
  - name: get
    action: http_request
    with: {url: "https://billing.example/api"}
"""


def test_status_shows_at_risk_in_text_and_json(kyra: Kyra) -> None:
    kyra.write("flow.yaml", FLOW)
    assert kyra("workflows", "apply", "flow.yaml").exit_code == 0
    before = json.loads(kyra("status", "--json").stdout)
    assert before["at_risk"] == []

    store = open_store(kyra.env["KYRA_DATABASE_URL"])
    try:
        tenant = ensure_tenant(store, "default")
        record = wf.get_workflow(store, tenant.id, "billing")
        since = utcnow()
        raise_risk(
            store,
            tenant_id=tenant.id,
            workflow_id=record.id,
            kind=CREDENTIAL_EXPIRY,
            subject="tls:billing.example",
            reason=Reason(
                "credential.tls",
                {"host": "billing.example", "expires": "2026-12-09 08:00", "days": 5},
            ),
            now=since,
        )
    finally:
        store.close()

    status = json.loads(kyra("status", "--json").stdout)
    [risk] = status["at_risk"]
    assert {k: risk[k] for k in ("workflow", "kind", "since")} == {
        "workflow": "billing",
        "kind": CREDENTIAL_EXPIRY,
        "since": since.isoformat(),
    }
    assert risk["reason"].startswith("the TLS certificate of billing.example expires on")
    text = kyra("status")
    assert "At risk" in text.stdout and "billing.example" in text.stdout
    spanish = kyra("status", lang="es")
    assert "En riesgo" in spanish.stdout and "certificado TLS" in spanish.stdout


def test_setting_a_jwt_secret_shows_when_it_expires_never_the_value(kyra: Kyra) -> None:
    expires = utcnow() + timedelta(days=3)
    token = make_jwt(expires)
    saved = kyra("secrets", "set", "API_TOKEN", input=token)
    assert saved.exit_code == 0, saved.output
    assert f"It expires on {expires:%Y-%m-%d %H:%M} UTC (read from the value: JWT)" in (
        saved.stdout.replace("\n", " ")
    )
    as_json = json.loads(kyra("secrets", "set", "API_TOKEN", "--json", input=token).stdout)
    assert as_json["expires_at"] == expires.replace(microsecond=0).isoformat()
    stale = kyra("secrets", "set", "OLD", input=make_jwt(utcnow() - timedelta(days=1)), lang="es")
    assert "Cuidado: caducó el" in stale.stdout
    opaque = kyra("secrets", "set", "PLAIN", input="sk_live_not_a_jwt")
    assert "expires" not in opaque.stdout
    for result in (saved, stale, opaque):
        assert token not in result.output and token.split(".")[1] not in result.output
