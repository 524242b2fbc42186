"""OpenTelemetry traces, exported over OTLP/HTTP to a real receiver: a span per
execution, per step (its children) and per healing decision (a child of the failed
execution, with class, safety, remedy and the gate's verdict)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kyra.api.runs import run_and_heal
from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.service import apply_workflow
from kyra.store import workflows as wf_store
from kyra.telemetry import endpoint
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings
from tests.servers.otlp import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.waiting import wait_for


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as r:
        yield r


@pytest.fixture
def traced(
    tmp_path: Path, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Kyra]:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "kyra-test")
    app = create_app(fresh_settings(tmp_path))
    yield app
    app.close()


def _by_name(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.name == name]


def test_a_healed_run_is_traced_execution_steps_and_decision(
    traced: Kyra, receiver: OtlpReceiver, fault_server: FaultServer
) -> None:
    # Two requests less than a second apart: the second gets 429 + Retry-After (GREEN).
    url = f"{fault_server.url}/pace/traced?min_interval=1"
    doc = {
        "name": "traced",
        "steps": [
            {"name": "list", "action": "http_request", "with": {"url": url}},
            {"name": "send", "action": "http_request", "with": {"url": url}},
        ],
    }
    tenant = traced.tenant
    record, _ = apply_workflow(traced, tenant.id, Workflow.model_validate(doc))
    drive = run_and_heal(traced, wf_store.get_workflow_by_id(traced.store, record.id), {})
    assert [r.status for r in drive.results] == ["failed", "succeeded"]
    assert traced.tracing is not None and traced.tracing.flush()
    spans = wait_for(lambda: len(receiver.spans) >= 6 and receiver.spans, 10, "six spans")

    executions = _by_name(spans, "kyra.execution")
    failed_id, rerun_id = (r.execution_id for r in drive.results)
    failed = next(s for s in executions if s.attributes["kyra.execution.id"] == failed_id)
    rerun = next(s for s in executions if s.attributes["kyra.execution.id"] == rerun_id)
    assert failed.parent_span_id == "" and failed.service == "kyra-test"
    assert failed.attributes["kyra.execution.status"] == "failed" and failed.status_code == 2
    assert failed.attributes["kyra.workflow.name"] == "traced"
    assert rerun.attributes["kyra.execution.status"] == "succeeded"
    assert rerun.attributes["kyra.trigger"] == "heal"

    steps = _by_name(spans, "kyra.step")
    failed_steps = {
        s.attributes["kyra.step.name"]: s for s in steps if s.parent_span_id == failed.span_id
    }
    assert set(failed_steps) == {"list", "send"}
    assert all(s.trace_id == failed.trace_id for s in failed_steps.values())
    assert failed_steps["list"].attributes["kyra.step.status"] == "succeeded"
    assert failed_steps["send"].attributes["kyra.step.status"] == "failed"
    assert failed_steps["send"].attributes["kyra.step.action"] == "http_request"
    assert failed_steps["send"].status_code == 2
    assert any(s.parent_span_id == rerun.span_id for s in steps)

    [decision] = _by_name(spans, "kyra.heal")
    assert decision.parent_span_id == failed.span_id and decision.trace_id == failed.trace_id
    attributes = decision.attributes
    assert attributes["kyra.heal.error_class"] == "rate_limit_exceeded"
    assert attributes["kyra.heal.safety"] == "GREEN"
    assert attributes["kyra.heal.tier"] == "rules"
    assert attributes["kyra.heal.decision"] == "fix_applied"
    assert attributes["kyra.heal.gate"] == "allowed:automatic"
    assert attributes["kyra.heal.remedy"]  # what the fix does, in words
    assert attributes["kyra.fix.id"] == drive.outcomes[0].fix_id
    assert decision.start_ns <= decision.end_ns


def test_tracing_is_off_without_an_endpoint_and_honours_the_standard_switches() -> None:
    assert endpoint({}) is None
    assert endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == "http://c:4318"
    on = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}
    assert endpoint({**on, "OTEL_SDK_DISABLED": "true"}) is None
    assert endpoint({**on, "OTEL_TRACES_EXPORTER": "none"}) is None
    traces_only = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}
    assert endpoint(traces_only) == "http://c:4318/v1/traces"


def test_the_core_never_imports_opentelemetry(tmp_path: Path) -> None:
    # Not kyra.api: FastAPI itself imports opentelemetry's API when it is installed.
    code = (
        "import sys\n"
        "from kyra.app import create_app\n"
        "from kyra.settings import Settings\n"
        "import kyra.cli, kyra.healing.factory, kyra.runtime.embedded\n"
        f"app = create_app(Settings(database_url='sqlite:///{tmp_path / 'k.db'}'))\n"
        "app.executor(); assert app.tracing is None\n"
        "loaded = [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "assert not loaded, loaded\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
