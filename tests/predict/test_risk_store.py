"""The at-risk model on SQLite and PostgreSQL: raise, refresh, clear, reopen, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kyra.i18n import missing_translations
from kyra.predict.reasons import REASONS, render_reason
from kyra.predict.risk import (
    CREDENTIAL_EXPIRY,
    LATENCY,
    Reason,
    active_risks,
    clear_risk,
    raise_risk,
)
from kyra.store import Store
from kyra.store import risks as risk_store
from kyra.store import workflows as wf
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow
from kyra.workflows.model import Workflow


def _workflow(name: str) -> Workflow:
    return Workflow.model_validate(
        {
            "name": name,
            "steps": [{"name": "get", "action": "http_request", "with": {"url": "http://x"}}],
        }
    )


def _tls(host: str, days: int) -> Reason:
    return Reason("credential.tls", {"host": host, "expires": "2026-12-07 10:00", "days": days})


def test_raise_is_idempotent_refreshes_the_reason_and_keeps_since(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    record, _ = wf.save_workflow(store, tenant.id, _workflow("orders"))
    t0 = utcnow()
    key = {"tenant_id": tenant.id, "workflow_id": record.id, "kind": CREDENTIAL_EXPIRY}

    assert raise_risk(store, **key, subject="tls:api", reason=_tls("api", 5), now=t0) is True
    later = t0 + timedelta(hours=1)
    assert raise_risk(store, **key, subject="tls:api", reason=_tls("api", 4), now=later) is False

    [risk] = active_risks(store, tenant.id)
    assert (risk.workflow, risk.kind, risk.subject) == ("orders", CREDENTIAL_EXPIRY, "tls:api")
    assert risk.since == t0 and risk.updated_at == later
    assert risk.reason.params["days"] == 4
    assert risk.reason.text("en").startswith("the TLS certificate of api expires on")
    assert risk.reason.text("es").startswith("el certificado TLS de api caduca el")
    assert risk.to_json("en")["since"] == t0.isoformat()


def test_clear_ends_the_episode_and_a_new_raise_opens_another(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    record, _ = wf.save_workflow(store, tenant.id, _workflow("orders"))
    t0 = utcnow()
    key = {"tenant_id": tenant.id, "workflow_id": record.id, "kind": CREDENTIAL_EXPIRY}
    raise_risk(store, **key, subject="a", reason=_tls("a", 3), now=t0)
    raise_risk(store, **key, subject="b", reason=_tls("b", 3), now=t0)

    assert clear_risk(store, **key, subject="a", now=t0 + timedelta(minutes=1)) == 1
    assert clear_risk(store, **key, subject="a", now=t0 + timedelta(minutes=2)) == 0
    assert [r.subject for r in active_risks(store, tenant.id)] == ["b"]
    history = risk_store.list_risks(store, tenant.id, active=False)
    assert {r.subject: r.cleared_at is not None for r in history} == {"a": True, "b": False}

    t1 = t0 + timedelta(days=1)
    assert raise_risk(store, **key, subject="a", reason=_tls("a", 2), now=t1) is True
    reopened = next(r for r in active_risks(store, tenant.id) if r.subject == "a")
    assert reopened.since == t1 and reopened.cleared_at is None

    # subject=None clears every subject of the kind, and only that kind
    raise_risk(store, **{**key, "kind": LATENCY}, subject="get", reason=Reason("x"), now=t1)
    assert clear_risk(store, **key, now=t1) == 2
    assert [r.kind for r in active_risks(store, tenant.id)] == [LATENCY]


def test_risks_belong_to_their_tenant_and_workflow(store: Store) -> None:
    a, b = ensure_tenant(store, "a"), ensure_tenant(store, "b")
    wa, _ = wf.save_workflow(store, a.id, _workflow("orders"))
    wa2, _ = wf.save_workflow(store, a.id, _workflow("billing"))
    wb, _ = wf.save_workflow(store, b.id, _workflow("orders"))
    now = utcnow()
    for tenant, record in ((a, wa), (a, wa2), (b, wb)):
        raise_risk(
            store,
            tenant_id=tenant.id,
            workflow_id=record.id,
            kind=CREDENTIAL_EXPIRY,
            reason=_tls("h", 1),
            now=now,
        )
    assert sorted(r.workflow for r in active_risks(store, a.id)) == ["billing", "orders"]
    assert [r.workflow_id for r in active_risks(store, a.id, workflow_id=wa2.id)] == [wa2.id]
    assert [r.workflow_id for r in active_risks(store, b.id)] == [wb.id]


def test_bad_kinds_keys_and_params_are_refused_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="reason key"):
        Reason("Not A Key")
    with pytest.raises(ValueError, match="scalar"):
        Reason("credential.tls", {"host": ["a"]})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="longer than"):
        Reason("credential.tls", {"host": "x" * 1000})


def test_every_reason_reads_in_both_languages_and_gaps_never_fail() -> None:
    assert missing_translations(REASONS) == []
    assert render_reason("credential.tls", {}, "en").startswith("the TLS certificate of …")
    assert render_reason("somebody.else", {"n": 1}, "es") == 'somebody.else {"n": 1}'
