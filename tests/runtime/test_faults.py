"""Fault tests with real processes: kill -9 mid-step (20 times), restart with work
queued, two schedulers at once, graceful shutdown, and the RabbitMQ broker."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from kyra.demo import FaultServer
from kyra.engine.states import WorkflowState
from kyra.store import executions as ex
from kyra.store import healing as heal_store
from kyra.store import queue, schedules
from kyra.store import workflows as wf_store
from kyra.store.workflows import WorkflowRecord
from tests.runtime.conftest import Harness, date_workflow, http_steps
from tests.waiting import wait_for

SLOW_STEP = "/slow?delay=0.4"


def _in_slow_step(h: Harness, execution_id: str) -> str | None:
    """The lease owner once the execution is past its first step (so in the slow one)."""
    info = ex.get_execution(h.app.store, execution_id)
    if info.status != "running" or len(info.steps) != 1:
        return None
    state = queue.execution_status(h.app.store, execution_id)
    owner = state[1] if state else None
    return owner if owner and owner != queue.DISPATCHED else None


def _assert_exactly_once(h: Harness, record: WorkflowRecord, expected: int) -> None:
    executions = h.executions(record.id)
    assert len(executions) == expected  # none lost, none duplicated
    for info in executions:
        full = h.wait_finished(info.id)
        assert full.status == "succeeded", h.logs()
        assert [s.step_index for s in full.steps] == [0, 1, 2]  # each step recorded once


def _holder(
    h: Harness, owner: str, procs: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    pid = int(owner.split(":")[2])
    return next(p for p in procs if p.pid == pid)


@pytest.mark.slow
def test_kill9_mid_step_twenty_times(runtime: Harness, fault_server: FaultServer) -> None:
    # Given a 3-step workflow whose middle step is slow, and a running runtime
    record = runtime.workflow(
        {"name": "killed", "steps": http_steps(fault_server.url, "/ok", SLOW_STEP, "/ok")}
    )
    workers = [runtime.start_worker()]
    if runtime.kind == "celery":
        workers.append(runtime.start_worker())
        runtime.start_scheduler()
    for round_ in range(20):
        execution_id = runtime.submit(record, {"round": round_})
        # When the process running it is killed with SIGKILL in the middle of step 2
        owner = wait_for(
            lambda eid=execution_id: _in_slow_step(runtime, eid),  # type: ignore[misc]
            30,
            "the slow step",
        )
        victim = _holder(runtime, owner, workers)
        runtime.kill9(victim)
        workers.remove(victim)
        workers.append(runtime.start_worker())
        # Then another process finishes it, without repeating the recorded step
        info = runtime.wait_finished(execution_id)
        assert info.status == "succeeded", runtime.logs()
        assert [s.step_index for s in info.steps] == [0, 1, 2]
    _assert_exactly_once(runtime, record, 20)
    paths = fault_server.stats()["paths"]
    assert paths["/ok"] == 40  # the finished steps never ran twice
    # The interrupted step ran again (at-least-once), unless the kill came before its call.
    assert 20 <= paths["/slow"] <= 40


def test_restart_with_work_queued_loses_nothing(
    runtime: Harness, fault_server: FaultServer
) -> None:
    # Given 30 queued executions
    record = runtime.workflow(
        {"name": "backlog", "steps": http_steps(fault_server.url, "/ok", "/slow?delay=0.1", "/ok")}
    )
    for n in range(30):
        runtime.submit(record, {"n": n})
    runtime.start()

    def done() -> int:
        return queue.count_by_status(runtime.app.store).get("succeeded", 0)

    # When every runtime process is killed part-way and started again
    wait_for(lambda: done() >= 5, 30, "some progress")
    runtime.stop_all()
    assert done() < 30
    runtime.start()
    # Then all 30 complete, each once
    wait_for(lambda: done() == 30, 60, "all executions")
    _assert_exactly_once(runtime, record, 30)


def test_two_schedulers_fire_each_slot_once(runtime: Harness, fault_server: FaultServer) -> None:
    # Given five workflows firing every second, and two schedulers started by mistake
    records = [
        runtime.workflow(
            {
                "name": f"twice-{n}",
                "trigger": {"interval": "1s"},
                "steps": http_steps(fault_server.url, "/ok"),
            }
        )
        for n in range(5)
    ]
    runtime.start_scheduler()
    runtime.start_scheduler()
    if runtime.kind == "celery":
        runtime.start_worker()
    # When they run for several slots
    wait_for(
        lambda: all(len(schedules.fired_slots(runtime.app.store, r.id)) >= 4 for r in records),
        30,
        "four slots per workflow",
    )
    runtime.stop_all()  # no slot fires between reading the slots and the executions below
    # Then each slot fired exactly once: one execution per slot, nothing else
    for record in records:
        slots = schedules.fired_slots(runtime.app.store, record.id)
        assert len({s for _, s, _ in slots}) == len(slots)
        fired_ids = {e for _, _, e in slots}
        made = {e.id for e in runtime.executions(record.id)}
        assert made == fired_ids


def test_sigterm_finishes_running_work_then_exits(
    embedded: Harness, fault_server: FaultServer
) -> None:
    runtime = embedded  # Celery workers drain on SIGTERM by themselves (warm shutdown)
    record = runtime.workflow(
        {"name": "drain", "steps": http_steps(fault_server.url, "/ok", "/slow?delay=1", "/ok")}
    )
    proc = runtime.start_worker()
    execution_id = runtime.submit(record)
    wait_for(lambda: _in_slow_step(runtime, execution_id), 30, "the slow step")
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert runtime.status(execution_id) == "succeeded"


def test_sigterm_past_drain_hands_work_back(embedded: Harness, fault_server: FaultServer) -> None:
    runtime = embedded
    # The slow step's first call takes 60 s (far past any signal latency under load, where
    # a 2 s step could finish before the worker saw the SIGTERM and the run then
    # succeeded instead of being handed back); its second call, the resumed run's, is quick.
    slow = "/slow/handback?delay=60&times=1"
    record = runtime.workflow(
        {"name": "handback", "steps": http_steps(fault_server.url, "/ok", slow, "/ok")}
    )
    proc = runtime.start_worker(KYRA_RUNTIME_DRAIN_SECONDS="0")
    execution_id = runtime.submit(record)
    wait_for(lambda: _in_slow_step(runtime, execution_id), 30, "the slow step")
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0  # the 60 s call is abandoned, not waited for
    state = queue.execution_status(runtime.app.store, execution_id)
    assert runtime.status(execution_id) == "queued", (state, runtime.logs())  # handed back
    runtime.start_worker()  # resumes at once: no lease to wait for
    info = runtime.wait_finished(execution_id)
    assert info.status == "succeeded" and [s.step_index for s in info.steps] == [0, 1, 2]


def test_a_second_signal_cuts_the_drain_short_and_hands_work_back(
    embedded: Harness, fault_server: FaultServer
) -> None:
    runtime = embedded
    record = runtime.workflow(
        {"name": "cut", "steps": http_steps(fault_server.url, "/ok", "/slow?delay=60", "/ok")}
    )
    proc = runtime.start_worker(KYRA_RUNTIME_DRAIN_SECONDS="120")
    execution_id = runtime.submit(record)
    wait_for(lambda: _in_slow_step(runtime, execution_id), 30, "the slow step")
    os.kill(proc.pid, signal.SIGTERM)
    wait_for(lambda: "signal again" in runtime.logs(), 15, "the drain to start")
    os.kill(proc.pid, signal.SIGINT)  # Ctrl+C after a SIGTERM: either signal counts
    # Without the cut the process would wait for the 60 s step (a 120 s drain)
    assert proc.wait(timeout=20) == 0
    assert runtime.status(execution_id) == "queued"  # handed back, not lost
    state = queue.execution_status(runtime.app.store, execution_id)
    assert state is not None and state[1] is None  # no lease left on it


@pytest.mark.rabbitmq
def test_rabbitmq_broker_runs_and_survives_a_killed_worker(
    celery_amqp: Harness, fault_server: FaultServer
) -> None:
    h = celery_amqp
    record = h.workflow(
        {"name": "rabbit", "steps": http_steps(fault_server.url, "/ok", SLOW_STEP, "/ok")}
    )
    workers = [h.start_worker(), h.start_worker()]
    h.start_scheduler()
    ids = [h.submit(record, {"n": n}) for n in range(5)]
    for execution_id in ids:
        assert h.wait_finished(execution_id).status == "succeeded"
    killed = h.submit(record, {"n": "killed"})
    owner = wait_for(lambda: _in_slow_step(h, killed), 30, "the slow step")
    h.kill9(_holder(h, owner, workers))
    assert h.wait_finished(killed).status == "succeeded"
    _assert_exactly_once(h, record, 6)


@pytest.mark.parametrize("left_in", ["failed", "fixing"])
def test_healing_a_killed_process_left_undone_resumes_on_start(
    embedded: Harness, fault_server: FaultServer, left_in: str
) -> None:
    # Given a failure that was never healed: the process died before its healer ran
    # (left `failed`), or while healing (left `fixing`, and no live healing lock)
    record = embedded.workflow(date_workflow(fault_server.url))
    failed = embedded.app.executor().run(record)
    assert failed.status == "failed"
    if left_in == "fixing":
        wf_store.transition_state(
            embedded.app.store,
            record.id,
            WorkflowState.FIXING,
            allowed_from=frozenset({WorkflowState.FAILED}),
            reason="diagnosing",
            execution_id=failed.execution_id,
        )
    # When `kyra serve` starts (with healing on)
    embedded.start(KYRA_HEAL="true")
    # Then it heals that failure: a fix, a re-run that succeeds, the workflow active again
    rerun = wait_for(
        lambda: next(
            (e for e in embedded.executions(record.id) if e.resume_of == failed.execution_id),
            None,
        ),
        30,
        "the healing re-run",
    )
    assert embedded.wait_finished(rerun.id).status == "succeeded"
    wait_for(
        lambda: wf_store.get_workflow_by_id(embedded.app.store, record.id).state == "active",
        30,
        "the workflow back to active",
    )
    fixes = heal_store.list_fixes(embedded.app.store, embedded.app.tenant.id)
    assert [f.execution_id for f in fixes] == [failed.execution_id]  # healed once
