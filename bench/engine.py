"""Engine throughput: N executions of a 3-step HTTP workflow against a local server,
every execution and step persisted on SQLite (WAL).

Prints executions/s and the mean engine overhead per step (wall time minus the time
spent inside HTTP calls, per step). Usage: python bench/engine.py [--executions 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fault_server_process, percentile
from kyra.app import create_app
from kyra.service import apply_workflow
from kyra.settings import Settings
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executions", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="executions in flight at once (the embedded worker pool size)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fault_server_process() as url:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            home=Path(tmp),
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
        app = create_app(settings)
        record, _ = apply_workflow(app, app.tenant.id, workflow(url))
        executor = app.executor()
        for _ in range(args.warmup):
            executor.run(record)
        latencies: list[float] = []
        http: list[float] = []

        def one(_: int) -> None:
            t0 = time.perf_counter()
            result = executor.run(record)
            latencies.append((time.perf_counter() - t0) * 1000)
            if not result.succeeded:
                raise SystemExit(f"execution failed: {result.error_context}")
            http.append(sum(out["elapsed_ms"] for out in result.outputs.values()))

        start = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(one, range(args.executions)))
        wall = time.perf_counter() - start
        http_ms = sum(http) / args.threads
        steps = args.executions * 3
        overhead = (wall * 1000 - http_ms) / steps
        app.close()
    print(
        f"executions:                 {args.executions} (3 HTTP steps each, SQLite WAL, "
        f"{args.threads} thread(s))"
    )
    print(f"executions/s:               {args.executions / wall:,.1f}")
    print(
        f"execution latency p50/p95:  {percentile(latencies, 50):.2f} / "
        f"{percentile(latencies, 95):.2f} ms"
    )
    print(f"HTTP time per step:         {http_ms / steps:.3f} ms")
    print(f"engine overhead per step:   {overhead:.3f} ms")


if __name__ == "__main__":
    main()
