"""Heal re-runs are made the one way every re-run is (`engine/reruns.py`): they resume the
failed execution with its stored inputs, not the redacted copy kept for diagnosis."""

from __future__ import annotations

from kyra.demo import FaultServer
from kyra.store import executions as ex
from tests.healing_loop.conftest import Loop, http


def test_a_heal_rerun_sends_the_real_value_of_a_credential_shaped_input(
    loop: Loop, fault_server: FaultServer
) -> None:
    # Given a run given an input named like a credential, failing once with a 503
    loop.apply(
        {
            "name": "tokens",
            "inputs": {"api_token": ""},
            "steps": [
                http(
                    "call",
                    f"{fault_server.url}/window/tok?seconds=0.2&status=503",
                    headers={"X-Token": "{{ inputs.api_token }}"},
                )
            ],
        }
    )
    # When healing plans and runs the re-run
    drive = loop.run("tokens", {"api_token": "tok-live-7f3a9c"})
    first, rerun = drive.results
    assert (first.status, rerun.status) == ("failed", "succeeded")
    # Then the diagnosis kept a redacted copy, and the re-run got the real input
    failed = ex.get_execution(loop.kyra.store, first.execution_id)
    kept = (failed.error_context or {})["execution_context"]["inputs"]["api_token"]
    assert kept != "tok-live-7f3a9c"
    again = ex.get_execution(loop.kyra.store, rerun.execution_id)
    assert (again.trigger, again.resume_of) == ("heal", first.execution_id)
    assert again.inputs["api_token"] == "tok-live-7f3a9c"
