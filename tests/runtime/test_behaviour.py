"""The same behaviour on both runtimes (embedded and Celery), with real processes:
schedules fire on time and once, queued work runs, delayed re-runs happen, failure
handlers (the healing seam) run and retry with backoff."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

from kyra.demo import FaultServer
from kyra.store import schedules
from kyra.store import workflows as wf_store
from tests.runtime.conftest import Harness, date_workflow, http_steps
from tests.waiting import wait_for


def test_queued_executions_run_once_each(runtime: Harness, fault_server: FaultServer) -> None:
    # Given a 3-step workflow and 10 queued executions
    record = runtime.workflow(
        {"name": "three", "steps": http_steps(fault_server.url, "/ok", "/echo", "/ok")}
    )
    ids = [runtime.submit(record, {"n": n}) for n in range(10)]
    # When the runtime starts
    runtime.start()
    # Then every execution succeeds, with each step recorded once
    for execution_id in ids:
        info = runtime.wait_finished(execution_id)
        assert info.status == "succeeded"
        assert [s.step_index for s in info.steps] == [0, 1, 2]
    assert fault_server.stats()["paths"]["/echo"] == 10


def test_interval_trigger_fires_on_time_once_per_slot(
    runtime: Harness, fault_server: FaultServer
) -> None:
    # Given a workflow triggered every second
    record = runtime.workflow(
        {
            "name": "ticker",
            "trigger": {"interval": "1s"},
            "steps": http_steps(fault_server.url, "/ok"),
        }
    )
    # When the runtime runs for a few slots
    runtime.start()
    fired = wait_for(
        lambda: len(schedules.fired_slots(runtime.app.store, record.id)) >= 3 or None,
        20,
        "three fired slots",
    )
    assert fired
    slots = schedules.fired_slots(runtime.app.store, record.id)
    times = [s for _, s, _ in slots]
    assert len(set(times)) == len(times)
    assert all((b - a) == timedelta(seconds=1) for a, b in itertools.pairwise(times))
    # Then each slot fired once, a second apart, and ran at its time: never early, and
    # once the workers are warm less than a second late (slots are queued ahead,
    # runnable at their slot). The first slot also pays for a fresh Celery worker's
    # first task (imports, connections): on a loaded 2-core machine over a second.
    for n, (_, scheduled_for, execution_id) in enumerate(slots[:3]):
        info = runtime.wait_finished(execution_id)
        assert info.status == "succeeded" and info.trigger == "interval"
        assert info.run_at == scheduled_for
        assert info.started_at is not None
        lag = (info.started_at - scheduled_for).total_seconds()
        assert lag >= 0, lag
        if n > 0:
            assert lag < 1.0, lag


def test_failed_run_is_handled_and_rerun_later(runtime: Harness, fault_server: FaultServer) -> None:
    # Given a workflow whose second step fails once, and a handler that re-runs in 1 s
    record = runtime.workflow(
        {
            "name": "heals",
            "steps": http_steps(fault_server.url, "/ok", "/flaky/rerun?fail=1&status=503", "/ok"),
        }
    )
    handlers = json.dumps(["tests.runtime.handlers:rerun_soon"])
    runtime.start(KYRA_RUNTIME_FAILURE_HANDLERS=handlers)
    first = runtime.submit(record)
    # When it fails
    assert runtime.wait_finished(first).status == "failed"
    # Then the handler schedules a delayed re-run that resumes from the failed step
    rerun = wait_for(
        lambda: next((e for e in runtime.executions(record.id) if e.resume_of == first), None),
        15,
        "the re-run",
    )
    done = runtime.wait_finished(rerun.id)
    assert done.status == "succeeded" and done.trigger == "rerun" and done.start_step == 1
    assert done.started_at is not None and done.started_at >= rerun.run_at
    assert (rerun.run_at - rerun.created_at).total_seconds() >= 0.9
    assert [s.reused for s in done.steps] == [True, False, False]
    assert fault_server.stats()["paths"]["/ok"] == 2  # step 0 was not called again


def test_kyra_healing_flows_through(runtime: Harness, fault_server: FaultServer) -> None:
    # Given a workflow that sends a date the API rejects, and Kyra's own healing on
    record = runtime.workflow(date_workflow(fault_server.url))
    runtime.start(KYRA_HEAL="true")
    first = runtime.submit(record)
    assert runtime.wait_finished(first).status == "failed"
    # Then the healer's fix re-run (trigger "heal") succeeds and the workflow is active
    rerun = wait_for(
        lambda: next((e for e in runtime.executions(record.id) if e.resume_of == first), None),
        30,
        "the healing re-run",
    )
    done = runtime.wait_finished(rerun.id)
    assert done.status == "succeeded" and done.trigger == "heal"
    healed = wait_for(
        lambda: (
            r
            if (r := wf_store.get_workflow_by_id(runtime.app.store, record.id)).state == "active"
            and r.config_version == 2
            else None
        ),
        30,
        "the workflow back to active at config v2",
    )
    assert healed.workflow.config.steps["create"].date_normalisers


def test_raising_failure_handler_is_retried_with_backoff(
    runtime: Harness, fault_server: FaultServer
) -> None:
    # Given a handler that fails twice before it succeeds (backoff base 0.2 s)
    record = runtime.workflow(
        {"name": "hiccup", "steps": http_steps(fault_server.url, "/status/500")}
    )
    runtime.start(KYRA_RUNTIME_FAILURE_HANDLERS=json.dumps(["tests.runtime.handlers:flaky_twice"]))
    execution_id = runtime.submit(record)
    assert runtime.wait_finished(execution_id).status == "failed"

    # Then it is called three times, the waits growing 0.2 s, 0.4 s
    def calls() -> list[float]:
        if not runtime.handler_log.exists():
            return []
        lines = [json.loads(x) for x in runtime.handler_log.read_text().splitlines()]
        return [x["t"] for x in lines if x["execution"] == execution_id]

    times = wait_for(lambda: calls() if len(calls()) >= 3 else None, 20, "three handler calls")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.18 and gaps[1] >= 0.38, gaps
