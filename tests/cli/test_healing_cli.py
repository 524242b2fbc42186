"""The healing command-line contract: `kyra run` heals and shows the timeline; `fixes`,
`audit`, `killswitch` and `executions retry`."""

from __future__ import annotations

import json

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra

FIX_KEYS = {"id", "workflow", "error_class", "safety", "status", "reason", "diff"}


def _flow(kyra: Kyra, name: str, url: str, extra: str = "", inputs: str = "{}") -> None:
    kyra.write(
        f"{name}.yaml",
        f"""\
name: {name}
inputs: {inputs}
steps:
  - name: call
    action: http_request
    with:
      url: "{url}"
{extra}""",
    )
    assert kyra("workflows", "apply", f"{name}.yaml").exit_code == 0


def test_run_heals_and_shows_the_timeline(kyra: Kyra, fault_server: FaultServer) -> None:
    _flow(
        kyra,
        "invoices",
        f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
        '      method: POST\n      json: {due: "{{ inputs.due }}"}\n',
        "{due: '26/11/2026'}",
    )
    result = kyra("run", "invoices")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for marker in (
        "failed at step 'call'",
        "Diagnosis: invalid_date_format",
        "Fix applied",
        "repaired",
    ):
        assert marker in out
    workflows = json.loads(kyra("workflows", "list", "--json").stdout)
    assert [(w["name"], w["state"], w["config_version"]) for w in workflows] == [
        ("invoices", "active", 2)
    ]
    fixes = json.loads(kyra("fixes", "list", "--json", "--workflow", "invoices").stdout)
    assert len(fixes) == 1 and set(fixes[0]) >= FIX_KEYS
    assert fixes[0]["status"] == "applied" and fixes[0]["safety"] == "GREEN"
    assert fixes[0]["diff"][0]["path"] == "steps.call.date_normalisers"
    audit = json.loads(kyra("audit", "--json").stdout)
    assert {"diagnosis", "fix_applied", "verified"} <= {a["kind"] for a in audit}
    assert kyra("fixes", "rollback", fixes[0]["id"][:8]).exit_code == 0
    shown = json.loads(kyra("workflows", "show", "invoices", "--json").stdout)
    assert [v["author"] for v in shown["config_history"]] == ["user", "kyra", "user"]
    assert shown["config"]["steps"] == {}


def test_run_json_reports_healing(kyra: Kyra, fault_server: FaultServer) -> None:
    _flow(kyra, "crm", f"{fault_server.url}/auth?token=t")
    result = kyra("run", "crm", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["healing"] == ["needs_attention"] and data["workflow_state"] == "needs_attention"


def test_yellow_approve_and_reject_from_the_cli(kyra: Kyra, fault_server: FaultServer) -> None:
    url = f"{fault_server.url}/require?fields=email"
    _flow(kyra, "signup", url, "      method: POST\n      json: {name: Ana}\n")
    assert kyra("run", "signup").exit_code == 1
    [fix] = json.loads(kyra("fixes", "list", "--json").stdout)
    assert (fix["status"], fix["safety"]) == ("proposed", "YELLOW")
    approved = kyra("fixes", "approve", fix["id"][:8], "--value", "ana@example.com")
    assert approved.exit_code == 0, approved.output
    assert "active" in approved.stdout
    _flow(kyra, "other", url, "      method: POST\n      json: {name: Bo}\n")
    kyra("run", "other")
    pending = json.loads(kyra("fixes", "list", "--json", "--status", "proposed").stdout)
    assert kyra("fixes", "reject", pending[0]["id"]).exit_code == 0
    states = {w["name"]: w["state"] for w in json.loads(kyra("workflows", "list", "--json").stdout)}
    assert states == {"signup": "active", "other": "needs_attention"}
    assert kyra("fixes", "approve", pending[0]["id"]).exit_code == 2  # no longer proposed


def test_killswitch_blocks_automatic_fixes(kyra: Kyra, fault_server: FaultServer) -> None:
    assert kyra("killswitch", "on", "--reason", "audit").exit_code == 0
    assert json.loads(kyra("killswitch", "status", "--json").stdout)["enabled"] is True
    _flow(
        kyra,
        "dates",
        f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
        '      method: POST\n      json: {due: "{{ inputs.due }}"}\n',
        "{due: '26/11/2026'}",
    )
    kyra("run", "dates")
    [blocked] = json.loads(kyra("fixes", "list", "--json").stdout)
    assert blocked["status"] == "blocked" and "kill switch" in blocked["reason"]
    kyra("killswitch", "off")
    retried = kyra(
        "executions", "retry", json.loads(kyra("executions", "list", "--json").stdout)[0]["id"]
    )
    assert retried.exit_code == 1  # same config: same failure, without healing


def test_executions_retry_resumes_from_the_failed_step(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    kyra.write(
        "two.yaml",
        f"""\
name: two
steps:
  - name: send
    action: http_request
    with: {{url: "{fault_server.url}/echo", method: POST, json: {{n: 1}}}}
  - name: after
    action: http_request
    with: {{url: "{fault_server.url}/flaky/r?fail=1&status=400"}}
""",
    )
    kyra("workflows", "apply", "two.yaml")
    assert kyra("run", "two", "--no-heal").exit_code == 1
    failed = json.loads(kyra("executions", "list", "--json").stdout)[0]
    retried = kyra("executions", "retry", failed["id"][:8], "--json")
    assert retried.exit_code == 0, retried.output
    assert fault_server.stats()["paths"]["/echo"] == 1  # the email-like step was not re-sent
    again = kyra("executions", "retry", failed["id"], "--from-start", "--json")
    assert again.exit_code == 0
    assert fault_server.stats()["paths"]["/echo"] == 2
