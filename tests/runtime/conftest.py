"""Runtime harness: real `serve` / `worker` / `scheduler` processes on a real database and
broker, with short leases so fault tests run in seconds.

`runtime` is parametrised over the embedded runtime (SQLite, one `serve` process) and
the scale-out runtime (Celery on Redis + PostgreSQL). Each test gets its own database
(SQLite file, or a truncated private PostgreSQL database) and its own Celery queue.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.app import Kyra, create_app
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import executions as ex
from kyra.store import open_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow
from tests.plugins.db import _truncate
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("KYRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("KYRA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")

FAST = {
    "KYRA_RUNTIME_LEASE_SECONDS": "1.0",
    "KYRA_RUNTIME_HEARTBEAT_SECONDS": "0.25",
    "KYRA_RUNTIME_POLL_SECONDS": "0.1",
    "KYRA_RUNTIME_SCHEDULER_TICK_SECONDS": "0.1",
    "KYRA_RUNTIME_SYNC_SECONDS": "0.5",
    "KYRA_RUNTIME_CONCURRENCY": "4",
    "KYRA_RUNTIME_REDISPATCH_SECONDS": "2",
    "KYRA_RUNTIME_VISIBILITY_TIMEOUT_SECONDS": "3",
    "KYRA_RUNTIME_HEAL_BACKOFF_SECONDS": "0.2",
    "KYRA_RUNTIME_DRAIN_SECONDS": "10",
}


class Harness:
    """One runtime under test: its processes, its database and a Kyra app to inspect it."""

    def __init__(self, kind: str, db_url: str, broker: str | None, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.key = Fernet.generate_key().decode()
        self.handler_log = tmp / "handlers.jsonl"
        self.env = {
            **os.environ,
            **FAST,
            "KYRA_DATABASE_URL": db_url,
            "KYRA_HOME": str(tmp / ".kyra"),
            "KYRA_SECRET_KEY": self.key,
            "KYRA_RUNTIME_QUEUE": f"kyra-test-{uuid.uuid4().hex[:8]}",
            "KYRA_TEST_HANDLER_LOG": str(self.handler_log),
            "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}",
            "KYRA_LANG": "en",
            # These tests drive the runtime with their own handlers; Kyra's healing joins
            # only where a test turns it on (KYRA_HEAL=true).
            "KYRA_HEAL": "false",
        }
        self.env.pop("KYRA_BROKER_URL", None)
        if broker:
            self.env["KYRA_BROKER_URL"] = broker
        settings = Settings(database_url=db_url, home=tmp / ".kyra", secret_key=SecretStr(self.key))
        self.app: Kyra = create_app(settings)
        self.procs: list[subprocess.Popen[bytes]] = []
        self._n = 0

    # -- processes -----------------------------------------------------------------------

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        self._n += 1
        with (self.tmp / f"{args[0]}-{self._n}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.runtime.cli", *args],
                env={**self.env, **(env or {})},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        """An execution-running process: `serve` (embedded) or a Celery `worker`."""
        if self.kind == "embedded":
            return self.spawn("serve", "--no-api", env=env)
        return self.spawn("worker", env=env)

    def start_scheduler(self, **env: str) -> subprocess.Popen[bytes]:
        """A trigger-firing process: `serve` (embedded) or `scheduler` (scale-out)."""
        if self.kind == "embedded":
            return self.spawn("serve", "--no-api", env=env)
        return self.spawn("scheduler", env=env)

    def start(self, **env: str) -> None:
        """The whole runtime: one `serve`, or one scheduler and one worker."""
        self.start_worker(**env)
        if self.kind != "embedded":
            self.start_scheduler(**env)

    @staticmethod
    def kill9(proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    # -- workflows and executions -------------------------------------------------------

    def workflow(self, doc: dict[str, Any]) -> WorkflowRecord:
        record, _ = apply_workflow(self.app, self.app.tenant.id, Workflow.model_validate(doc))
        return record

    def submit(self, record: WorkflowRecord, inputs: dict[str, Any] | None = None) -> str:
        return ex.create_execution(
            self.app.store,
            tenant_id=record.tenant_id,
            workflow_id=record.id,
            inputs=dict(inputs or {}),
        )

    def status(self, execution_id: str) -> str:
        return ex.get_execution(self.app.store, execution_id).status

    def wait_finished(self, execution_id: str, timeout: float = 30) -> ex.ExecutionInfo:
        def done() -> ex.ExecutionInfo | None:
            info = ex.get_execution(self.app.store, execution_id)
            return info if info.status in ("succeeded", "failed") else None

        try:
            result: ex.ExecutionInfo = wait_for(done, timeout, f"execution {execution_id}")
        except AssertionError as exc:
            raise AssertionError(f"execution {execution_id} did not finish\n{self.logs()}") from exc
        return result

    def executions(self, workflow_id: str) -> list[ex.ExecutionInfo]:
        return ex.list_executions(
            self.app.store, self.app.tenant.id, workflow_id=workflow_id, limit=1000
        )


def _database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "embedded":
        return f"sqlite:///{tmp_path / 'kyra.db'}"
    url: str = request.getfixturevalue("pg_url")
    store = open_store(url, run_migrations=False)
    _truncate(store)
    store.close()
    return url


@pytest.fixture(params=["embedded", "celery"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """Each runtime in turn: embedded (SQLite) and Celery (Redis + PostgreSQL)."""
    kind: str = request.param
    broker = REDIS_URL if kind == "celery" else None
    harness = Harness(kind, _database(kind, request, tmp_path), broker, tmp_path)
    yield harness
    harness.stop_all()
    harness.app.close()


@pytest.fixture
def runtime_celery(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """The scale-out runtime only (Redis + PostgreSQL)."""
    harness = Harness("celery", _database("celery", request, tmp_path), REDIS_URL, tmp_path)
    yield harness
    harness.stop_all()
    harness.app.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Harness]:
    """The embedded runtime only (SQLite), for `kyra serve`'s own behaviour."""
    harness = Harness("embedded", f"sqlite:///{tmp_path / 'kyra.db'}", None, tmp_path)
    yield harness
    harness.stop_all()
    harness.app.close()


@pytest.fixture
def celery_amqp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """The scale-out runtime on RabbitMQ + PostgreSQL."""
    harness = Harness("celery", _database("celery", request, tmp_path), AMQP_URL, tmp_path)
    yield harness
    harness.stop_all()
    harness.app.close()


def http_steps(url: str, *paths: str) -> list[dict[str, Any]]:
    return [
        {"name": f"s{i}", "action": "http_request", "with": {"url": f"{url}{path}"}}
        for i, path in enumerate(paths)
    ]


def date_workflow(url: str, name: str = "dates") -> dict[str, Any]:
    """A workflow that sends "26/11/2026" to an API wanting ISO dates: a GREEN failure
    Kyra heals with a date normaliser."""
    return {
        "name": name,
        "inputs": {"due": "26/11/2026"},
        "steps": [
            {
                "name": "create",
                "action": "http_request",
                "with": {
                    "method": "POST",
                    "url": f"{url}/dates?format=%25Y-%25m-%25d&field=due",
                    "json": {"due": "{{ inputs.due }}"},
                },
            }
        ],
    }
