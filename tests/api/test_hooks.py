"""`POST /hooks/{hook_id}`: per-workflow token or a Standard Webhooks signature (id +
timestamp + body, a tolerance window, a replay cache in the database); the body becomes
inputs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from fastapi.testclient import TestClient

from kyra.app import Kyra
from kyra.demo import FaultServer
from kyra.store import secrets as secret_store
from tests.api.conftest import Tenant, hooked, paced


def _signed(
    secret: str, body: bytes, *, msg_id: str | None = None, at: float | None = None
) -> dict[str, str]:
    """Standard Webhooks headers, computed here as a sender would (not with Kyra's code)."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = str(int(time.time() if at is None else at))
    mac = hmac.new(secret.encode(), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256)
    signature = "v1," + base64.b64encode(mac.digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": signature}


def _old_sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_token_and_signature_each_trigger_a_queued_run_with_the_body_as_inputs(
    acme: Tenant, http: TestClient, fault_server: FaultServer
) -> None:
    acme.apply(hooked(fault_server))
    r = acme.post("/api/v1/workflows/inbound/webhook")
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["url"] == f"http://kyra.test/hooks/{hook['hook_id']}"
    path = f"/hooks/{hook['hook_id']}"

    by_token = http.post(path, json={"order": 7}, headers={"X-Kyra-Token": hook["token"]})
    assert by_token.status_code == 202, by_token.text
    body = json.dumps({"order": 8}).encode()
    by_sig = http.post(path, content=body, headers=_signed(hook["signing_secret"], body))
    assert by_sig.status_code == 202, by_sig.text

    runs = acme.get("/api/v1/executions", params={"workflow": "inbound"}).json()
    assert {e["trigger"] for e in runs} == {"webhook"}
    inputs = [acme.get(f"/api/v1/executions/{e['id']}").json()["inputs"] for e in runs]
    assert sorted(i["order"] for i in inputs) == [7, 8]
    shown = acme.get("/api/v1/workflows/inbound").json()["webhook"]
    assert shown["hook_id"] == hook["hook_id"] and "token" not in shown


def test_bad_credentials_and_unknown_hooks_look_the_same(
    acme: Tenant, http: TestClient, fault_server: FaultServer
) -> None:
    acme.apply(hooked(fault_server))
    hook = acme.post("/api/v1/workflows/inbound/webhook").json()
    path = f"/hooks/{hook['hook_id']}"
    body = b'{"a": 1}'
    attempts = [
        http.post(path, content=body),
        http.post(path, content=body, headers={"X-Kyra-Token": "wrong"}),
        http.post(path, content=body, headers=_signed("wrong", body)),
        http.post(path, content=body, headers={"webhook-signature": "v1,abc"}),
        http.post(path, content=body, headers={"X-Kyra-Signature": "md5=abc"}),
        http.post("/hooks/" + "0" * 32, content=body, headers={"X-Kyra-Token": hook["token"]}),
    ]
    for r in attempts:
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    not_object = http.post(path, json=[1], headers={"X-Kyra-Token": hook["token"]})
    assert not_object.status_code == 400


def test_rotation_kills_the_old_url_and_delete_kills_the_new_one(
    acme: Tenant, kyra: Kyra, http: TestClient, fault_server: FaultServer
) -> None:
    acme.apply(hooked(fault_server))
    first = acme.post("/api/v1/workflows/inbound/webhook").json()
    second = acme.post("/api/v1/workflows/inbound/webhook").json()
    old = http.post(f"/hooks/{first['hook_id']}", json={}, headers={"X-Kyra-Token": first["token"]})
    assert old.status_code == 401
    assert secret_store.secret_names(kyra.store, acme.id) == [second["signing_secret_name"]]
    assert acme.delete("/api/v1/workflows/inbound/webhook").status_code == 204
    gone = http.post(
        f"/hooks/{second['hook_id']}", json={}, headers={"X-Kyra-Token": second["token"]}
    )
    assert gone.status_code == 401
    assert secret_store.secret_names(kyra.store, acme.id) == []
    assert acme.delete("/api/v1/workflows/inbound/webhook").status_code == 404


def test_a_named_tenant_secret_can_sign(
    acme: Tenant, kyra: Kyra, http: TestClient, fault_server: FaultServer
) -> None:
    acme.apply(hooked(fault_server))
    missing = acme.post("/api/v1/workflows/inbound/webhook", json={"signing_secret": "SHOP_KEY"})
    assert missing.status_code == 422
    secret_store.set_secret(kyra.store, kyra.box, acme.id, "SHOP_KEY", "s3cr3t")
    hook = acme.post(
        "/api/v1/workflows/inbound/webhook", json={"signing_secret": "SHOP_KEY"}
    ).json()
    assert hook["signing_secret"] is None and hook["signing_secret_name"] == "SHOP_KEY"
    body = b"{}"
    r = http.post(
        f"/hooks/{hook['hook_id']}",
        content=body,
        headers=_signed("s3cr3t", body),
    )
    assert r.status_code == 202


def test_a_signed_message_runs_once_however_often_it_is_replayed(
    acme: Tenant, kyra: Kyra, http: TestClient, fault_server: FaultServer
) -> None:
    acme.apply(hooked(fault_server))
    hook = acme.post("/api/v1/workflows/inbound/webhook").json()
    path, secret = f"/hooks/{hook['hook_id']}", hook["signing_secret"]
    body = json.dumps({"order": 9}).encode()
    headers = _signed(secret, body)
    first = http.post(path, content=body, headers=headers)
    assert first.status_code == 202, first.text
    replays = [http.post(path, content=body, headers=headers) for _ in range(3)]
    for r in replays:
        assert r.status_code == 200 and r.json() == {
            "execution_id": first.json()["execution_id"],
            "status": "duplicate",
        }
    # The id is signed: a replay under a new id, or a new timestamp, fails the signature
    forged = {**headers, "webhook-id": "msg_other"}
    assert http.post(path, content=body, headers=forged).status_code == 401
    later = {**headers, "webhook-timestamp": str(int(time.time()) + 1)}
    assert http.post(path, content=body, headers=later).status_code == 401
    # Outside the tolerance window: refused even when correctly signed
    stale = _signed(secret, body, at=time.time() - 301)
    assert http.post(path, content=body, headers=stale).status_code == 401
    # The old body-only signature (the one a replay passed) is refused, with a pointer
    old = http.post(path, content=body, headers={"X-Kyra-Signature": _old_sign(secret, body)})
    assert old.status_code == 401 and "webhook-signature" in old.json()["detail"]
    runs = acme.get("/api/v1/executions", params={"workflow": "inbound"}).json()
    assert len(runs) == 1


def test_the_replay_cache_is_shared_by_processes_on_the_database(
    acme: Tenant, kyra: Kyra, http: TestClient, fault_server: FaultServer
) -> None:
    """A second API process (a second app on the same database file) sees the receipt."""
    from kyra.api import create_api
    from kyra.app import create_app

    acme.apply(hooked(fault_server))
    hook = acme.post("/api/v1/workflows/inbound/webhook").json()
    body = b"{}"
    headers = _signed(hook["signing_secret"], body)
    path = f"/hooks/{hook['hook_id']}"
    assert http.post(path, content=body, headers=headers).status_code == 202
    other = create_app(kyra.settings)
    try:
        with TestClient(create_api(other)) as second:
            again = second.post(path, content=body, headers=headers)
    finally:
        other.close()
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_only_webhook_workflows_get_hooks_and_inactive_ones_refuse(
    acme: Tenant, http: TestClient, fault_server: FaultServer
) -> None:
    acme.apply(paced(fault_server))
    r = acme.post("/api/v1/workflows/gmail-digest/webhook")
    assert r.status_code == 409 and r.json()["code"] == "not_a_webhook_workflow"
    acme.apply(hooked(fault_server))
    hook = acme.post("/api/v1/workflows/inbound/webhook").json()
    acme.post("/api/v1/workflows/inbound/deactivate")
    r2 = http.post(f"/hooks/{hook['hook_id']}", json={}, headers={"X-Kyra-Token": hook["token"]})
    assert r2.status_code == 409 and r2.json()["code"] == "workflow_inactive"
