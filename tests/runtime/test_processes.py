"""`kyra serve --processes 2`: a second worker process on the same SQLite file shares
the queue, is restarted when it dies, drains on SIGTERM, and stops when its parent is
killed."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

from kyra.demo import FaultServer
from kyra.store import workers
from kyra.store.workers import WorkerBeat
from tests.runtime.conftest import Harness, http_steps
from tests.waiting import wait_for


def _live(h: Harness) -> list[WorkerBeat]:
    since = h.app.clock.now() - timedelta(seconds=1)
    return [w for w in workers.workers(h.app.store, since) if w.stopped_at is None]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[1].split()[0] != "Z"


def _serve_two(h: Harness, **env: str) -> tuple[int, int]:
    parent = h.spawn("serve", "--no-api", "--processes", "2", env=env)
    beats = wait_for(lambda: len(_live(h)) == 2 and _live(h), 30, "two worker processes")
    [child] = [b.pid for b in beats if b.pid != parent.pid]
    assert {b.kind for b in beats} == {"embedded"}
    return parent.pid, child


def test_two_processes_share_the_queue(embedded: Harness, fault_server: FaultServer) -> None:
    # Nothing is killed here, so no lease needs to expire: with the harness's 1 s lease a
    # starved heartbeat on a loaded machine let the other process reclaim a running
    # execution and repeat its step (41 calls for 40 runs: at-least-once, not a bug).
    parent, child = _serve_two(embedded, KYRA_RUNTIME_LEASE_SECONDS="30")
    record = embedded.workflow(
        {"name": "shared", "steps": http_steps(fault_server.url, "/slow?delay=0.05", "/ok")}
    )
    ids = [embedded.submit(record, {"n": n}) for n in range(40)]
    for execution_id in ids:
        assert embedded.wait_finished(execution_id).status == "succeeded"
    # Each execution ran once (two steps each), and both processes ran some of them
    assert fault_server.stats()["paths"]["/slow"] == 40

    def both_worked() -> dict[int, int] | None:
        done = {b.pid: b.processed for b in _live(embedded)}
        return done if sum(done.values()) == 40 else None

    processed = wait_for(both_worked, 10, "heartbeats counting all 40")
    assert set(processed) == {parent, child}
    assert all(n > 0 for n in processed.values()), processed


def test_a_dead_worker_process_is_restarted_and_sigterm_stops_all(
    embedded: Harness, fault_server: FaultServer
) -> None:
    parent, child = _serve_two(embedded)
    os.kill(child, signal.SIGKILL)
    beats = wait_for(
        lambda: {b.pid for b in _live(embedded)} - {parent, child} or None,
        30,
        "a new worker process",
    )
    [replacement] = beats
    # The replacement does work like the first one did
    record = embedded.workflow({"name": "after", "steps": http_steps(fault_server.url, "/ok")})
    assert embedded.wait_finished(embedded.submit(record)).status == "succeeded"
    # SIGTERM to the parent alone: it drains and stops its worker process too
    [proc] = [p for p in embedded.procs if p.pid == parent]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    wait_for(lambda: not _alive(replacement), 30, "the worker process to stop")
    assert _live(embedded) == []


def test_a_worker_process_stops_when_its_parent_is_killed(embedded: Harness) -> None:
    parent, child = _serve_two(embedded)
    os.kill(parent, signal.SIGKILL)  # the parent only, not its process group
    wait_for(lambda: not _alive(child), 30, "the orphaned worker process to stop")
    beat = next(
        b
        for b in workers.workers(
            embedded.app.store, embedded.app.clock.now() - timedelta(minutes=1)
        )
        if b.pid == child
    )
    assert beat.stopped_at is not None  # it stopped cleanly (a final heartbeat)


def test_ctrl_c_drains_every_process(embedded: Harness, fault_server: FaultServer) -> None:
    # Given both processes busy with slow executions (no prefetch: four each)
    parent = embedded.spawn(
        "serve", "--no-api", "--processes", "2", env={"KYRA_RUNTIME_PREFETCH": "0"}
    )
    wait_for(lambda: len(_live(embedded)) == 2, 30, "two worker processes")
    record = embedded.workflow(
        {"name": "slow", "steps": http_steps(fault_server.url, "/slow?delay=1.5")}
    )
    ids = [embedded.submit(record, {"n": n}) for n in range(8)]
    wait_for(
        lambda: all(b.running > 0 for b in _live(embedded)) and len(_live(embedded)) == 2,
        30,
        "both processes running executions",
    )
    # When Ctrl+C reaches the terminal's process group (SIGINT to `kyra serve`'s group)
    os.killpg(parent.pid, signal.SIGINT)
    assert parent.wait(timeout=60) == 0
    # Then every process drained: nothing was cut off and handed back
    statuses = [embedded.status(i) for i in ids]
    assert statuses == ["succeeded"] * 8, embedded.logs()
