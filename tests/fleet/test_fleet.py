"""Learning across workflows: shared per-host pacing and per-host circuit breakers,
against the real fault server, with real concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.app import Kyra, create_app
from kyra.cli.status import host_status
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.demo._faults import FaultState
from kyra.demo._server import FaultApp
from kyra.engine.fleet import FleetGuard, FleetSettings
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import fleet as fleet_store
from kyra.store import healing as heal_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow


def _host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0]


def _app(db: Path, fleet: FleetSettings, clock: ManualClock | None = None) -> Kyra:
    kyra = create_app(
        Settings(
            database_url=f"sqlite:///{db}",
            home=db.parent,
            secret_key=SecretStr(Fernet.generate_key().decode()),
        ),
        clock=clock,
    )
    kyra.__dict__["fleet"] = FleetGuard(kyra.store, kyra.clock, fleet)
    return kyra


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "kyra.db"


def _workflows(
    kyra: Kyra, url: str, n: int, steps: int, retry: dict[str, Any]
) -> list[WorkflowRecord]:
    records = []
    for i in range(n):
        doc = {
            "name": f"wf{i}",
            "config": {"retry": retry},
            "steps": [
                {"name": f"s{j}", "action": "http_request", "with": {"url": url}}
                for j in range(steps)
            ],
        }
        record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
        records.append(record)
    return records


def _run_all(kyra: Kyra, records: list[WorkflowRecord]) -> list[str]:
    executor = kyra.executor()
    with ThreadPoolExecutor(len(records)) as pool:
        return [r.status for r in pool.map(executor.run, records)]


RETRIES = {"max_retries": 8, "backoff": "exponential", "initial_delay": 0.2, "max_delay": 2}


def test_shared_pacing_sends_far_fewer_429s_than_independent_retry_loops(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = f"{fault_server.url}/ratelimit/shared?limit=10&window=1"
    # What a careful developer writes today: each workflow retries on its own.
    alone = _app(tmp_path / "alone.db", FleetSettings(enabled=False))
    try:
        assert _run_all(alone, _workflows(alone, url, 10, 6, RETRIES)) == ["succeeded"] * 10
    finally:
        alone.close()
    independent_429s = fault_server.stats()["statuses"].get("429", 0)
    fault_server.reset()

    fleet = _app(tmp_path / "fleet.db", FleetSettings())
    try:
        assert _run_all(fleet, _workflows(fleet, url, 10, 6, RETRIES)) == ["succeeded"] * 10
        learned = fleet_store.host_limits(fleet.store, fleet.tenant.id)[_host(fault_server.url)]
    finally:
        fleet.close()
    shared_429s = fault_server.stats()["statuses"].get("429", 0)
    assert independent_429s >= 10
    assert shared_429s * 3 <= independent_429s, (shared_429s, independent_429s)
    assert learned.pace_seconds >= 0.1 and learned.rate_limited >= 1

    # Persisted: a restarted process starts with the learned pacing.
    again = _app(tmp_path / "fleet.db", FleetSettings())
    try:
        assert (
            fleet_store.host_limits(again.store, again.tenant.id)[_host(fault_server.url)]
            == learned
        )
    finally:
        again.close()


def test_a_down_host_opens_the_circuit_and_one_probe_closes_it(tmp_path: Path) -> None:
    # Kyra and the host's outage window share one clock the test moves: the outage,
    # the cool-down and the probe are ordered by the test, not by how busy the machine is
    clock = ManualClock()
    settings = FleetSettings(burst=3, window_seconds=30, cooldown_seconds=0.6)
    with FaultServer(app=FaultApp(FaultState(monotonic=clock.monotonic))) as server:
        kyra = _app(tmp_path / "kyra.db", settings, clock)
        try:
            _circuit_opens_and_closes(kyra, server, clock)
        finally:
            kyra.close()


def _circuit_opens_and_closes(kyra: Kyra, server: FaultServer, clock: ManualClock) -> None:
    records = _workflows(
        kyra, f"{server.url}/window/down?seconds=0.8&status=503", 6, 1, {"max_retries": 0}
    )
    executor = kyra.executor()
    results = [executor.run(r) for r in records]
    assert [r.status for r in results] == ["failed"] * 6
    assert server.stats()["paths"]["/window/down"] == 3  # the burst, then fail fast
    assert [r.error_context.error_type for r in results[3:]] == ["CircuitOpen"] * 3  # type: ignore[union-attr]
    assert results[5].error_context.retry_after > 0  # type: ignore[union-attr]

    # Half-open: many workflows at once, one probe reaches the (still failing) host.
    clock.advance(0.65)
    before = server.stats()["paths"]["/window/down"]
    assert _run_all(kyra, records) == ["failed"] * 6
    assert server.stats()["paths"]["/window/down"] == before + 1

    # The host recovers: the next probe succeeds, the circuit closes, everyone resumes.
    clock.advance(0.65)
    assert _run_all(kyra, records[:1]) == ["succeeded"]
    assert _run_all(kyra, records) == ["succeeded"] * 6
    circuit = fleet_store.circuits(kyra.store, kyra.tenant.id)[(kyra.tenant.id, _host(server.url))]
    assert circuit.state == "closed" and circuit.openings == 2
    kinds = [a.kind for a in heal_store.list_audit(kyra.store, kyra.tenant.id)]
    assert kinds.count("circuit_opened") == 2 and kinds.count("circuit_closed") == 1
    [shown] = host_status(kyra)  # what `kyra status` shows
    assert (shown["host"], shown["circuit"], shown["circuit_openings"]) == (
        _host(server.url),
        "closed",
        2,
    )


def test_tenants_do_not_share_what_they_learn(fault_server: FaultServer, db: Path) -> None:
    kyra = _app(db, FleetSettings())
    try:
        records = _workflows(
            kyra, f"{fault_server.url}/status/429?header=Retry-After:1", 1, 1, {"max_retries": 0}
        )
        kyra.executor().run(records[0])
        assert _host(fault_server.url) in fleet_store.host_limits(kyra.store, kyra.tenant.id)
        assert fleet_store.host_limits(kyra.store, "another-tenant") == {}
    finally:
        kyra.close()


def test_a_quiet_host_is_paced_less_and_less_until_not_at_all(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    clock = ManualClock()
    kyra = _app(tmp_path / "kyra.db", FleetSettings(relax_seconds=600, cache_seconds=0), clock)
    host, tenant = _host(fault_server.url), kyra.tenant.id
    try:
        [ok] = _workflows(kyra, f"{fault_server.url}/ok", 1, 1, {"max_retries": 0})
        fleet_store.raise_pace(kyra.store, tenant, host, 4.0, clock.now().timestamp(), "a fix")

        def pace_after_a_run() -> float:
            assert kyra.executor().run(ok).succeeded
            return fleet_store.host_limits(kyra.store, tenant)[host].pace_seconds

        assert pace_after_a_run() == 4.0  # not quiet long enough yet
        clock.advance(300)
        assert pace_after_a_run() == 4.0
        paces = []
        for _ in range(8):
            clock.advance(600)
            paces.append(pace_after_a_run())
        assert paces == [2.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.0, 0.0]
        assert "without a 429" in fleet_store.host_limits(kyra.store, tenant)[host].reason
        # A new 429 makes it grow again at once
        doc = {
            "name": "limited",
            "config": {"retry": {"max_retries": 0}},
            "steps": [
                {
                    "name": "s",
                    "action": "http_request",
                    "with": {"url": f"{fault_server.url}/status/429"},
                }
            ],
        }
        limited, _ = apply_workflow(kyra, tenant, Workflow.model_validate(doc))
        assert kyra.executor().run(limited).status == "failed"
        assert fleet_store.host_limits(kyra.store, tenant)[host].pace_seconds == 0.25
    finally:
        kyra.close()
