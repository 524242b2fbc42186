"""`kyra run` runs the workflow in its own process: killed with `kill -9`, its execution
must not stay `running` for ever, held by a dead process. It is held under a lease the
process renews; once the lease runs out, `kyra status` says so and a runtime takes the
execution over and finishes it after its recorded steps."""

from __future__ import annotations

from typer.testing import CliRunner

from kyra.demo import FaultServer
from kyra.store import executions as ex
from kyra.store import queue
from tests.runtime.cli import app as cli_app
from tests.runtime.conftest import Harness, http_steps
from tests.waiting import wait_for


def test_a_killed_kyra_run_is_taken_over_and_finished(
    embedded: Harness, fault_server: FaultServer
) -> None:
    h = embedded
    record = h.workflow(
        {"name": "inline", "steps": http_steps(fault_server.url, "/ok", "/slow?delay=2", "/ok")}
    )
    proc = h.spawn("run", "inline", "--no-heal")

    def in_slow_step() -> str | None:
        runs = h.executions(record.id)
        if not runs:
            return None
        info = ex.get_execution(h.app.store, runs[0].id)
        return info.id if info.status == "running" and len(info.steps) == 1 else None

    execution_id = wait_for(in_slow_step, 30, "kyra run to reach the slow step")
    state = queue.execution_status(h.app.store, execution_id)
    assert state is not None and (state[1] or "").startswith("inline:"), state
    h.kill9(proc)

    # `kyra status` words it: running for a while, its holder's lease expired
    def expired() -> bool:
        [row] = queue.active_executions(h.app.store, ["running"], 10)
        return row.lease_until is not None and row.lease_until < h.app.clock.now()

    wait_for(expired, 15, "the dead process's lease to run out")
    shown = CliRunner().invoke(cli_app, ["status"], env={**h.env, "COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "lease expired" in shown.output and "for " in shown.output, shown.output

    # A runtime takes it over and finishes it without repeating the recorded step
    h.start_worker()
    info = h.wait_finished(execution_id)
    assert info.status == "succeeded", h.logs()
    assert [s.step_index for s in info.steps] == [0, 1, 2]
    assert fault_server.stats()["paths"]["/ok"] == 2
