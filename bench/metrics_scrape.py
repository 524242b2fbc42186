"""Scrape time of `/metrics` as history grows; run with
`.venv/bin/python bench/metrics_scrape.py [--postgres URL]`.

History is audit records (diagnoses) and finished executions, 1k, 10k and 100k of each,
bulk-inserted the way years of running leave them. The scrape goes through the real
API (ASGI, a tenant's key); the median of several scrapes is printed per size. The
scrape reads counters kept on write and gauges over indexed live states, so the times
should be flat. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import insert

from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import Kyra, create_app
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store.healing_tables import AuditRow
from kyra.store.tables import ExecutionRow, new_id
from kyra.store.tenants import ensure_tenant
from kyra.workflows.model import Workflow

SIZES = (1_000, 10_000, 100_000)
SCRAPES = 15
BATCH = 5_000


def grow(kyra: Kyra, tenant_id: str, workflow_id: str, rows: int) -> None:
    """Add `rows` diagnosis audit records and `rows` finished executions."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for offset in range(0, rows, BATCH):
        n = min(BATCH, rows - offset)
        at = [start + timedelta(seconds=offset + i) for i in range(n)]
        with kyra.store.engine.begin() as conn:
            conn.execute(
                insert(AuditRow),
                [
                    {
                        "tenant_id": tenant_id,
                        "workflow_id": workflow_id,
                        "kind": "diagnosis",
                        "actor": "kyra",
                        "summary": "rate_limit_exceeded",
                        "details": {"tier": "rules", "latency_ms": 3.0, "tokens": 0},
                        "cost": 0.0,
                        "created_at": t,
                    }
                    for t in at
                ],
            )
            conn.execute(
                insert(ExecutionRow),
                [
                    {
                        "id": new_id(),
                        "tenant_id": tenant_id,
                        "workflow_id": workflow_id,
                        "status": "succeeded" if i % 10 else "failed",
                        "inputs": {},
                        "run_at": t,
                        "created_at": t,
                        "started_at": t,
                        "finished_at": t,
                    }
                    for i, t in enumerate(at)
                ],
            )


def scrape_ms(http: TestClient, key: str) -> float:
    times = []
    for _ in range(SCRAPES):
        start = time.perf_counter()
        r = http.get("/metrics", headers={"Authorization": f"Bearer {key}"})
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to an empty database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'kyra.db'}"
        settings = Settings(
            database_url=url,
            home=Path(tmp) / ".kyra",
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
        with create_app(settings) as kyra, TestClient(create_api(kyra)) as http:
            tenant = ensure_tenant(kyra.store, "bench")
            _, key = create_api_key(kyra, tenant.id)
            doc = {
                "name": "w",
                "steps": [{"name": "s", "action": "transform", "with": {"value": 1}}],
            }
            record, _ = apply_workflow(kyra, tenant.id, Workflow.model_validate(doc))
            have = 0
            print(f"database: {kyra.store.dialect}; median of {SCRAPES} scrapes")
            for size in SIZES:
                grow(kyra, tenant.id, record.id, size - have)
                have = size
                print(
                    f"{size:>8,} audit rows + {size:>8,} executions: {scrape_ms(http, key):7.2f} ms"
                )


if __name__ == "__main__":
    main()
