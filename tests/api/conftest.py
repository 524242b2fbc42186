"""An API over a fresh SQLite store, two tenants with a key each, the real fault server.

The clock is the real one: healing re-runs wait for real rate-limit windows (about a
second), which is what proves the fixes work against a real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pytest
from fastapi.testclient import TestClient

from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.store.tenants import ensure_tenant
from tests.apps import fresh_settings

Response: TypeAlias = Any
"""What TestClient returns (Starlette's test client ships its own httpx flavour)."""


@pytest.fixture
def kyra(tmp_path: Path) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path, tenant="acme")
    app = create_app(settings)
    yield app
    app.close()


@dataclass
class Tenant:
    """A tenant's API client: every call carries its bearer key."""

    name: str
    id: str
    key: str
    http: TestClient

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def get(self, path: str, **kw: Any) -> Response:
        return self.http.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, **kw: Any) -> Response:
        return self.http.post(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path: str, **kw: Any) -> Response:
        return self.http.put(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path: str, **kw: Any) -> Response:
        return self.http.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.http.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def request(self, method: str, path: str, **kw: Any) -> Response:
        return self.http.request(method, path, headers=self._headers(kw.pop("headers", None)), **kw)

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        r = self.post("/api/v1/workflows", json={"definition": doc})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture
def http(kyra: Kyra) -> Iterator[TestClient]:
    with TestClient(create_api(kyra, base_url="http://kyra.test")) as client:
        yield client


def make_tenant(kyra: Kyra, http: TestClient, name: str, tier: str = "enterprise") -> Tenant:
    info = ensure_tenant(kyra.store, name, tier=tier)
    _, key = create_api_key(kyra, info.id, "tests")
    return Tenant(name, info.id, key, http)


@pytest.fixture
def acme(kyra: Kyra, http: TestClient) -> Tenant:
    return make_tenant(kyra, http, "acme")


@pytest.fixture
def rival(kyra: Kyra, http: TestClient) -> Tenant:
    return make_tenant(kyra, http, "rival")


def paced(server: FaultServer, name: str = "gmail-digest") -> dict[str, Any]:
    """Two requests less than a second apart: the second gets 429 + Retry-After (GREEN)."""
    url = f"{server.url}/pace/{name}?min_interval=1"
    return {
        "name": name,
        "steps": [
            {"name": "list", "action": "http_request", "with": {"url": url}},
            {"name": "send", "action": "http_request", "with": {"url": url}},
        ],
    }


def needs_email(server: FaultServer, name: str = "crm-sync") -> dict[str, Any]:
    """A POST without `email`: 400 missing_required_field (a YELLOW proposal)."""
    return {
        "name": name,
        "steps": [
            {
                "name": "upsert",
                "action": "http_request",
                "with": {
                    "url": f"{server.url}/require?fields=email",
                    "method": "POST",
                    "json": {"name": "Ana"},
                },
            }
        ],
    }


def bad_token(server: FaultServer, name: str = "billing") -> dict[str, Any]:
    """401 invalid_api_key: RED, Kyra touches nothing."""
    return {
        "name": name,
        "steps": [
            {
                "name": "charge",
                "action": "http_request",
                "with": {"url": f"{server.url}/auth?token=T"},
            }
        ],
    }


def hooked(server: FaultServer, name: str = "inbound") -> dict[str, Any]:
    return {
        "name": name,
        "trigger": "webhook",
        "steps": [{"name": "echo", "action": "http_request", "with": {"url": f"{server.url}/ok"}}],
    }


PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "details"}


def assert_problem(r: Response, code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem: its media type, every member, the status it repeats, and
    (when given) its stable code."""
    assert r.headers["content-type"] == "application/problem+json", r.text
    body: dict[str, Any] = r.json()
    assert set(body) == PROBLEM_KEYS, body
    assert body["status"] == r.status_code and body["type"] == f"urn:kyra:problem:{body['code']}"
    if code is not None:
        assert body["code"] == code, body
    return body
