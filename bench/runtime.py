"""Runtime throughput and scheduler lag. Not a test: figures depend on the machine.

    python bench/runtime.py [--executions 2000] [--workflows 10000] [--skip-celery]

1. Embedded: executions/s of a 3-step HTTP workflow (fault server in its own process),
   every execution and step persisted on SQLite, through `EmbeddedRuntime` (claims,
   leases, worker pool), in one process and with `kyra serve --processes` worker
   processes. The clock runs from the moment all executions become due to the last one
   finished.
2. Celery: the same with 1 and 2 `kyra worker` processes on Redis + PostgreSQL (a
   private database on 127.0.0.1), fed by the scale-out dispatcher.
3. Scheduler lag: 10,000 workflows with an every-10-s interval trigger (all due at the
   same instant: the worst burst), on SQLite. Lag = when the execution is queued and
   runnable (its commit, or its slot if queued ahead) minus its slot; p50/p95 over every
   slot fired after a 10 s warm-up, in ~35 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fault_server_process, percentile
from kyra.app import Kyra, create_app
from kyra.runtime.celery_app import make_celery
from kyra.runtime.dispatch import Dispatcher
from kyra.runtime.embedded import EmbeddedRuntime
from kyra.runtime.processes import WorkerProcesses
from kyra.runtime.scheduler import Scheduler
from kyra.runtime.settings import RuntimeSettings
from kyra.settings import Settings
from kyra.store import executions as ex
from kyra.store import queue, workers
from kyra.store import workflows as wf_store
from kyra.store.schedules import Fired
from kyra.store.tables import ExecutionRow
from kyra.workflows.model import Workflow

PG_ADMIN = os.environ.get("KYRA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("KYRA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def three_steps(url: str, name: str = "bench-runtime") -> Workflow:
    return Workflow.model_validate(
        {
            "name": name,
            "inputs": {"customer": "c-42"},
            "steps": [
                {
                    "name": "fetch",
                    "action": "http_request",
                    "with": {"url": f"{url}/ok", "query": {"customer": "{{ inputs.customer }}"}},
                },
                {
                    "name": "post",
                    "action": "http_request",
                    "with": {"url": f"{url}/echo", "method": "POST", "json": {"n": 1}},
                },
                {"name": "done", "action": "http_request", "with": {"url": f"{url}/ok"}},
            ],
        }
    )


def _app(url: str, home: Path, turns: bool = False) -> Kyra:
    key = SecretStr(Fernet.generate_key().decode())
    return create_app(
        Settings(
            database_url=url,
            home=home,
            secret_key=key,
            broker_url=REDIS,
            sqlite_write_turns=turns,
        )
    )


def _queue(app: Kyra, workflow: Workflow, n: int, run_at: datetime | None = None) -> None:
    record, _ = wf_store.save_workflow(app.store, app.tenant.id, workflow, replace=True)
    for _ in range(n):
        ex.create_execution(
            app.store, tenant_id=app.tenant.id, workflow_id=record.id, inputs={}, run_at=run_at
        )


def _wait_done(app: Kyra, total: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        counts = queue.count_by_status(app.store, ("succeeded", "failed"))
        if sum(counts.values()) >= total:
            if counts.get("failed"):
                print(f"  warning: {counts['failed']} executions failed")
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {counts} of {total} finished")
        time.sleep(0.02)


def bench_embedded(url: str, n: int, concurrency: int, processes: int = 1) -> float:
    """`processes` > 1: this process plus worker processes, as `kyra serve --processes`.
    The executions are queued for later; once every process is up (its first heartbeat
    recorded) they all become due at once, and the clock runs until the last finished."""
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/kyra.db"
        app = _app(db, Path(tmp), turns=processes > 1)  # as `kyra serve --processes N`
        key = app.settings.secret_key
        assert key is not None
        saved = dict(os.environ)
        os.environ.update(
            {
                "KYRA_DATABASE_URL": db,
                "KYRA_HOME": tmp,
                "KYRA_SECRET_KEY": key.get_secret_value(),
                "KYRA_RUNTIME_POLL_SECONDS": "0.05",
                "KYRA_SQLITE_WRITE_TURNS": "1" if processes > 1 else "0",
            }
        )
        _queue(app, three_steps(url), n, run_at=app.clock.now() + timedelta(hours=1))
        extra = WorkerProcesses(processes - 1, concurrency=concurrency, heal=False)
        runtime = EmbeddedRuntime(app, RuntimeSettings(concurrency=concurrency), schedule=False)
        if processes > 1:
            extra.start()
        runtime.start()
        since = app.clock.now() - timedelta(minutes=1)
        deadline = time.monotonic() + 60
        while len(workers.workers(app.store, since)) < processes:
            if time.monotonic() > deadline:
                raise TimeoutError("worker processes did not start")
            time.sleep(0.05)
        with app.store.engine.begin() as conn:  # all due at once, now that all are up
            conn.execute(update(ExecutionRow).values(run_at=app.clock.now()))
        start = time.perf_counter()
        runtime.pool.wake()
        _wait_done(app, n)
        elapsed = time.perf_counter() - start
        extra.terminate()
        runtime.stop()
        extra.wait(10)
        os.environ.clear()
        os.environ.update(saved)
        app.close()
    return n / elapsed


@contextmanager
def pg_database() -> Iterator[str]:
    name = f"kyra_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}".replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_celery(url: str, n: int, workers: int, concurrency: int) -> float:
    with pg_database() as db, tempfile.TemporaryDirectory() as tmp:
        app = _app(db, Path(tmp))
        runtime = RuntimeSettings(
            queue=f"kyra-bench-{uuid.uuid4().hex[:6]}", scheduler_tick_seconds=0.05
        )
        env = {
            **os.environ,
            "KYRA_DATABASE_URL": db,
            "KYRA_BROKER_URL": REDIS,
            "KYRA_HOME": tmp,
            "KYRA_RUNTIME_QUEUE": runtime.queue,
            "KYRA_RUNTIME_CONCURRENCY": str(concurrency),
        }
        code = "from kyra.cli.worker import worker; worker(concurrency=None, loglevel='WARNING')"
        log = (Path(tmp) / "workers.log").open("wb")
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for _ in range(workers)
        ]
        dispatcher = Dispatcher(app, runtime, make_celery(app.settings, runtime))
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                try:
                    dispatcher.tick()
                except Exception as exc:  # keep dispatching; show why a round failed
                    print(f"  dispatcher: {exc!r}", file=sys.stderr)
                stop.wait(runtime.scheduler_tick_seconds)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            _queue(app, three_steps(url), 4 * workers)  # warm-up: workers up, pools open
            _wait_done(app, 4 * workers, timeout=120)
            _queue(app, three_steps(url), n)
            start = time.perf_counter()
            _wait_done(app, n + 4 * workers)
            rate = n / (time.perf_counter() - start)
        finally:
            stop.set()
            thread.join()
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            log.close()
            if os.environ.get("KYRA_BENCH_VERBOSE"):
                print((Path(tmp) / "workers.log").read_text()[-3000:])
            app.close()
    return rate


def bench_scheduler(
    workflows: int, seconds: float, lookahead: float | None = None
) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(f"sqlite:///{tmp}/kyra.db", Path(tmp))
        tenant = app.tenant.id
        for i in range(workflows):
            doc = {
                "name": f"every-10s-{i}",
                "trigger": {"interval": "10s"},
                "steps": [{"name": "a", "action": "transform", "with": {"value": i}}],
            }
            wf_store.save_workflow(app.store, tenant, Workflow.model_validate(doc))
        lags: list[float] = []
        bursts: dict[object, list[float]] = {}

        def record(batch: list[Fired]) -> None:
            # Runnable at max(commit, slot): a slot queued ahead has no lag.
            committed = app.clock.now()
            if batch[0].scheduled_for < measure_from:
                return  # the burst right after start-up is not steady state
            lags.extend(max(0.0, (committed - f.scheduled_for).total_seconds()) for f in batch)
            bursts.setdefault(batch[0].scheduled_for, []).append(
                (committed - batch[0].scheduled_for).total_seconds()
            )

        settings = (
            RuntimeSettings() if lookahead is None else RuntimeSettings(lookahead_seconds=lookahead)
        )
        scheduler = Scheduler(app.store, app.clock, settings, owner="bench", on_fired=record)
        scheduler.sync()
        measure_from = app.clock.now() + timedelta(seconds=10)  # one interval of warm-up
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            scheduler.tick()
            time.sleep(settings.scheduler_tick_seconds)
        app.close()
    if os.environ.get("KYRA_BENCH_VERBOSE"):
        for slot, offsets in bursts.items():
            print(f"  burst {slot}: batches committed at {[round(o, 2) for o in offsets]} s")
    return percentile(lags, 50), percentile(lags, 95), len(lags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--processes", type=int, default=2, help="embedded: also measure this many processes"
    )
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--lag-seconds", type=float, default=35.0)
    parser.add_argument("--skip-celery", action="store_true")
    args = parser.parse_args()
    with fault_server_process() as url:
        for procs in sorted({1, args.processes}):
            rate = bench_embedded(url, args.executions, args.concurrency, procs)
            print(
                f"embedded (SQLite, {procs} process(es) x {args.concurrency} threads)"
                f"   {rate:8.0f} executions/s"
            )
        if not args.skip_celery:
            for workers in (1, 2):
                rate = bench_celery(url, args.executions, workers, args.concurrency)
                print(f"celery ({workers} worker(s), Redis+PG)   {rate:8.0f} executions/s")
    for lookahead in (None, 0.0):
        p50, p95, fired = bench_scheduler(args.workflows, args.lag_seconds, lookahead)
        label = "default lookahead" if lookahead is None else "no lookahead"
        print(
            f"scheduler lag, {args.workflows} workflows ({label})   p50 {p50 * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms over {fired} fired slots"
        )


if __name__ == "__main__":
    main()
