"""The safety gate's limits, on recorded attempts and an injected time (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kyra.app import Kyra
from kyra.healing import gate
from kyra.healing.settings import HealingSettings
from kyra.service import apply_workflow
from kyra.store import healing as heal_store
from kyra.workflows.model import Workflow

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _setup(kyra: Kyra) -> tuple[str, str]:
    record, _ = apply_workflow(
        kyra,
        kyra.tenant.id,
        Workflow.model_validate(
            {"name": "wf", "steps": [{"name": "s", "action": "wait", "with": {"duration": 0}}]}
        ),
    )
    return kyra.tenant.id, record.id


def _attempt(
    kyra: Kyra, tenant: str, workflow: str, at: datetime, error_class: str = "rate_limit_exceeded"
) -> None:
    heal_store.create_fix(
        kyra.store,
        tenant_id=tenant,
        workflow_id=workflow,
        error_class=error_class,
        safety="GREEN",
        status="applied",
        created_at=at,
        updated_at=at,
    )


def _request(
    tenant: str, workflow: str, error_class: str = "rate_limit_exceeded", confidence: int = 95
) -> gate.GateRequest:
    return gate.GateRequest(
        tenant_id=tenant,
        tier="enterprise",
        workflow_id=workflow,
        error_class=error_class,
        safety="GREEN",
        confidence=confidence,
        automatic=True,
    )


def test_first_attempt_is_immediate_and_repeats_wait_for_the_cooldown(kyra: Kyra) -> None:
    tenant, wf = _setup(kyra)
    settings = HealingSettings()
    assert gate.check(kyra.store, settings, _request(tenant, wf), NOW).allowed
    _attempt(kyra, tenant, wf, NOW)
    soon = gate.check(kyra.store, settings, _request(tenant, wf), NOW + timedelta(minutes=5))
    assert (soon.allowed, soon.limit) == (False, "cooldown")
    later = NOW + timedelta(seconds=1801)
    assert gate.check(kyra.store, settings, _request(tenant, wf), later).allowed
    other = gate.check(
        kyra.store, settings, _request(tenant, wf, "timeout_error"), NOW + timedelta(minutes=5)
    )
    assert other.allowed  # the cooldown is per error class


@pytest.mark.parametrize(
    ("count", "spacing", "limit"),
    [
        (3, timedelta(minutes=10), "per_hour"),
        (10, timedelta(hours=2), "per_day"),
    ],
)
def test_hourly_and_daily_limits(kyra: Kyra, count: int, spacing: timedelta, limit: str) -> None:
    tenant, wf = _setup(kyra)
    settings = HealingSettings(cooldown_seconds=0, max_attempts_per_error_type=100)
    start = NOW - spacing * count
    for i in range(count):
        _attempt(kyra, tenant, wf, start + spacing * i, error_class=f"class_{i}")
    decision = gate.check(kyra.store, settings, _request(tenant, wf, "new_class"), NOW)
    assert (decision.allowed, decision.limit) == (False, limit)


def test_max_attempts_per_error_type(kyra: Kyra) -> None:
    tenant, wf = _setup(kyra)
    settings = HealingSettings(cooldown_seconds=0, max_fixes_per_hour=100, max_fixes_per_day=100)
    for hours in (20, 12, 4):
        _attempt(kyra, tenant, wf, NOW - timedelta(hours=hours))
    decision = gate.check(kyra.store, settings, _request(tenant, wf), NOW)
    assert (decision.allowed, decision.limit) == (False, "per_error_type")


def test_tenant_circuit_breaker_on_unusual_volume(kyra: Kyra) -> None:
    tenant, wf = _setup(kyra)
    settings = HealingSettings(tenant_burst_limit=5)
    for i in range(5):
        record, _ = apply_workflow(
            kyra,
            tenant,
            Workflow.model_validate(
                {
                    "name": f"w{i}",
                    "steps": [{"name": "s", "action": "wait", "with": {"duration": 0}}],
                }
            ),
        )
        _attempt(kyra, tenant, record.id, NOW - timedelta(minutes=1))
    decision = gate.check(kyra.store, settings, _request(tenant, wf), NOW)
    assert (decision.allowed, decision.limit) == (False, "tenant_circuit_breaker")


def test_low_confidence_is_not_automatic(kyra: Kyra) -> None:
    tenant, wf = _setup(kyra)
    decision = gate.check(kyra.store, HealingSettings(), _request(tenant, wf, confidence=79), NOW)
    assert (decision.allowed, decision.limit) == (False, "confidence")


def test_global_kill_switch_wins(kyra: Kyra) -> None:
    tenant, wf = _setup(kyra)
    heal_store.set_kill_switch(kyra.store, "global", enabled=True, reason="maintenance")
    decision = gate.check(kyra.store, HealingSettings(), _request(tenant, wf), NOW)
    assert decision.limit == "kill_switch" and "maintenance" in decision.reason
    heal_store.set_kill_switch(kyra.store, "global", enabled=False)
    assert gate.check(kyra.store, HealingSettings(), _request(tenant, wf), NOW).allowed
