"""Real Prefect 3 flow runs (in the .venv-prefect overlay scripts/setup builds: Prefect pins
FastAPI below .venv's) with Kyra's retry condition and hooks, against the real fault
server, recording into a real store."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from kyra.demo import FaultServer
from kyra.store import api_stats, open_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.tenants import ensure_tenant

ROOT = Path(__file__).resolve().parents[2]
PREFECT_PYTHON = ROOT / ".venv-prefect" / "bin" / "python"


def test_prefect_flows_retry_green_tasks_and_fail_red_ones_at_once(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    assert PREFECT_PYTHON.exists(), "run scripts/setup: it builds .venv-prefect"
    db_url = f"sqlite:///{tmp_path / 'kyra.db'}"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # Prefect starts its own API server for the run; on a busy 2-core machine its
        # default 20 s start-up allowance is not always enough.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "KYRA_DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [
            str(PREFECT_PYTHON),
            str(ROOT / "tests" / "integrations" / "prefect_flows.py"),
            fault_server.url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"healed": [200, 200], "unauthorised": "FAILED"}
    assert fault_server.stats()["paths"] == {"/flaky/p": 3, "/flaky/q": 2, "/auth": 1}
    store = open_store(db_url)
    try:
        tenant = ensure_tenant(store, "default").id
        assert sorted(api_stats.fix_counts(store, tenant)) == [
            ("rate_limit_exceeded", "applied", "succeeded", 1),
            ("service_temporarily_unavailable", "applied", "succeeded", 1),
        ]
        fixes = {f.error_class: f for f in heal_store.list_fixes(store, tenant)}
        assert fixes["rate_limit_exceeded"].patch == {"retry_in_seconds": 1.0}
        assert fixes["rate_limit_exceeded"].workflow_name == "fetch"
        red = [
            a
            for a in heal_store.list_audit(store, tenant)
            if a.kind == "diagnosis" and a.details.get("safety") == "RED"
        ]
        assert {a.details["error_class"] for a in red} == {"invalid_credentials"}
        assert {w.name for w in wf_store.list_workflows(store, tenant)} >= {"fetch", "unauthorised"}
    finally:
        store.close()
