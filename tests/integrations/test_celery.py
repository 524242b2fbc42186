"""HealingTask in a real Celery worker on Redis, calling the real fault server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery.result import AsyncResult

from kyra.demo import FaultServer
from kyra.store import Store, api_stats, open_store
from kyra.store import healing as heal_store
from kyra.store.tenants import ensure_tenant
from tests.integrations import celery_tasks
from tests.runtime.conftest import REDIS_URL
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    store: Store
    log: Path

    def tenant(self) -> str:
        return ensure_tenant(self.store, "default").id

    def run(self, url: str) -> AsyncResult:
        result = celery_tasks.fetch.delay(url)
        try:
            result.get(timeout=30, propagate=False)
        except Exception as exc:
            raise AssertionError(f"no result: {exc}\n{self.log.read_text()[-3000:]}") from exc
        return result


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    tmp = tmp_path_factory.mktemp("celery")
    queue = f"kyra-integration-{uuid.uuid4().hex[:8]}"
    db_url = f"sqlite:///{tmp / 'kyra.db'}"
    env = {
        **os.environ,
        "KYRA_TEST_CELERY_BROKER": REDIS_URL,
        "KYRA_TEST_CELERY_BACKEND": REDIS_URL,
        "KYRA_TEST_CELERY_QUEUE": queue,
        "KYRA_DATABASE_URL": db_url,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}",
    }
    celery_tasks.app.conf.update(
        broker_url=REDIS_URL, result_backend=REDIS_URL, task_default_queue=queue
    )
    store = open_store(db_url)
    log = tmp / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.integrations.celery_tasks",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--queues",
                queue,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: b"ready" in log.read_bytes(), 30, "the celery worker to be ready")
        yield Worker(store, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        store.close()


def test_a_503_is_retried_in_the_worker_and_recorded(
    worker: Worker, fault_server: FaultServer
) -> None:
    result = worker.run(fault_server.url + "/flaky/c?fail=2&status=503")
    assert (result.state, result.result) == ("SUCCESS", 200)
    assert fault_server.stats()["paths"]["/flaky/c"] == 3
    fixes = heal_store.list_fixes(worker.store, worker.tenant())
    mine = [f for f in fixes if f.diagnosis.get("error_class") == "service_temporarily_unavailable"]
    assert [(f.status, f.outcome) for f in mine] == [("applied", "succeeded")]
    assert mine[0].workflow_name == "kyra_tests.fetch"


def test_a_429_is_retried_after_its_retry_after(worker: Worker, fault_server: FaultServer) -> None:
    result = worker.run(fault_server.url + "/flaky/r?fail=1&status=429&retry_after=1")
    assert result.state == "SUCCESS"
    assert fault_server.stats()["paths"]["/flaky/r"] == 2
    [fix] = [
        f
        for f in heal_store.list_fixes(worker.store, worker.tenant())
        if f.error_class == "rate_limit_exceeded"
    ]
    assert (fix.outcome, fix.patch) == ("succeeded", {"retry_in_seconds": 1.0})


def test_a_401_fails_at_once_without_a_retry(worker: Worker, fault_server: FaultServer) -> None:
    result = worker.run(fault_server.url + "/auth")
    assert result.state == "FAILURE"
    assert fault_server.stats()["paths"] == {"/auth": 1}
    tenant = worker.tenant()
    assert ("invalid_credentials", "RED") in {
        (a.details.get("error_class"), a.details.get("safety"))
        for a in heal_store.list_audit(worker.store, tenant)
        if a.kind == "diagnosis"
    }
    assert all(
        f.error_class != "invalid_credentials" for f in heal_store.list_fixes(worker.store, tenant)
    )
    assert api_stats.execution_counts(worker.store, tenant)["failed"] >= 1


def test_paced_tasks_wait_for_a_retry_after_another_task_was_given(
    worker: Worker, fault_server: FaultServer
) -> None:
    """A 429 with Retry-After: 2 closes the key's gate in the worker: a task on the same key
    sent meanwhile is handed back and re-sent, and sends only after the 2 s."""
    limited = celery_tasks.fetch_paced.delay(
        fault_server.url + "/flaky/pace?fail=1&status=429&retry_after=2"
    )
    # RETRY is stored after the worker closed the gate (and just after the 429 came back)
    wait_for(lambda: limited.state == "RETRY", 30, "the first task's retry")
    failed_at = time.time()
    other = celery_tasks.fetch_paced.delay(fault_server.url + "/ok")
    assert other.get(timeout=30) - failed_at >= 1.0  # the gate held it (Retry-After 2 s)
    assert limited.get(timeout=30) - failed_at >= 1.0
    assert fault_server.stats()["paths"] == {"/flaky/pace": 2, "/ok": 1}
