"""The Health Center's figures (formulas in kyra.api.figures) and `/metrics`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kyra.api.figures import daily_series, month_figures
from kyra.demo import FaultServer
from kyra.store.api import TenantSettings
from kyra.store.api_stats import Repair
from tests.api.conftest import Tenant, bad_token, needs_email, paced

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _repair(
    minutes: float | None, *, status: str = "applied", outcome: str = "succeeded", cost: float = 0.0
) -> Repair:
    verified = T0 + timedelta(minutes=minutes) if minutes is not None else None
    return Repair(
        "f", "wf", "rate_limit_exceeded", "GREEN", status, outcome, T0, verified, T0, cost
    )


def test_month_figures_follow_the_documented_formulas() -> None:
    repairs = [
        _repair(2),
        _repair(4),
        _repair(None, outcome="failed", status="failed"),
        _repair(6, status="rolled_back"),
        _repair(None, outcome="pending"),
    ]
    settings = TenantSettings(downtime_value_per_hour=60.0, manual_repair_hours=1.0)
    m = month_figures(repairs, ai_cost=1.20, settings=settings)
    assert m.auto_fixes == 5 and m.verified == 3
    assert m.mttr_seconds == pytest.approx(4 * 60)
    assert m.success_rate == pytest.approx(2 / 4)  # the rolled-back one was not kept
    # (60-2) + (60-4) + (60-6) minutes at $60/h = $168
    assert m.prevented_value == pytest.approx(168.0)
    assert m.roi_percent == pytest.approx((168.0 - 1.20) / 1.20 * 100)


def test_figures_with_no_data_and_no_cost() -> None:
    m = month_figures([], 0.0, TenantSettings())
    assert m.mttr_seconds is None and m.success_rate is None
    assert m.prevented_value == 0 and m.roi_percent == 0
    slow = month_figures([_repair(300)], 0.0, TenantSettings(manual_repair_hours=4))
    assert slow.prevented_value == 0  # slower than a person: nothing prevented


def test_daily_series_is_zero_filled_oldest_first() -> None:
    days = daily_series([T0, T0, T0 - timedelta(days=2)], [T0], date(2026, 3, 10), days=3)
    assert [(d.day.day, d.failures, d.recoveries) for d in days] == [
        (8, 1, 0),
        (9, 0, 0),
        (10, 2, 1),
    ]


def test_health_route_reports_real_healing(acme: Tenant, fault_server: FaultServer) -> None:
    for doc in (paced(fault_server), needs_email(fault_server), bad_token(fault_server)):
        acme.apply(doc)
        acme.post(f"/api/v1/workflows/{doc['name']}/run", params={"wait": "true"})
    health = acme.get("/api/v1/health").json()
    month = health["month"]
    assert month["auto_fixes"] == 1 and month["verified"] == 1
    assert 0 < month["mttr_seconds"] < 60 and month["success_rate"] == 1.0
    assert month["prevented_value"] == pytest.approx(4 * 50, abs=1)
    assert health["workflows_by_state"]["active"] == 1
    assert health["workflows_by_state"]["needs_attention"] == 2
    assert [f["workflow"] for f in health["pending_approvals"]] == ["crm-sync"]
    assert [f["workflow"] for f in health["recent_fixes"]] == ["gmail-digest"]
    assert health["series"][-1] == {
        "day": health["generated_at"][:10],
        "failures": 3,
        "recoveries": 1,
    }
    assert acme.get("/api/v1/health", params={"days": 0}).status_code == 422


def test_metrics_expose_executions_fixes_repair_time_diagnosis_cost_and_queue(
    acme: Tenant, fault_server: FaultServer
) -> None:
    acme.apply(paced(fault_server))
    acme.post("/api/v1/workflows/gmail-digest/run", params={"wait": "true"})
    acme.post("/api/v1/workflows/gmail-digest/run")  # queued for the runtime
    r = acme.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    for line in (
        'kyra_executions_total{status="succeeded",tenant="acme"} 1.0',
        'kyra_executions_total{status="failed",tenant="acme"} 1.0',
        'kyra_executions{status="queued",tenant="acme"} 1.0',
        'kyra_executions{status="running",tenant="acme"} 0.0',
        'kyra_queue_depth{status="queued",tenant="acme"} 1.0',
        'kyra_fixes_total{error_class="rate_limit_exceeded",safety="GREEN",status="applied",'
        'tenant="acme"} 1.0',
        'kyra_fix_verifications_total{error_class="rate_limit_exceeded",outcome="succeeded",'
        'safety="GREEN",tenant="acme"} 1.0',
        'kyra_time_to_repair_seconds_count{tenant="acme"} 1.0',
        'kyra_diagnosis_latency_seconds_count{tenant="acme",tier="rules"} 1.0',
        'kyra_diagnoses_total{tenant="acme",tier="rules"} 1.0',
        'kyra_workflows{state="active",tenant="acme"} 1.0',
        'kyra_build_info{python="',
    ):
        assert line in text, line
    assert "kyra_workers_live" not in text and "process_cpu_seconds_total" not in text
    assert acme.http.get("/metrics").status_code == 401
