"""The durable queue on both database backends: exclusive claims, lease expiry and
reclaim, idempotent redelivery, the healing lock, delayed re-runs, status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.runtime.handlers import HealingBusy, handle_failure, schedule_rerun
from kyra.runtime.settings import RuntimeSettings
from kyra.runtime.status import runtime_status
from kyra.runtime.worker import WorkerPool
from kyra.service import apply_workflow
from kyra.store import executions as ex
from kyra.store import queue, workers
from kyra.store import workflows as wf_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings
from tests.runtime.cli import app as cli_app
from tests.runtime.conftest import http_steps
from tests.waiting import wait_for

LEASE = timedelta(seconds=30)


@pytest.fixture
def kyra(db_url: str, tmp_path: Path) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path, database_url=db_url)
    app = create_app(settings)
    yield app
    app.close()


def _workflow(kyra: Kyra, url: str, *paths: str) -> WorkflowRecord:
    doc = {"name": "q", "steps": http_steps(url, *paths)}
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def _queued(kyra: Kyra, record: WorkflowRecord, n: int) -> list[str]:
    return [
        ex.create_execution(
            kyra.store, tenant_id=record.tenant_id, workflow_id=record.id, inputs={}
        )
        for _ in range(n)
    ]


def test_concurrent_claimers_never_share_an_execution(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    ids = _queued(kyra, _workflow(kyra, fault_server.url, "/ok"), 60)
    taken: list[list[str]] = [[] for _ in range(4)]

    def claimer(n: int) -> None:
        while True:
            now = kyra.clock.now()
            batch = queue.claim_due(kyra.store, f"w{n}", now, now + LEASE, 3)
            if not batch:
                return
            taken[n] += [c.id for c in batch]

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for part in taken for i in part]
    assert sorted(everything) == sorted(ids)  # each claimed exactly once


def test_expired_leases_are_reclaimed_and_live_ones_respected(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    [execution_id] = _queued(kyra, _workflow(kyra, fault_server.url, "/ok"), 1)
    now = kyra.clock.now()
    [claimed] = queue.claim_due(kyra.store, "dead", now, now + timedelta(seconds=1))
    assert claimed.claims == 1
    # A redelivered message for a live lease is refused; the lease is the lock
    assert queue.claim(kyra.store, execution_id, "other", now, now + LEASE) is None
    assert queue.reclaim_expired(kyra.store, now) == []
    later = now + timedelta(seconds=2)
    assert queue.reclaim_expired(kyra.store, later) == [execution_id]
    again = queue.claim(kyra.store, execution_id, "other", later, later + LEASE)
    assert again is not None and again.claims == 2
    # Once finished, no delivery can start it again
    ex.finish_execution(kyra.store, execution_id, "succeeded")
    assert queue.claim(kyra.store, execution_id, "third", later, later + LEASE) is None


def test_an_execution_claimed_too_often_is_failed_not_run(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    [execution_id] = _queued(kyra, _workflow(kyra, fault_server.url, "/ok"), 1)
    settings = RuntimeSettings(max_claims=2)
    pool = WorkerPool(kyra, settings, owner="me")
    for _ in range(3):
        now = kyra.clock.now()
        claimed = queue.claim(kyra.store, execution_id, "me", now, now + LEASE)
        assert claimed is not None
        queue.release_leases(kyra.store, "me")
    assert pool.run_claimed(claimed) is None
    assert ex.get_execution(kyra.store, execution_id).status == "failed"
    assert fault_server.stats()["paths"] == {}


def test_healing_lock_allows_one_healer_per_workflow(kyra: Kyra, fault_server: FaultServer) -> None:
    record = _workflow(kyra, fault_server.url, "/status/500")
    result = kyra.executor().run(record)
    assert result.status == "failed"
    now = kyra.clock.now()
    assert workers.acquire_heal_lock(
        kyra.store, record.id, "a", execution_id=None, now=now, until=now + LEASE
    )
    with pytest.raises(HealingBusy):
        handle_failure(kyra, lambda app, r: None, result, owner="b", lock=LEASE)
    workers.release_heal_lock(kyra.store, record.id, "a")
    seen: list[str] = []
    handle_failure(kyra, lambda app, r: seen.append(r.execution_id), result, owner="b", lock=LEASE)
    assert seen == [result.execution_id]


def test_schedule_rerun_waits_then_resumes_from_the_failed_step(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    record = _workflow(kyra, fault_server.url, "/ok", "/flaky/q?fail=1&status=503")
    failed = kyra.executor().run(record, {"who": "ana"})
    run_at = kyra.clock.now() + timedelta(seconds=60)
    rerun_id = schedule_rerun(kyra, failed.execution_id, run_at)
    rerun = ex.get_execution(kyra.store, rerun_id)
    assert (rerun.status, rerun.start_step, rerun.resume_of) == ("waiting", 1, failed.execution_id)
    assert rerun.inputs == {"who": "ana"}
    now = kyra.clock.now()
    assert queue.claim_due(kyra.store, "me", now, now + LEASE) == []  # not due yet
    due = queue.claim_due(kyra.store, "me", run_at, run_at + LEASE)
    assert [c.id for c in due] == [rerun_id]


def test_status_reports_queue_schedules_and_workers(
    kyra: Kyra, fault_server: FaultServer, db_url: str, tmp_path: Path
) -> None:
    _queued(kyra, _workflow(kyra, fault_server.url, "/ok"), 3)
    settings = RuntimeSettings()
    report = runtime_status(kyra, settings)
    assert report.counts == {"queued": 3} and not report.healthy
    result = CliRunner().invoke(
        cli_app,
        ["status"],
        env={"KYRA_DATABASE_URL": db_url, "KYRA_HOME": str(tmp_path / ".kyra"), "KYRA_LANG": "es"},
    )
    assert result.exit_code == 0, result.output
    assert "3 en cola" in result.output
    json_out = CliRunner().invoke(
        cli_app, ["status", "--json"], env={"KYRA_DATABASE_URL": db_url, "KYRA_LANG": "en"}
    )
    assert '"queued": 3' in json_out.output


def test_a_claim_starts_the_execution_under_the_current_config(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    record = _workflow(kyra, fault_server.url, "/ok")
    [eid] = _queued(kyra, record, 1)
    now = kyra.clock.now()
    [claimed] = queue.claim_due(kyra.store, "me", now, now + LEASE)
    started = ex.get_execution(kyra.store, eid)
    assert (started.status, started.config_version) == ("running", record.config_version)
    assert started.started_at is not None and started.started_at >= started.created_at
    # The config changes between the claim and the run: the execution runs under, and
    # records, the new version (not the one current at the claim)
    slower = record.workflow.config.model_copy(update={"timeout": 7.0})
    version = wf_store.add_config_version(
        kyra.store, record.id, slower, author="user", reason="slower API"
    )
    result = kyra.executor().execute(claimed.id)
    assert result.succeeded
    assert ex.get_execution(kyra.store, eid).config_version == version.number
    assert version.number == record.config_version + 1
    assert fault_server.stats()["paths"]["/ok"] == 1


def test_executions_claimed_ahead_go_back_to_the_queue_on_stop(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    ids = _queued(kyra, _workflow(kyra, fault_server.url, "/slow?delay=0.3"), 5)
    pool = WorkerPool(kyra, RuntimeSettings(concurrency=1, prefetch=2), owner="me")
    pool.start()
    [first] = wait_for(lambda: pool.running, 10, "the first execution to start", every=0.005)
    # One worker, two claimed ahead: three leased, two left in the queue untouched
    assert queue.count_by_status(kyra.store) == {"running": 3, "queued": 2}
    handed_back = pool.stop(drain=10)
    assert len(handed_back) == 2 and first not in handed_back
    statuses = {i: ex.get_execution(kyra.store, i).status for i in ids}
    assert statuses[first] == "succeeded"
    assert sorted(statuses.values()) == ["queued"] * 4 + ["succeeded"]
    assert fault_server.stats()["paths"]["/slow"] == 1
    # Handed back means unleased: the next claim takes them, oldest first
    now = kyra.clock.now()
    again = queue.claim_due(kyra.store, "next", now, now + LEASE, 4)
    assert {c.id for c in again} == set(ids) - {first}
