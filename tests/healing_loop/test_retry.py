"""`retry_blocked`: a fix the kill switch stopped in flight is re-run, not patched twice."""

from __future__ import annotations

import pytest

from kyra.demo import FaultServer
from kyra.errors import ConflictError
from kyra.healing.driver import HealingDriver
from kyra.healing.events import HealEvent, HealListener
from kyra.healing.retry import retry_blocked
from kyra.store import healing as heal_store
from tests.healing_loop.conftest import Loop, http


def test_a_fix_stopped_in_flight_is_re_run_once_the_switch_is_off(
    loop: Loop, fault_server: FaultServer
) -> None:
    class PullTheSwitch(HealListener):
        def on_heal_event(self, event: HealEvent) -> None:
            if event.kind == "rerun_scheduled":
                heal_store.set_kill_switch(loop.kyra.store, "global", enabled=True)

    switch = PullTheSwitch()
    loop.healer.listeners.append(switch)
    url = f"{fault_server.url}/flaky/inflight?fail=1&status=503"
    loop.apply({"name": "stopped", "steps": [http("a", url)]})
    loop.run("stopped")
    loop.healer.listeners.remove(switch)
    [fix] = loop.fixes("stopped")
    assert fix.status == "blocked" and fix.to_version == 2
    with pytest.raises(ConflictError, match="still blocked \\(kill_switch\\)"):
        retry_blocked(loop.healer, fix.id)
    assert loop.fixes("stopped")[0].status == "blocked"

    heal_store.set_kill_switch(loop.kyra.store, "global", enabled=False)
    outcome = retry_blocked(loop.healer, fix.id, actor="ops")
    assert outcome.action == "rerun" and outcome.fix_id == fix.id
    drive = HealingDriver(loop.kyra, loop.healer).resume(outcome.rerun_execution_id)
    assert drive.final.succeeded
    [after] = loop.fixes("stopped")
    assert (after.status, after.outcome, after.decided_by) == ("applied", "succeeded", "ops")
    assert loop.workflow("stopped").config_version == 2  # re-run, not patched again
    assert loop.workflow("stopped").state == "active"
    assert "fix_retried" in loop.audit_kinds("stopped")
