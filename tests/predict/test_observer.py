"""The trend detector wired into real runs: Kyra's executor against the real fault
server, the at-risk rows, and the proactive timeout fix through the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.healing.settings import HealingSettings
from kyra.predict.observer import TrendObserver
from kyra.predict.risk import Risk, active_risks
from kyra.predict.trends import CALM_RUNS
from kyra.service import apply_workflow
from kyra.store import healing as heal_store
from kyra.store import secrets as secret_store
from kyra.store.trends import load_trends
from kyra.store.workflows import WorkflowRecord, get_workflow_by_id
from kyra.workflows.model import Workflow, effective_config
from tests.apps import fresh_settings
from tests.notify.conftest import SIGNING_KEY, add_webhook
from tests.servers.webhook import WebhookReceiver


def _app(tmp_path: Path, *, trends: bool = True) -> Kyra:
    return create_app(fresh_settings(tmp_path, default_tier="enterprise", trends=trends))


@pytest.fixture
def kyra(tmp_path: Path) -> Iterator[Kyra]:
    app = _app(tmp_path)
    yield app
    app.close()


def _apply(kyra: Kyra, name: str, url: str, timeout: float, **config: Any) -> WorkflowRecord:
    doc = {
        "name": name,
        "config": {"timeout": timeout, "retry": {"max_retries": 0}, **config},
        "steps": [{"name": "fetch", "action": "http_request", "with": {"url": url}}],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def _at_risk(kyra: Kyra, record: WorkflowRecord) -> list[Risk]:
    return active_risks(kyra.store, kyra.tenant.id, workflow_id=record.id)


def test_a_ramping_host_is_at_risk_and_a_timeout_raise_is_proposed_before_any_failure(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    # up to 0.4 s and no further: every run stays 0.1 s clear of the 0.5 s timeout
    url = f"{fault_server.url}/ramp/up?base=0.02&step=0.05&after=2&cap=0.4"
    record = _apply(kyra, "ramping", url, 0.5)
    executor = kyra.executor()
    first_warning: list[Risk] = []
    proposed = []
    for _ in range(16):
        assert executor.run(record).succeeded
        first_warning = first_warning or _at_risk(kyra, record)
        proposed = heal_store.list_fixes(kyra.store, kyra.tenant.id, workflow_id=record.id)
        if proposed:
            break
    assert first_warning, "never at risk"
    warning = first_warning[0]
    assert (warning.workflow, warning.subject, warning.kind) == ("ramping", "fetch", "latency")
    assert warning.reason.params["host"] == fault_server.url.split("//")[1]
    assert "0.5 s timeout" in warning.reason.text("en")
    assert "timeout de 0.5 s" in warning.reason.text("es")
    # one proposal, through the gate, with the timeout remedy's own bounded op
    [fix] = proposed
    assert (fix.status, fix.step_name, fix.error_class, fix.safety) == (
        "proposed",
        "fetch",
        "timeout_error",
        "GREEN",
    )
    assert fix.patch == {"ops": [{"op": "set_timeout", "step": "fetch", "seconds": 1.0}]}
    assert fix.diagnosis["proactive"] is True
    kinds = [a.kind for a in heal_store.list_audit(kyra.store, kyra.tenant.id, fix_id=fix.id)]
    assert kinds == ["fix_proposed"]
    [row] = _at_risk(kyra, record)
    assert row.reason.key == "trend.latency_p95.proposed" and row.since == warning.since
    assert f"fix {fix.id[:8]} proposes raising the timeout to 1.0 s" in row.reason.text("en")
    assert f"el arreglo {fix.id[:8]} propone" in row.reason.text("es")
    # the config is untouched until a person approves
    assert kyra_timeout(kyra, record) == 0.5
    # further slow runs do not propose again
    executor.run(record)
    assert len(heal_store.list_fixes(kyra.store, kyra.tenant.id, workflow_id=record.id)) == 1


def kyra_timeout(kyra: Kyra, record: WorkflowRecord) -> float:
    """The `fetch` step's effective timeout in the current config."""
    workflow = get_workflow_by_id(kyra.store, record.id).workflow
    return effective_config(workflow.config, workflow.step("fetch")).timeout


def test_the_gate_can_refuse_the_proactive_fix(tmp_path: Path, fault_server: FaultServer) -> None:
    kyra = _app(tmp_path, trends=False)  # only the observer below
    try:
        record = _apply(kyra, "near-timeout", f"{fault_server.url}/slow?delay=0.4", 0.5)
        executor = kyra.executor([TrendObserver(kyra, HealingSettings(enabled=False))])
        for _ in range(8):
            assert executor.run(record).succeeded
        [row] = _at_risk(kyra, record)
        assert (row.kind, row.reason.key) == ("latency", "trend.latency_p95")
        assert heal_store.list_fixes(kyra.store, kyra.tenant.id, workflow_id=record.id) == []
        audits = heal_store.list_audit(kyra.store, kyra.tenant.id, workflow_id=record.id)
        assert [a.kind for a in audits] == ["proactive_blocked"]
        assert "disabled" in audits[0].summary
    finally:
        kyra.close()


def test_failures_on_a_host_raise_an_error_rate_warning_that_clears_when_it_recovers(
    kyra: Kyra, fault_server: FaultServer, webhook_receiver: WebhookReceiver
) -> None:
    secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, "HOOK_KEY", SIGNING_KEY)
    add_webhook(kyra, webhook_receiver, events=["at_risk"])
    record = _apply(kyra, "flaky", f"{fault_server.url}/flaky/f?fail=4&status=503", 5.0)
    executor = kyra.executor()
    outcomes = [executor.run(record).succeeded for _ in range(4)]
    assert outcomes == [False, False, False, False]
    [post] = [r.json for r in webhook_receiver.requests if r.json["event"] == "at_risk"]
    assert post["title"] == "'flaky' is at risk: act before it fails"
    assert "error rate rising" in post["text"]  # once per episode, not once per run
    [row] = _at_risk(kyra, record)
    assert (row.kind, row.subject) == ("error_rate", "fetch")
    text = row.reason.text("en")
    assert "4 of the last 4 runs" in text and fault_server.url.split("//")[1] in text
    assert "4 de las últimas 4" in row.reason.text("es")
    assert heal_store.list_fixes(kyra.store, kyra.tenant.id, workflow_id=record.id) == []
    runs = 0
    while _at_risk(kyra, record):
        assert executor.run(record).succeeded
        runs += 1
        assert runs < 40, "the warning never cleared"
    assert runs >= CALM_RUNS  # not on the first good run: the CUSUM decays, then hysteresis


def test_healthy_runs_keep_a_bounded_state_and_no_warning(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    url = f"{fault_server.url}/ramp/calm?base=0.005&jitter=0.5&spike=3&spike_every=7"
    record = _apply(kyra, "calm", url, 2.0)
    executor = kyra.executor()
    for _ in range(30):
        assert executor.run(record).succeeded
        assert _at_risk(kyra, record) == []
    trend = load_trends(kyra.store, record.id)["fetch"]
    assert trend.state["runs"] == 30 and len(trend.state["ratios"]) == 20


def test_with_trends_off_nothing_is_recorded(tmp_path: Path, fault_server: FaultServer) -> None:
    kyra = _app(tmp_path, trends=False)
    try:
        record = _apply(kyra, "plain", f"{fault_server.url}/ok", 1.0)
        assert kyra.executor().run(record).succeeded
        assert load_trends(kyra.store, record.id) == {}
    finally:
        kyra.close()


def test_approving_a_proactive_fix_changes_the_config_and_reruns_nothing(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    from kyra.healing.factory import make_healer
    from kyra.store import executions as exec_store

    # slow for 8 requests (enough to propose), fast after
    record = _apply(kyra, "ahead", f"{fault_server.url}/slow/a?delay=0.4&times=8", 0.5)
    executor = kyra.executor()
    for _ in range(8):
        assert executor.run(record).succeeded
    [fix] = heal_store.list_fixes(kyra.store, kyra.tenant.id, workflow_id=record.id)
    runs = len(exec_store.list_executions(kyra.store, kyra.tenant.id, limit=100))
    outcome = make_healer(kyra).approve(fix.id, actor="ana", tenant_id=kyra.tenant.id)
    assert (outcome.action, outcome.rerun_execution_id) == ("approved", None)
    assert len(exec_store.list_executions(kyra.store, kyra.tenant.id, limit=100)) == runs
    assert kyra_timeout(kyra, record) == 1.0
    approved = heal_store.get_fix(kyra.store, fix.id)
    assert (approved.status, approved.decided_by, approved.to_version) == ("approved", "ana", 2)
    assert approved.diff["changes"] == [
        {"path": "steps.fetch.timeout", "before": None, "after": 1.0}
    ]
    # the window is read against the raised timeout: calm runs clear the warning
    record = get_workflow_by_id(kyra.store, record.id)
    for _ in range(CALM_RUNS - 1):
        assert executor.run(record).succeeded
    assert _at_risk(kyra, record)
    assert executor.run(record).succeeded
    assert _at_risk(kyra, record) == []


def test_a_proactive_fix_made_stale_by_a_later_raise_cannot_lower_the_timeout(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    from kyra.errors import ConflictError
    from kyra.healing.factory import make_healer
    from kyra.healing.patches import ConfigPatch, SetTimeout
    from kyra.predict.proposal import propose_timeout
    from kyra.store.workflows import add_config_version

    record = _apply(kyra, "stale", f"{fault_server.url}/ok", 0.5)
    run = kyra.executor().run(record)
    proposed = propose_timeout(
        kyra, HealingSettings(), record, "fetch", run.execution_id, {"p95": 0.45, "percent": 90}
    )
    assert proposed is not None
    fix_id, after = proposed
    assert after == 1.0
    # meanwhile healing raised the timeout further, after a failure
    raised = ConfigPatch(ops=(SetTimeout(step="fetch", seconds=2.0),))
    add_config_version(
        kyra.store,
        record.id,
        raised.apply(record.workflow.config, {"fetch"}),
        author="kyra",
        reason="fix: timeout 0.5 s → 2 s",
    )
    with pytest.raises(ConflictError, match="out of date"):
        make_healer(kyra).approve(fix_id, tenant_id=kyra.tenant.id)
    assert kyra_timeout(kyra, record) == 2.0
    assert heal_store.get_fix(kyra.store, fix_id).status == "proposed"


def test_a_step_paced_by_kyra_is_not_a_slow_step(kyra: Kyra, fault_server: FaultServer) -> None:
    # The upstream accepts one request every 0.45 s and answers at once: each run waits
    # ~0.45 s for its slot, 90 % of the 0.5 s timeout. That wait is Kyra pacing, not the
    # upstream's latency: no `latency` warning and no timeout raise proposed.
    url = f"{fault_server.url}/pace/trend?min_interval=0.45"
    record = _apply(kyra, "paced", url, 0.5, retry={"max_retries": 3, "initial_delay": 0.05})
    executor = kyra.executor()
    for _ in range(CALM_RUNS + 12):
        assert executor.run(record).succeeded
    assert "latency" not in [r.kind for r in _at_risk(kyra, record)]
    assert heal_store.list_fixes(kyra.store, kyra.tenant.id, workflow_id=record.id) == []
