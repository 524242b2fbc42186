"""The kill-switch dead end (#14): a blocked fix is retried with `kyra fixes retry ID` once
the switch is off; refused in one line while it is on; `kyra run` says why it did not heal."""

from __future__ import annotations

import json

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra


def _dates(kyra: Kyra, server: FaultServer) -> None:
    kyra.write(
        "dates.yaml",
        f"""\
name: dates
inputs: {{due: '26/11/2026'}}
steps:
  - name: call
    action: http_request
    with:
      url: "{server.url}/dates?format=%Y-%m-%d&field=due"
      method: POST
      json: {{due: "{{{{ inputs.due }}}}"}}
""",
    )
    assert kyra("workflows", "apply", "dates.yaml").exit_code == 0


def _state(kyra: Kyra) -> str:
    [workflow] = json.loads(kyra("workflows", "list", "--json").stdout)
    return str(workflow["state"])


def test_a_blocked_fix_is_retried_once_the_kill_switch_is_off(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    assert kyra("killswitch", "on", "--reason", "audit").exit_code == 0
    _dates(kyra, fault_server)
    run = kyra("run", "dates", "--json")
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    [blocked] = json.loads(kyra("fixes", "list", "--json").stdout)
    assert data["healing"] == ["blocked"] and blocked["status"] == "blocked"
    assert "kill switch is on: audit" in data["healing_note"]
    assert f"kyra fixes retry {blocked['id'][:8]}" in data["healing_note"]

    refused = kyra("fixes", "retry", blocked["id"][:8])
    assert refused.exit_code == 2 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "still blocked (kill_switch)" in refused.stderr and "killswitch off" in refused.stderr
    refused_es = kyra("fixes", "retry", blocked["id"][:8], lang="es")
    assert refused_es.exit_code == 2 and "sigue bloqueada (kill_switch)" in refused_es.stderr

    # The same error again while it waits: not healed, and `kyra run` says why.
    again = kyra("run", "dates")
    assert again.exit_code == 1
    assert "healing skipped: the workflow already needs attention" in again.stdout
    assert "invalid_date_format" in again.stdout
    again_es = kyra("run", "dates", lang="es")
    assert "reparación omitida: el workflow ya requiere atención" in again_es.stdout
    assert "healing skipped" not in again_es.stdout
    assert _state(kyra) == "needs_attention"

    assert kyra("killswitch", "off").exit_code == 0
    retried = kyra("fixes", "retry", blocked["id"][:8], "--json")
    assert retried.exit_code == 0, retried.output
    out = json.loads(retried.stdout)
    assert out["retried_fix"] == blocked["id"] and out["id"] != blocked["id"]
    assert (out["action"], out["status"], out["workflow_state"]) == ("rerun", "applied", "active")
    assert out["outcome"] == "succeeded" and out["safety"] == "GREEN"
    old = json.loads(kyra("fixes", "show", blocked["id"], "--json").stdout)
    assert old["status"] == "superseded"
    assert "fix_retried" in [a["kind"] for a in old["audit"]]
    assert kyra("run", "dates").exit_code == 0  # healed for good
    again_retry = kyra("fixes", "retry", blocked["id"][:8])
    assert again_retry.exit_code == 2 and "not blocked" in again_retry.stderr


def test_retry_of_an_unknown_or_unblocked_fix_is_refused(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    assert kyra("fixes", "retry", "abcdef12").exit_code == 2
    _dates(kyra, fault_server)
    assert kyra("run", "dates").exit_code == 0  # healed: the fix is applied, not blocked
    [fix] = json.loads(kyra("fixes", "list", "--json").stdout)
    refused = kyra("fixes", "retry", fix["id"], lang="es")
    assert refused.exit_code == 2 and "no bloqueada" in refused.stderr
