"""YELLOW classes become proposals a person approves or rejects; RED classes are never
touched."""

from __future__ import annotations

from typing import Any

import pytest

from kyra.demo import FaultServer
from kyra.healing.driver import HealingDriver
from kyra.store import executions as ex
from tests.healing_loop.conftest import Loop, http


def _approve_and_rerun(loop: Loop, fix_id: str, value: Any = None) -> None:
    outcome = loop.healer.approve(fix_id, value=value)
    assert outcome.action == "rerun" and outcome.rerun_execution_id
    driver = HealingDriver(loop.kyra, loop.healer)
    result = driver.run_when_due(outcome.rerun_execution_id)
    assert result is not None
    assert loop.healer.after_run(result).action == "verified"


def _proposal(loop: Loop, name: str, error_class: str) -> str:
    record = loop.workflow(name)
    assert record.state == "needs_attention" and record.config_version == 1
    [fix] = loop.fixes(name)
    assert (fix.error_class, fix.safety, fix.status) == (error_class, "YELLOW", "proposed")
    assert fix.patch["ops"], "a proposal carries the typed patch a person approves"
    return fix.id


YELLOW: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]] = {
    # class: (workflow step `with`, inputs of a good first run or None, inputs of the bad run)
    "missing_required_field": (
        {"url": "/require?fields=email", "method": "POST", "json": {"name": "Ana"}},
        {},
        None,
    ),
    "invalid_parameter_format": (
        {
            "url": "/validate?field=currency&pattern=%5E%5BA-Z%5D%7B3%7D%24",
            "method": "POST",
            "json": {"currency": "{{ inputs.currency }}"},
        },
        {"currency": "eur"},
        {"currency": "EUR"},
    ),
    "data_validation_error": (
        {
            "url": "/validate?field=email&kind=data&pattern=.%2B%40.%2B",
            "method": "POST",
            "json": {"email": "{{ inputs.email }}"},
        },
        {"email": "not-an-email"},
        {"email": "ops@example.com"},
    ),
    "api_version_mismatch": ({"url": "/versioned?version=2024-06-01"}, {}, None),
}


@pytest.mark.parametrize("error_class", sorted(YELLOW))
def test_yellow_proposal_approved_heals(
    loop: Loop, fault_server: FaultServer, error_class: str
) -> None:
    params, bad_inputs, good_inputs = YELLOW[error_class]
    step = http(
        "call", fault_server.url + params["url"], **{k: v for k, v in params.items() if k != "url"}
    )
    loop.apply({"name": "flow", "inputs": good_inputs or {}, "steps": [step]})
    if good_inputs is not None:
        assert loop.run("flow").final.succeeded  # history: a value that worked
    drive = loop.run("flow", bad_inputs)
    assert drive.outcomes[-1].action == "proposed"
    fix_id = _proposal(loop, "flow", error_class)
    value = "ops@example.com" if error_class == "missing_required_field" else None
    _approve_and_rerun(loop, fix_id, value)
    record = loop.workflow("flow")
    assert record.state == "active" and record.config_version == 2
    [fix] = loop.fixes("flow")
    assert (fix.status, fix.outcome, fix.decided_by) == ("approved", "succeeded", "user")
    assert loop.audit_kinds("flow")[-3:] == ["fix_proposed", "approved", "verified"]


def test_yellow_rejection_changes_nothing(loop: Loop, fault_server: FaultServer) -> None:
    loop.apply(
        {
            "name": "signup",
            "steps": [
                http(
                    "call", f"{fault_server.url}/require?fields=email", method="POST", json={"a": 1}
                )
            ],
        }
    )
    loop.run("signup")
    fix_id = _proposal(loop, "signup", "missing_required_field")
    loop.healer.reject(fix_id, reason="the form changed")
    record = loop.workflow("signup")
    assert record.state == "needs_attention" and record.config_version == 1
    assert loop.fixes("signup")[0].status == "rejected"
    assert loop.audit_kinds("signup")[-1] == "rejected"


RED = {
    "invalid_credentials": "/auth?token=right",
    "insufficient_permissions": "/provider/google/permission",
    "account_suspended": "/status/423?body=account%20locked",
    "api_deprecated": "/status/410?body=this%20API%20version%20has%20been%20removed",
    "billing_issue": "/provider/stripe/card_declined",
    "security_violation": "/status/451?body=blocked%20for%20legal%20reasons",
}


@pytest.mark.parametrize("error_class", sorted(RED))
def test_red_errors_are_never_touched(
    loop: Loop, fault_server: FaultServer, error_class: str
) -> None:
    loop.apply(
        {
            "name": "crm",
            "steps": [http("call", fault_server.url + RED[error_class], auth={"bearer": "wrong"})],
        }
    )
    drive = loop.run("crm")
    assert len(drive.results) == 1  # no re-run
    record = loop.workflow("crm")
    assert record.state == "needs_attention" and record.config_version == 1
    assert loop.fixes("crm") == []
    diagnosis = drive.outcomes[0].diagnosis
    assert diagnosis is not None and diagnosis.error_class.value == error_class
    assert loop.audit_kinds("crm") == ["diagnosis", "needs_attention"]
    assert "What to do" in record.state_reason
    assert ex.list_executions(loop.kyra.store, loop.kyra.tenant.id, status="waiting") == []
