"""`/metrics` for Prometheus: counters never go down (current states are gauges), every
series names its tenant, and the operator token scrapes every tenant plus the runtime
and the process."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from kyra import __version__
from kyra.api import create_api
from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.runtime.embedded import EmbeddedRuntime
from kyra.runtime.scheduler import Scheduler
from kyra.runtime.settings import RuntimeSettings
from kyra.settings import Settings
from tests.api.conftest import Tenant, make_tenant
from tests.apps import fresh_settings
from tests.waiting import wait_for

OPERATOR = "operator-token-for-tests-0123456789"


@pytest.fixture
def operated(tmp_path: Path) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path, metrics_token=SecretStr(OPERATOR))
    app = create_app(settings)
    yield app
    app.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by Prometheus's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def _flow(name: str) -> dict[str, object]:
    return {"name": name, "steps": [{"name": "s", "action": "transform", "with": {"value": 1}}]}


def test_counters_only_go_up_while_queued_executions_drain(operated: Kyra) -> None:
    with TestClient(create_api(operated)) as http:
        acme = make_tenant(operated, http, "acme")
        acme.apply(_flow("flow"))
        for _ in range(3):
            assert acme.post("/api/v1/workflows/flow/run").status_code == 202
        before = acme.get("/metrics").text
        assert value(before, "kyra_executions", tenant="acme", status="queued") == 3
        assert value(before, "kyra_executions_total", tenant="acme", status="succeeded") == 0
        runtime = EmbeddedRuntime(operated, RuntimeSettings(concurrency=2, poll_seconds=0.05))
        with runtime:
            wait_for(
                lambda: (
                    value(
                        acme.get("/metrics").text,
                        "kyra_executions_total",
                        tenant="acme",
                        status="succeeded",
                    )
                    == 3
                ),
                30,
                "three executions counted as succeeded",
            )
        after = acme.get("/metrics").text
        assert value(after, "kyra_executions", tenant="acme", status="queued") == 0  # a gauge
        assert value(after, "kyra_executions_total", tenant="acme", status="succeeded") == 3
        kinds = {(s.name, f.type) for f in text_string_to_metric_families(after) for s in f.samples}
        assert ("kyra_executions", "gauge") in kinds
        assert ("kyra_executions_total", "counter") in kinds
        # Deleting the workflow deletes its executions; the counter keeps what it counted.
        assert acme.delete("/api/v1/workflows/flow").status_code == 204
        pruned = acme.get("/metrics").text
        assert value(pruned, "kyra_executions_total", tenant="acme", status="succeeded") == 3


def test_the_operator_token_scrapes_every_tenant_the_runtime_and_the_process(
    operated: Kyra,
) -> None:
    with TestClient(create_api(operated)) as http:
        acme, rival = make_tenant(operated, http, "acme"), make_tenant(operated, http, "rival")
        acme.apply(_flow("a"))
        rival.apply(_flow("b"))
        rival.post("/api/v1/workflows/b/run")
        own = acme.get("/metrics").text
        assert 'tenant="rival"' not in own and "kyra_workers_live" not in own
        runtime = EmbeddedRuntime(operated, RuntimeSettings(concurrency=1), schedule=False)
        with runtime:
            r = http.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR}"})
        assert r.status_code == 200
        text = r.text
        assert value(text, "kyra_workflows", tenant="acme", state="active") == 1
        assert value(text, "kyra_workflows", tenant="rival", state="active") == 1
        assert value(text, "kyra_workers_live", kind="embedded") == 1
        assert "kyra_scheduler_lag_seconds" in text and "kyra_circuits_open" in text
        assert value(text, "process_cpu_seconds_total") > 0
        assert value(text, "kyra_build_info", version=__version__, python=_python()) == 1
        for bad in ("Bearer " + OPERATOR[:-1] + "x", "Bearer ", "Basic " + OPERATOR):
            assert http.get("/metrics", headers={"Authorization": bad}).status_code == 401


def test_without_an_operator_token_only_tenant_keys_work(acme: Tenant, http: TestClient) -> None:
    assert http.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 401
    assert acme.get("/metrics").status_code == 200


def test_the_scheduler_lag_shows_an_overdue_trigger(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 3, 10, 12, 0, 30, tzinfo=UTC))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'kyra.db'}",
        home=tmp_path / ".kyra",
        metrics_token=SecretStr(OPERATOR),
    )
    with create_app(settings, clock=clock) as kyra, TestClient(create_api(kyra)) as http:
        acme = make_tenant(kyra, http, "acme")
        acme.apply({**_flow("every-minute"), "trigger": {"cron": "* * * * *"}})
        Scheduler(kyra.store, clock, RuntimeSettings(), owner="t").sync()  # next: 12:01:00
        headers = {"Authorization": f"Bearer {OPERATOR}"}
        lag = lambda: value(  # noqa: E731 - read twice below
            http.get("/metrics", headers=headers).text, "kyra_scheduler_lag_seconds"
        )
        assert lag() == 0.0  # the next slot is ahead
        clock.advance(150)  # 12:03:00 and no scheduler ticked: two minutes overdue
        assert lag() == 120.0


def _python() -> str:
    return platform.python_version()
