"""GREEN classes heal without a human: failure → diagnosis → fix → re-run → active."""

from __future__ import annotations

from kyra.demo import FaultServer
from kyra.healing.events import HealEvent, HealListener
from kyra.store import executions as ex
from tests.healing_loop.conftest import Loop, http

HEALED = ["failure_detected", "diagnosed", "fix_applied", "rerun_scheduled", "verified"]


def _assert_healed(loop: Loop, name: str, error_class: str) -> None:
    record = loop.workflow(name)
    assert record.state == "active"
    assert record.config_version == 2
    [fix] = loop.fixes(name)
    assert (fix.error_class, fix.safety, fix.status, fix.outcome) == (
        error_class,
        "GREEN",
        "applied",
        "succeeded",
    )
    assert (fix.from_version, fix.to_version) == (1, 2)
    assert fix.diff["changes"], "an applied fix records its config diff"
    assert loop.audit_kinds(name) == ["diagnosis", "fix_applied", "verified"]
    assert loop.recorder.kinds == HEALED


def test_rate_limit_heals_by_pacing(loop: Loop, fault_server: FaultServer) -> None:
    url = f"{fault_server.url}/pace/rl?min_interval=0.8"
    loop.apply({"name": "newsletter", "steps": [http("a", url), http("b", url), http("c", url)]})
    drive = loop.run("newsletter")
    assert [r.status for r in drive.results] == ["failed", "succeeded"]
    _assert_healed(loop, "newsletter", "rate_limit_exceeded")
    config = loop.workflow("newsletter").workflow.config
    assert config.request_delay == 1.0 and config.retry.max_retries == 3
    rerun = ex.get_execution(loop.kyra.store, drive.final.execution_id)
    assert rerun.trigger == "heal" and rerun.resume_of == drive.results[0].execution_id
    assert [(s.step_name, s.reused) for s in rerun.steps] == [
        ("a", True),
        ("b", False),
        ("c", False),
    ]  # resumed from the failed step


def test_timeout_heals_by_raising_the_step_timeout(loop: Loop, fault_server: FaultServer) -> None:
    loop.apply(
        {
            "name": "report",
            "config": {"timeout": 0.25},
            "steps": [http("slow", f"{fault_server.url}/slow?delay=0.35")],
        }
    )
    loop.run("report")
    _assert_healed(loop, "report", "timeout_error")
    step_cfg = loop.workflow("report").workflow.config.steps["slow"]
    assert step_cfg.timeout == 0.5 and step_cfg.retry is not None


def test_service_unavailable_heals_with_a_scheduled_rerun(
    loop: Loop, fault_server: FaultServer
) -> None:
    loop.apply(
        {
            "name": "sync",
            "steps": [http("call", f"{fault_server.url}/window/w1?seconds=0.2&status=503")],
        }
    )
    drive = loop.run("sync")
    _assert_healed(loop, "sync", "service_temporarily_unavailable")
    first, rerun = drive.results
    gap = (
        ex.get_execution(loop.kyra.store, rerun.execution_id).run_at
        - ex.get_execution(loop.kyra.store, first.execution_id).finished_at
    )  # type: ignore[operator]
    assert gap.total_seconds() >= 0.29  # scheduled after the plan's initial delay
    retry = loop.workflow("sync").workflow.config.retry
    assert (retry.max_retries, retry.initial_delay, retry.multiplier) == (2, 0.3, 2.0)


def test_date_format_heals_by_normalising_the_field(loop: Loop, fault_server: FaultServer) -> None:
    loop.apply(
        {
            "name": "invoices",
            "inputs": {"due": "26 de noviembre de 2026"},
            "steps": [
                http(
                    "create",
                    f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
                    method="POST",
                    json={"due": "{{ inputs.due }}", "amount": 10},
                )
            ],
        }
    )
    drive = loop.run("invoices")
    _assert_healed(loop, "invoices", "invalid_date_format")
    normaliser = loop.workflow("invoices").workflow.config.steps["create"].date_normalisers
    assert normaliser is not None and normaliser[0].field == "json.due"
    sent = ex.get_execution(loop.kyra.store, drive.final.execution_id).steps[0].params
    assert sent is not None and sent["json"]["due"] == "2026-11-26"


def test_connection_timeout_heals_when_the_endpoint_comes_back(
    loop: Loop, closed_port: int
) -> None:
    servers: list[FaultServer] = []

    class StartServer(HealListener):
        def on_heal_event(self, event: HealEvent) -> None:
            if event.kind == "fix_applied":  # the service comes back while Kyra waits
                servers.append(FaultServer(port=closed_port).start())

    loop.healer.listeners.append(StartServer())
    loop.apply({"name": "ping", "steps": [http("call", f"http://127.0.0.1:{closed_port}/ok")]})
    try:
        loop.run("ping")
    finally:
        for server in servers:
            server.stop()
    [fix] = loop.fixes("ping")
    assert fix.error_class == "connection_timeout" and fix.outcome == "succeeded"
    assert loop.workflow("ping").state == "active"


def test_ambiguous_date_is_not_normalised_without_a_person(
    loop: Loop, fault_server: FaultServer
) -> None:
    loop.apply(
        {
            "name": "billing",
            "inputs": {"due": "03/12/2026"},  # 3 December or 12 March: both valid
            "steps": [
                http(
                    "create",
                    f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
                    method="POST",
                    json={"due": "{{ inputs.due }}"},
                )
            ],
        }
    )
    drive = loop.run("billing")
    assert len(drive.results) == 1  # no re-run
    diagnosis = drive.outcomes[0].diagnosis
    assert diagnosis is not None and diagnosis.error_class.value == "invalid_date_format"
    assert diagnosis.safety.value == "YELLOW" and not diagnosis.auto_reparable
    assert diagnosis.facts.date_candidates == ["2026-12-03", "2026-03-12"]
    record = loop.workflow("billing")
    assert record.config_version == 1 and record.state == "needs_attention"
    assert "2026-12-03" in record.state_reason and "2026-03-12" in record.state_reason
    assert all(fix.status != "applied" for fix in loop.fixes("billing"))
