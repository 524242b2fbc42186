"""`/healthz` and `/readyz` answer without a key; readiness turns 503, with the reason,
when the database stops answering or the embedded runtime stops working."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from kyra.api import create_api
from kyra.app import Kyra, create_app
from kyra.runtime.embedded import EmbeddedRuntime
from kyra.runtime.settings import RuntimeSettings
from tests.apps import fresh_settings
from tests.plugins.db import PG_ADMIN_URL
from tests.waiting import wait_for


def test_probes_need_no_key_and_name_their_checks(http: TestClient) -> None:
    live = http.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "ok", "checks": {"process": "ok"}})
    ready = http.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok"}},
    )


def test_readiness_follows_the_embedded_runtime(kyra: Kyra) -> None:
    settings = RuntimeSettings(concurrency=2, lease_seconds=3, poll_seconds=0.05)
    runtime = EmbeddedRuntime(kyra, settings)
    with TestClient(create_api(kyra, runtime_check=runtime.problems)) as client:
        before = client.get("/readyz")
        assert before.status_code == 503 and before.json()["checks"]["runtime"] == "runtime stopped"
        runtime.start()
        try:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "runtime": "ok"}
        finally:
            runtime.stop(drain=0)
        after = client.get("/readyz")
        assert after.status_code == 503
        assert after.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "runtime": "runtime stopped"},
        }
        assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_a_database_that_stops_answering_makes_it_unready(tmp_path: Path) -> None:
    name = f"kyra_readyz_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    kyra = create_app(fresh_settings(tmp_path, database_url=f"{base}/{name}"))
    try:
        with TestClient(create_api(kyra)) as client:
            assert client.get("/readyz").status_code == 200
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            gone = wait_for(
                lambda: (r := client.get("/readyz")).status_code == 503 and r,
                10,
                "readiness to notice the database is gone",
            )
            body = gone.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"].startswith("unreachable: ")
            assert name in body["checks"]["database"]  # the driver's reason, not a guess
            assert client.get("/healthz").status_code == 200
    finally:
        kyra.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
