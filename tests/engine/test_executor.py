"""The executor against a real fault-injecting HTTP server."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from kyra.app import Kyra
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo
from kyra.service import apply_workflow
from kyra.store import executions as ex
from kyra.store import secrets as sec
from kyra.store import workflows as wf
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow

SECRET = "tok-Very-Secret-7781"


def _save(kyra: Kyra, doc: dict[str, Any]) -> WorkflowRecord:
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def _http(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "action": "http_request", "with": {"url": url, **extra}}


def test_outputs_flow_forward_and_every_step_is_stored(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    record = _save(
        kyra,
        {
            "name": "chain",
            "inputs": {"who": "ana"},
            "steps": [
                _http("first", f"{fault_server.url}/ok", query={"who": "{{ inputs.who }}"}),
                {
                    "name": "shape",
                    "action": "transform",
                    "with": {"value": {"greeting": "hi {{ steps.first.output.json.echo.who }}"}},
                },
                _http(
                    "second",
                    f"{fault_server.url}/echo",
                    method="POST",
                    json="{{ steps.shape.output }}",
                ),
            ],
        },
    )
    result = kyra.executor().run(record, {"who": "luis"})
    assert result.succeeded
    assert result.outputs["second"]["json"]["json"] == {"greeting": "hi luis"}
    stored = ex.get_execution(kyra.store, result.execution_id)
    assert stored.status == "succeeded" and stored.config_version == 1
    assert [(s.step_name, s.status, s.attempts) for s in stored.steps] == [
        ("first", "succeeded", 1),
        ("shape", "succeeded", 1),
        ("second", "succeeded", 1),
    ]
    assert wf.get_workflow_by_id(kyra.store, record.id).state == "active"


def test_retryable_errors_are_retried_with_backoff(
    kyra: Kyra, fault_server: FaultServer, clock: ManualClock
) -> None:
    record = _save(
        kyra,
        {
            "name": "flaky",
            "config": {
                "retry": {"max_retries": 3, "initial_delay": 2, "multiplier": 2, "jitter": False}
            },
            "steps": [_http("call", f"{fault_server.url}/flaky/f1?fail=2&status=503")],
        },
    )
    result = kyra.executor().run(record)
    assert result.succeeded
    assert clock.slept == [2.0, 4.0]
    assert ex.get_execution(kyra.store, result.execution_id).steps[0].attempts == 3


def test_retry_after_is_honoured(kyra: Kyra, fault_server: FaultServer, clock: ManualClock) -> None:
    record = _save(
        kyra,
        {
            "name": "limited",
            "config": {"retry": {"max_retries": 1, "initial_delay": 0.1, "jitter": False}},
            "steps": [
                _http("call", f"{fault_server.url}/flaky/r1?fail=1&status=429&retry_after=7")
            ],
        },
    )
    assert kyra.executor().run(record).succeeded
    assert clock.slept == [7.0]


def test_final_failure_captures_a_complete_redacted_error_context(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    sec.set_secret(kyra.store, kyra.box, kyra.tenant.id, "API_TOKEN", SECRET)
    record = _save(
        kyra,
        {
            "name": "broken",
            "inputs": {"customer": "c-1"},
            "steps": [
                _http("ok", f"{fault_server.url}/ok", auth={"bearer": "{{ secrets.API_TOKEN }}"}),
                _http(
                    "bad",
                    f"{fault_server.url}/status/400",
                    query={"body": "rejected {{ secrets.API_TOKEN }}"},
                ),
            ],
        },
    )
    kyra.executor().run(record)  # a first failure, to appear in previous_executions
    result = kyra.executor().run(record)
    assert result.status == "failed" and result.failed_step == "bad"
    ctx = result.error_context
    assert isinstance(ctx, ErrorContext)
    assert (ctx.workflow_id, ctx.step_name, ctx.step_index, ctx.step_action) == (
        record.id,
        "bad",
        1,
        "http_request",
    )
    assert ctx.status_code == 400 and ctx.error_type == "HTTPStatusError"
    assert ctx.provider == "127.0.0.1" and ctx.attempt == 1 and ctx.elapsed_seconds is not None
    assert ctx.header("content-type") is not None
    assert ctx.body == "rejected [REDACTED]" and SECRET not in ctx.error_message
    assert ctx.execution_context["inputs"] == {"customer": "c-1"}
    assert ctx.execution_context["outputs"]["ok"]["status_code"] == 200
    assert [p["status"] for p in ctx.previous_executions] == ["failed"]
    stored = ex.get_execution(kyra.store, result.execution_id)
    assert stored.error_context is not None and stored.error_context["status_code"] == 400
    state = wf.get_workflow_by_id(kyra.store, record.id)
    assert state.state == "failed" and "bad" in state.state_reason


def test_secret_values_never_reach_the_database(kyra: Kyra, fault_server: FaultServer) -> None:
    sec.set_secret(kyra.store, kyra.box, kyra.tenant.id, "API_TOKEN", SECRET)
    record = _save(
        kyra,
        {
            "name": "leaky",
            "steps": [
                _http(
                    "echo",
                    f"{fault_server.url}/echo",
                    method="POST",
                    headers={"X-Custom": "{{ secrets.API_TOKEN }}"},
                    json={"token": "{{ secrets.API_TOKEN }}"},
                ),
                {
                    "name": "copy",
                    "action": "transform",
                    "with": {"value": "{{ secrets.API_TOKEN }}"},
                },
                _http("fail", f"{fault_server.url}/status/500?body={{{{ secrets.API_TOKEN }}}}"),
            ],
        },
    )
    result = kyra.executor().run(record)
    assert result.status == "failed"
    dump = "\n".join(kyra.store.engine.raw_connection().driver_connection.iterdump())  # type: ignore[union-attr]
    assert "tok-Very-Secret" not in dump
    assert "[REDACTED]" in dump


def test_workflow_state_returns_to_active_after_a_good_run(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    record = _save(
        kyra,
        {
            "name": "recovers",
            "steps": [_http("call", f"{fault_server.url}/flaky/s1?fail=1&status=400")],
        },
    )
    assert kyra.executor().run(record).status == "failed"
    assert kyra.executor().run(wf.get_workflow_by_id(kyra.store, record.id)).succeeded
    changes = [(c.from_state, c.to_state) for c in wf.state_history(kyra.store, record.id)]
    assert changes == [("active", "failed"), ("failed", "active")]


def test_on_error_continue_keeps_going(kyra: Kyra, fault_server: FaultServer) -> None:
    record = _save(
        kyra,
        {
            "name": "tolerant",
            "steps": [
                {**_http("optional", f"{fault_server.url}/status/404"), "on_error": "continue"},
                _http("main", f"{fault_server.url}/ok"),
            ],
        },
    )
    result = kyra.executor().run(record)
    assert result.succeeded
    steps = ex.get_execution(kyra.store, result.execution_id).steps
    assert [s.status for s in steps] == ["failed", "succeeded"]


def test_template_errors_fail_the_step_without_retrying(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    record = _save(
        kyra,
        {
            "name": "typo",
            "config": {"retry": {"max_retries": 3}},
            "steps": [_http("call", "{{ steps.nope.output.url }}")],
        },
    )
    result = kyra.executor().run(record)
    assert result.status == "failed"
    assert result.error_context is not None
    assert result.error_context.error_type == "TemplateError"
    assert result.error_context.attempt == 1
    assert fault_server.stats()["total"] == 0


def test_timeouts_are_structured(kyra: Kyra, fault_server: FaultServer) -> None:
    record = _save(
        kyra,
        {
            "name": "slow",
            "config": {"timeout": 0.2},
            "steps": [_http("call", f"{fault_server.url}/slow?delay=1")],
        },
    )
    ctx = kyra.executor().run(record).error_context
    assert ctx is not None and ctx.error_type == "ReadTimeout" and ctx.status_code is None


def test_request_delay_paces_requests_of_a_run(
    kyra: Kyra, fault_server: FaultServer, clock: ManualClock
) -> None:
    record = _save(
        kyra,
        {
            "name": "paced",
            "config": {"request_delay": 3},
            "steps": [_http(f"s{i}", f"{fault_server.url}/ok") for i in range(3)],
        },
    )
    assert kyra.executor().run(record).succeeded
    assert clock.slept == [3.0, 3.0]


def test_step_overrides_apply_to_that_step_only(kyra: Kyra, fault_server: FaultServer) -> None:
    record = _save(
        kyra,
        {
            "name": "override",
            "config": {"timeout": 0.2},
            "steps": [
                {**_http("slow", f"{fault_server.url}/slow?delay=0.4"), "config": {"timeout": 3}},
                _http("fast", f"{fault_server.url}/slow?delay=0.4"),
            ],
        },
    )
    result = kyra.executor().run(record)
    assert result.failed_step == "fast"


def test_resume_reuses_saved_outputs_and_skips_side_effects(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    record = _save(
        kyra,
        {
            "name": "resume",
            "steps": [
                _http("send", f"{fault_server.url}/echo", method="POST", json={"n": 1}),
                _http(
                    "after",
                    f"{fault_server.url}/flaky/z1?fail=1&status=400",
                    query={"from": "{{ steps.send.output.json.method }}"},
                ),
            ],
        },
    )
    first = kyra.executor().run(record)
    assert first.failed_step == "after"
    resumed_id = ex.create_execution(
        kyra.store,
        tenant_id=record.tenant_id,
        workflow_id=record.id,
        inputs={},
        trigger="retry",
        resume_of=first.execution_id,
        start_step=1,
    )
    result = kyra.executor().execute(resumed_id)
    assert result.succeeded
    assert fault_server.stats()["paths"]["/echo"] == 1  # the side effect was not repeated
    steps = ex.get_execution(kyra.store, resumed_id).steps
    assert [(s.step_name, s.reused) for s in steps] == [("send", True), ("after", False)]


def test_execution_is_durable_before_any_step_runs(kyra: Kyra, fault_server: FaultServer) -> None:
    seen: list[str] = []

    class Probe(ExecutorObserver):
        def on_step_started(self, run: RunInfo, index: int, step_name: str) -> None:
            seen.append(ex.get_execution(kyra.store, run.execution_id).status)

    record = _save(kyra, {"name": "durable", "steps": [_http("a", f"{fault_server.url}/ok")]})
    kyra.executor([Probe()]).run(record)
    assert seen == ["running"]


def test_a_crashing_observer_does_not_break_the_run(kyra: Kyra, fault_server: FaultServer) -> None:
    class Broken(ExecutorObserver):
        def on_step_finished(self, run: RunInfo, step: Any) -> None:
            raise RuntimeError("observer bug")

    record = _save(kyra, {"name": "robust", "steps": [_http("a", f"{fault_server.url}/ok")]})
    assert kyra.executor([Broken()]).run(record).succeeded


def test_executions_run_on_postgres_too(
    db_url: str, fault_server: FaultServer, tmp_path: Any
) -> None:
    from kyra.app import create_app
    from kyra.settings import Settings

    app = create_app(Settings(database_url=db_url, home=tmp_path))
    try:
        record, _ = apply_workflow(
            app,
            app.tenant.id,
            Workflow.model_validate(
                {
                    "name": "pg",
                    "steps": [
                        _http("a", f"{fault_server.url}/ok"),
                        _http("b", f"{fault_server.url}/status/503"),
                    ],
                }
            ),
        )
        result = app.executor().run(record)
        assert result.failed_step == "b"
        with app.store.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM step_runs")).scalar_one()
        assert count == 2
    finally:
        app.close()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses(kyra: Kyra, fault_server: FaultServer, status: int) -> None:
    record = _save(
        kyra,
        {
            "name": f"s{status}",
            "config": {"retry": {"max_retries": 1}},
            "steps": [_http("a", f"{fault_server.url}/flaky/q{status}?fail=1&status={status}")],
        },
    )
    assert kyra.executor().run(record).succeeded


def test_an_interrupted_execution_continues_after_its_recorded_steps(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    """A worker killed after step 0 was recorded: running the execution again does not
    repeat step 0 (its side effect happened) and completes the rest."""
    record = _save(
        kyra,
        {
            "name": "interrupted",
            "steps": [
                _http("send", f"{fault_server.url}/echo", method="POST", json={"n": 1}),
                _http(
                    "next",
                    f"{fault_server.url}/ok",
                    query={"m": "{{ steps.send.output.json.method }}"},
                ),
            ],
        },
    )
    eid = ex.create_execution(
        kyra.store, tenant_id=record.tenant_id, workflow_id=record.id, inputs={}
    )

    class Crash(BaseException):
        pass

    class KillAfterFirstStep(ExecutorObserver):
        def on_step_started(self, run: RunInfo, index: int, step_name: str) -> None:
            if index == 1:
                raise Crash  # a BaseException escapes the observer guard, like a kill

    executor = kyra.executor([KillAfterFirstStep()])
    with pytest.raises(Crash):
        executor.execute(eid)
    assert ex.get_execution(kyra.store, eid).status == "running"

    result = kyra.executor().execute(eid)
    assert result.succeeded
    assert fault_server.stats()["paths"]["/echo"] == 1
    assert result.outputs["next"]["json"]["echo"] == {"m": "POST"}
    assert [s.step_name for s in ex.get_execution(kyra.store, eid).steps] == ["send", "next"]
