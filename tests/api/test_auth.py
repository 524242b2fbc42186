"""API keys (shown once, stored hashed, revocable), tenant settings and usage, errors."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from kyra.api.auth import create_api_key, key_prefix, verify_api_key
from kyra.app import Kyra
from kyra.store import api as api_store
from tests.api.conftest import Tenant


def test_requests_without_a_valid_key_are_401_json(http: TestClient, acme: Tenant) -> None:
    tampered = acme.key[:-2] + ("AA" if not acme.key.endswith("AA") else "BB")
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer kyra_nope"},
        {"Authorization": f"Bearer {tampered}"},
    ):
        r = http.get("/api/v1/workflows", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["code"] == "unauthorized"


def test_keys_are_stored_as_sha256_only(kyra: Kyra, acme: Tenant) -> None:
    prefix = key_prefix(acme.key)
    assert prefix is not None
    stored = api_store.find_api_key(kyra.store, prefix)
    assert stored is not None
    assert stored.key_hash == hashlib.sha256(acme.key.encode()).hexdigest()
    assert acme.key not in repr(stored)
    assert verify_api_key(kyra, acme.key) is not None
    assert verify_api_key(kyra, acme.key + "x") is None


def test_create_list_and_revoke_keys(acme: Tenant, http: TestClient) -> None:
    created = acme.post("/api/v1/apikeys", json={"name": "ci"})
    assert created.status_code == 201
    new_key = created.json()["key"]
    listed = acme.get("/api/v1/apikeys").json()
    assert {k["name"] for k in listed} == {"tests", "ci"}
    assert all("key" not in k for k in listed)
    other = {"Authorization": f"Bearer {new_key}"}
    assert http.get("/api/v1/tenant", headers=other).status_code == 200
    prefix = created.json()["prefix"]
    revoked = acme.delete(f"/api/v1/apikeys/{prefix}")
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert http.get("/api/v1/tenant", headers=other).status_code == 401
    assert acme.get("/api/v1/tenant").status_code == 200


def test_last_used_is_recorded(kyra: Kyra, acme: Tenant) -> None:
    acme.get("/api/v1/tenant")
    used = acme.get("/api/v1/apikeys").json()[0]["last_used_at"]
    assert used is not None


def test_tenant_shows_tier_usage_and_settings_and_patches_settings(acme: Tenant) -> None:
    tenant = acme.get("/api/v1/tenant").json()
    assert tenant["name"] == "acme" and tenant["tier"] == "enterprise"
    assert tenant["usage"]["fixes_included"] == 500 and tenant["usage"]["fixes_used"] == 0
    assert tenant["downtime_value_per_hour"] == 50.0 and tenant["manual_repair_hours"] == 4.0
    r = acme.patch(
        "/api/v1/tenant",
        json={
            "downtime_value_per_hour": 120,
            "manual_repair_hours": 2,
            "lang": "es",
            "dashboard_base_url": "https://kyra.example.com",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["downtime_value_per_hour"] == 120 and body["lang"] == "es"
    assert body["dashboard_base_url"] == "https://kyra.example.com"
    for bad in (
        {"downtime_value_per_hour": -1},
        {"lang": "fr"},
        {"tier": "enterprise"},
        {"dashboard_base_url": "javascript:alert(1)"},
    ):
        assert acme.patch("/api/v1/tenant", json=bad).status_code == 422, bad


def test_a_free_tenant_cannot_raise_its_own_tier(kyra: Kyra, http: TestClient) -> None:
    from kyra.store.tenants import ensure_tenant

    info = ensure_tenant(kyra.store, "tiny", tier="free")
    _, key = create_api_key(kyra, info.id)
    headers = {"Authorization": f"Bearer {key}"}
    assert http.get("/api/v1/tenant", headers=headers).json()["usage"]["fixes_included"] == 5
    r = http.patch("/api/v1/tenant", json={"tier": "enterprise"}, headers=headers)
    assert r.status_code == 422
    assert http.get("/api/v1/tenant", headers=headers).json()["tier"] == "free"


def test_unknown_routes_and_methods_answer_json(http: TestClient, acme: Tenant) -> None:
    r = http.get("/api/v1/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r2 = acme.put("/api/v1/workflows")
    assert r2.status_code == 405 and r2.json()["code"] == "method_not_allowed"


def test_openapi_and_docs_are_served(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    assert "/api/v1/workflows/{name}/run" in schema["paths"]
    assert http.get("/docs").status_code == 200
