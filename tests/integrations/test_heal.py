"""`kyra.heal` on plain and async functions against the real fault server, recording into a
real store what the Health Center and /metrics count."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import kyra
from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import create_app
from kyra.demo import FaultServer
from kyra.integrations.heal import PACER
from kyra.settings import Settings
from kyra.store import Store, api_stats
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.tenants import ensure_tenant
from tests.waiting import wait_for


def _get(server: FaultServer, path: str) -> dict[str, object]:
    response = httpx.get(server.url + path, timeout=5)
    response.raise_for_status()
    return dict(response.json())


def test_a_green_failure_is_retried_and_recorded_as_a_verified_fix(
    fault_server: FaultServer, sqlite_store: Store
) -> None:
    @kyra.heal(fallback=0, store=sqlite_store, name="billing.sync")
    def sync() -> dict[str, object]:
        return _get(fault_server, "/flaky/s?fail=2&status=503")

    assert sync()["ok"] is True
    assert fault_server.stats()["paths"]["/flaky/s"] == 3
    tenant = ensure_tenant(sqlite_store, "default").id
    assert api_stats.fix_counts(sqlite_store, tenant) == [
        ("service_temporarily_unavailable", "applied", "succeeded", 1)
    ]
    assert api_stats.execution_counts(sqlite_store, tenant) == {"failed": 1, "succeeded": 1}
    assert len(api_stats.diagnoses(sqlite_store, tenant)) == 2
    assert wf_store.get_workflow(sqlite_store, tenant, "billing.sync").state == "active"
    [repair] = api_stats.repairs(sqlite_store, tenant)
    assert repair.verified_at is not None and repair.failed_at is not None


def test_the_health_center_and_metrics_count_it(fault_server: FaultServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kyra.db'}"

    @kyra.heal(fallback=0, store=url)
    def sync() -> dict[str, object]:
        return _get(fault_server, "/flaky/h?fail=1&status=503")

    sync()
    with create_app(Settings(database_url=url, home=tmp_path / ".kyra")) as app:
        _, key = create_api_key(app, app.tenant.id, "tests")
        with TestClient(create_api(app)) as http:
            auth = {"Authorization": f"Bearer {key}"}
            health = http.get("/api/v1/health", headers=auth).json()
            metrics = http.get("/metrics", headers=auth).text
    assert (health["month"]["auto_fixes"], health["month"]["verified"]) == (1, 1)
    assert [f["error_class"] for f in health["recent_fixes"]] == ["service_temporarily_unavailable"]
    fixes = [line for line in metrics.splitlines() if line.startswith("kyra_fixes_total{")]
    assert any('error_class="service_temporarily_unavailable"' in line for line in fixes)
    assert any(
        line.startswith("kyra_diagnoses_total{") and line.endswith(" 1.0")
        for line in metrics.splitlines()
    )


def test_a_401_raises_at_once_and_is_recorded_without_a_fix(
    fault_server: FaultServer, sqlite_store: Store
) -> None:
    @kyra.heal(fallback=0, store=sqlite_store)
    def login() -> dict[str, object]:
        return _get(fault_server, "/auth")

    with pytest.raises(httpx.HTTPStatusError):
        login()
    assert fault_server.stats()["paths"]["/auth"] == 1
    tenant = ensure_tenant(sqlite_store, "default").id
    assert api_stats.fix_counts(sqlite_store, tenant) == []
    assert api_stats.execution_counts(sqlite_store, tenant) == {"failed": 1}
    [audit] = heal_store.list_audit(sqlite_store, tenant_id=tenant)
    assert audit.kind == "diagnosis" and audit.details["error_class"] == "invalid_credentials"


def test_kyra_database_url_turns_recording_on_and_retry_after_is_the_delay(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("KYRA_DATABASE_URL", url)

    @kyra.heal
    def limited() -> dict[str, object]:
        return _get(fault_server, "/flaky/r?fail=1&status=429&retry_after=1")

    assert limited()["ok"] is True
    with create_app(Settings(database_url=url)) as app:
        [fix] = heal_store.list_fixes(app.store, app.tenant.id)
    assert (fix.error_class, fix.outcome, fix.patch) == (
        "rate_limit_exceeded",
        "succeeded",
        {"retry_in_seconds": 1.0},
    )


def test_without_a_database_nothing_is_recorded_and_exhaustion_reraises(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KYRA_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)

    @kyra.heal(attempts=3, fallback=0)
    def down() -> dict[str, object]:
        return _get(fault_server, "/status/503")

    with pytest.raises(httpx.HTTPStatusError):
        down()
    assert fault_server.stats()["paths"]["/status/503"] == 3
    assert not (tmp_path / "kyra.db").exists()


def test_an_exhausted_green_failure_settles_its_fix_as_failed(
    fault_server: FaultServer, sqlite_store: Store
) -> None:
    @kyra.heal(attempts=2, fallback=0, store=sqlite_store)
    def down() -> dict[str, object]:
        return _get(fault_server, "/status/503")

    with pytest.raises(httpx.HTTPStatusError):
        down()
    tenant = ensure_tenant(sqlite_store, "default").id
    assert api_stats.fix_counts(sqlite_store, tenant) == [
        ("service_temporarily_unavailable", "applied", "failed", 1)
    ]


def test_a_retry_after_beyond_max_wait_reraises_at_once(fault_server: FaultServer) -> None:
    @kyra.heal(max_wait=5)
    def limited() -> dict[str, object]:
        return _get(fault_server, "/flaky/m?fail=1&status=429&retry_after=60")

    with pytest.raises(httpx.HTTPStatusError):
        limited()
    assert fault_server.stats()["paths"]["/flaky/m"] == 1


def test_async_functions_are_healed_too(fault_server: FaultServer, sqlite_store: Store) -> None:
    @kyra.heal(fallback=0, store=sqlite_store)
    async def fetch(path: str) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=fault_server.url, timeout=5) as client:
            response = await client.get(path)
            response.raise_for_status()
            return dict(response.json())

    assert asyncio.run(fetch("/flaky/x?fail=1&status=503"))["ok"] is True
    with pytest.raises(httpx.HTTPStatusError):
        asyncio.run(fetch("/auth"))
    assert fault_server.stats()["paths"] == {"/flaky/x": 2, "/auth": 1}
    tenant = ensure_tenant(sqlite_store, "default").id
    assert api_stats.execution_counts(sqlite_store, tenant) == {"failed": 2, "succeeded": 1}


def test_paced_calls_share_what_one_learns(fault_server: FaultServer) -> None:
    """`pace=`: a Retry-After one call was given holds back another call on the same key."""
    failed_at: list[float] = []
    sent_at: list[float] = []

    @kyra.heal(pace="fault-server")
    def limited() -> dict[str, object]:
        try:
            return _get(fault_server, "/flaky/pl?fail=1&status=429&retry_after=1")
        except httpx.HTTPStatusError:
            failed_at.append(time.monotonic())
            raise

    @kyra.heal(pace=lambda path: "fault-server")
    def other(path: str) -> dict[str, object]:
        sent_at.append(time.monotonic())
        return _get(fault_server, path)

    first = threading.Thread(target=limited)
    first.start()
    wait_for(lambda: PACER.closed_for("fault-server") > 0, 30, "the first call's 429")
    assert other("/ok")["ok"] is True
    first.join(30)
    assert sent_at[0] - failed_at[0] >= 0.9  # held for the Retry-After (1 s)
    assert fault_server.stats()["paths"] == {"/flaky/pl": 2, "/ok": 1}
