"""`kyra serve` end to end: one process runs the scheduler, the workers, healing and the
API/dashboard; an interval workflow that breaks on a date format heals itself."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kyra.demo import FaultServer
from tests.waiting import wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kyra(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kyra.cli", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
        cwd=env["KYRA_HOME"].rsplit("/", 1)[0],  # the test's own folder (kyra.toml, key)
    )


def test_serve_heals_a_scheduled_workflow_and_serves_the_dashboard(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    env = {
        **os.environ,
        "KYRA_DATABASE_URL": f"sqlite:///{tmp_path / 'kyra.db'}",
        "KYRA_HOME": str(tmp_path / ".kyra"),
        "KYRA_LANG": "en",
        "KYRA_METRICS_TOKEN": "operator-token-0123456789",
    }
    flow = tmp_path / "flow.yaml"
    flow.write_text(f"""\
name: every-second
trigger: {{interval: 1s}}
inputs: {{due: "26/11/2026"}}
steps:
  - name: create
    action: http_request
    with:
      method: POST
      url: "{fault_server.url}/dates?format=%Y-%m-%d&field=due"
      json: {{due: "{{{{ inputs.due }}}}"}}
""")
    assert _kyra(env, "init").returncode == 0
    assert _kyra(env, "workflows", "apply", str(flow)).returncode == 0
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kyra.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:

        def healed() -> dict[str, object] | None:
            listed = json.loads(_kyra(env, "workflows", "list", "--json").stdout or "[]")
            state: dict[str, object] = listed[0] if listed else {}
            return (
                state
                if (state.get("state"), state.get("config_version")) == ("active", 2)
                else None
            )

        wait_for(healed, 60, "the workflow healed, active at config v2", every=0.5)
        page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert page.status_code == 200 and "Kyra" in page.text
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)  # no key
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "runtime": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        scrape = httpx.get(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": "Bearer operator-token-0123456789"},
            timeout=10,
        ).text
        assert 'kyra_workers_live{kind="embedded"} 1.0' in scrape
        assert 'kyra_fix_verifications_total{error_class="invalid_date_format"' in scrape
        finished = {
            s.labels["status"]: s.value
            for family in text_string_to_metric_families(scrape)
            for s in family.samples
            if s.name == "kyra_executions_total" and s.labels["tenant"] == "default"
        }
        assert finished["failed"] >= 1 and finished["succeeded"] >= 1, finished
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    fixes = json.loads(_kyra(env, "fixes", "list", "--json").stdout)
    assert [(f["error_class"], f["status"], f["outcome"]) for f in fixes] == [
        ("invalid_date_format", "applied", "succeeded")
    ]


def test_processes_refuse_a_database_they_cannot_share(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KYRA_DATABASE_URL": "sqlite:///:memory:",
        "KYRA_HOME": str(tmp_path / ".kyra"),
        "KYRA_LANG": "es",
    }
    done = _kyra(env, "serve", "--processes", "2", "--no-api")
    assert done.returncode == 2
    assert "SQLite en memoria es privada de un proceso" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("access_log", [True, False])
def test_serve_logs_json_lines_with_an_access_log(tmp_path: Path, access_log: bool) -> None:
    """JSON lines; a line per API request only with --access-log (quiet by default)."""
    env = {
        **os.environ,
        "KYRA_DATABASE_URL": f"sqlite:///{tmp_path / 'kyra.db'}",
        "KYRA_HOME": str(tmp_path / ".kyra"),
        "KYRA_LANG": "en",
        "KYRA_LOG_FORMAT": "json",
    }
    assert _kyra(env, "init").returncode == 0
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kyra", "serve", "--no-scheduler", "--port", str(port)]
        + (["--access-log"] if access_log else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:

        def login() -> httpx.Response | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/login?next=x", timeout=5)
            except httpx.TransportError:
                return None

        assert wait_for(login, 60, "the dashboard answering").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 0, errors
    records = [json.loads(line) for line in errors.splitlines() if line.strip()]
    assert records and all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert access_log == any(
        r["method"] == "GET" and r["path"] == "/login?next=x" and r["status"] == 200 for r in access
    ), access
    assert access_log or not access
    assert not any(r["logger"].startswith(("httpx", "httpcore")) for r in records)


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler"])
def test_serve_refuses_an_unknown_log_level(tmp_path: Path, command: str) -> None:
    # worker and scheduler name the flag too, before the broker and PostgreSQL they lack here
    env = {**os.environ, "KYRA_DATABASE_URL": "sqlite:///:memory:", "KYRA_LANG": "es"}
    env.pop("KYRA_BROKER_URL", None)
    done = _kyra({**env, "KYRA_HOME": str(tmp_path / ".kyra")}, command, "--log-level", "LOUD")
    assert done.returncode == 2 and "--log-level LOUD" in done.stderr
    assert "Traceback" not in done.stderr
