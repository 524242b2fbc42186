"""Engine throughput: N executions of a 3-step HTTP workflow against a local server,
every execution and step persisted on SQLite (WAL).

Prints executions/s and the mean engine overhead per step (wall time minus the time
spent inside HTTP calls, per step). Usage: python bench/engine.py [--executions 500]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fault_server_process, percentile
from kyra.app import create_app
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store.workflows import get_workflow_by_id
from kyra.workflows.model import Workflow


def workflow(url: str) -> Workflow:
    return Workflow.model_validate(
        {
            "name": "bench-3-steps",
            "inputs": {"customer": "c-42"},
            "steps": [
                {
                    "name": "fetch",
                    "action": "http_request",
                    "with": {"url": f"{url}/ok", "query": {"customer": "{{ inputs.customer }}"}},
                },
                {
                    "name": "enrich",
                    "action": "http_request",
                    "with": {
                        "method": "POST",
                        "url": f"{url}/echo",
                        "json": {"customer": "{{ steps.fetch.output.json.echo.customer }}"},
                    },
                },
                {
                    "name": "notify",
                    "action": "http_request",
                    "with": {
                        "method": "POST",
                        "url": f"{url}/ok",
                        "json": {"done": "{{ steps.enrich.output.status_code }}"},
                    },
                },
            ],
        }
    )


def _settings(tmp: str, key: str, processes: int = 1) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp}/bench.db",
        home=Path(tmp),
        secret_key=SecretStr(key),
        sqlite_write_turns=processes > 1,  # as `kyra serve --processes N` does
    )


def _worker(
    tmp: str,
    key: str,
    record_id: str,
    count: int,
    warmup: int,
    threads: int,
    processes: int,
    barrier: Any,
    out: Any,
) -> None:
    """One process: its own app on the shared SQLite file, `count` executions."""
    app = create_app(_settings(tmp, key, processes))
    record = get_workflow_by_id(app.store, record_id)
    executor = app.executor()
    for _ in range(warmup):
        executor.run(record)
    latencies: list[float] = []
    http: list[float] = []

    def one(_: int) -> None:
        t0 = time.perf_counter()
        result = executor.run(record)
        latencies.append((time.perf_counter() - t0) * 1000)
        if not result.succeeded:
            raise SystemExit(f"execution failed: {result.error_context}")
        http.append(sum(o["elapsed_ms"] for o in result.outputs.values()))

    barrier.wait()
    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    out.put((start, time.perf_counter(), latencies, http, time.process_time() - cpu))
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executions", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="executions in flight per process")
    parser.add_argument(
        "--processes", type=int, default=1, help="processes sharing the SQLite file (one per core)"
    )
    args = parser.parse_args()
    key = Fernet.generate_key().decode()
    ctx = mp.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp, fault_server_process() as url:
        app = create_app(_settings(tmp, key))
        record, _ = apply_workflow(app, app.tenant.id, workflow(url))
        app.close()
        barrier, out = ctx.Barrier(args.processes), ctx.Queue()
        share = args.executions // args.processes
        procs = [
            ctx.Process(
                target=_worker,
                args=(
                    tmp,
                    key,
                    record.id,
                    share,
                    args.warmup,
                    args.threads,
                    args.processes,
                    barrier,
                    out,
                ),
            )
            for _ in range(args.processes)
        ]
        for proc in procs:
            proc.start()
        results = [out.get() for _ in procs]
        for proc in procs:
            proc.join()
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    latencies = [x for r in results for x in r[2]]
    http_ms = sum(x for r in results for x in r[3])
    total = share * args.processes
    steps = total * 3
    busy_ms = wall * 1000 * args.processes * args.threads
    print(
        f"executions:                 {total} (3 HTTP steps each, SQLite WAL, "
        f"{args.processes} process(es) x {args.threads} thread(s))"
    )
    print(f"executions/s:               {total / wall:,.1f}")
    print(
        f"execution latency p50/p95:  {percentile(latencies, 50):.2f} / "
        f"{percentile(latencies, 95):.2f} ms"
    )
    print(f"HTTP time per step:         {http_ms / steps:.3f} ms")
    print(f"engine overhead per step:   {(busy_ms - http_ms) / steps:.3f} ms")
    cpu_ms = sum(r[4] for r in results) * 1000
    print(f"CPU per execution:          {cpu_ms / total:.2f} ms (this process's, all included)")


if __name__ == "__main__":
    main()
