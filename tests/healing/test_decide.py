"""`decide` and the gate limits on values: no store, no server, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kyra.healing import gate
from kyra.healing.decide import Apply, Attention, Blocked, Propose, decide, is_automatic
from kyra.healing.diagnosis.types import Diagnosis, Tier
from kyra.healing.patches import ConfigPatch
from kyra.healing.remedies import RemedyFailed, RemedyPlan
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import Classification, ErrorClass, Safety, Severity

SETTINGS = HealingSettings(confidence_threshold=80, max_rerun_delay_seconds=600)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PLAN = RemedyPlan(
    ErrorClass.INVALID_DATE_FORMAT,
    ConfigPatch(),
    rerun_delay=0.0,
    key="date",
    values={"step": "call", "path": "due", "fmt": "%Y-%m-%d"},
)
NO_REMEDY = RemedyFailed("fail.never", {"error_class": "X"})


def diagnosis(safety: Safety = Safety.GREEN, confidence: int = 95, auto: bool = True) -> Diagnosis:
    return Diagnosis(
        error_class=PLAN.error_class,
        safety=safety,
        classification=Classification.CONFIGURATION,
        severity=Severity.MEDIUM,
        auto_reparable=auto,
        confidence=confidence,
        fix_steps=[],
        estimated_cost=0.0,
        explanation="the date is not in the expected format",
        tier=Tier.RULES,
    )


BLOCK = gate.GateDecision.block("cooldown", "wait")


def test_green_confident_and_allowed_is_applied() -> None:
    assert decide(diagnosis(), PLAN, gate.ALLOW, SETTINGS) == Apply(PLAN)


def test_red_asks_for_attention_with_the_explanation() -> None:
    got = decide(diagnosis(Safety.RED), None, None, SETTINGS)
    assert got == Attention("the date is not in the expected format")


@pytest.mark.parametrize(
    "diag",
    [diagnosis(Safety.YELLOW), diagnosis(confidence=79), diagnosis(auto=False)],
    ids=["yellow", "below-threshold", "not-auto-reparable"],
)
def test_anything_short_of_automatic_is_proposed(diag: Diagnosis) -> None:
    assert not is_automatic(diag, SETTINGS)
    assert decide(diag, PLAN, gate.ALLOW, SETTINGS) == Propose(PLAN)


def test_a_refusing_gate_blocks_and_keeps_the_remedy() -> None:
    assert decide(diagnosis(), PLAN, BLOCK, SETTINGS) == Blocked(PLAN, BLOCK)
    assert decide(diagnosis(Safety.YELLOW), PLAN, BLOCK, SETTINGS) == Blocked(PLAN, BLOCK)


def test_no_remedy_records_a_failed_attempt_only_when_kyra_would_have_acted() -> None:
    acted = decide(diagnosis(), NO_REMEDY, gate.ALLOW, SETTINGS, "es")
    assert isinstance(acted, Attention)
    assert acted.reason.startswith("ningún cambio automático seguro")
    assert acted.record_failed == NO_REMEDY.reason()
    proposed = decide(diagnosis(Safety.YELLOW), NO_REMEDY, gate.ALLOW, SETTINGS)
    assert isinstance(proposed, Attention) and proposed.record_failed is None
    blocked = decide(diagnosis(), NO_REMEDY, BLOCK, SETTINGS)
    assert isinstance(blocked, Attention) and blocked.record_failed is None


def test_a_rerun_too_far_away_is_not_a_heal() -> None:
    late = RemedyPlan(PLAN.error_class, ConfigPatch(), 601.0, "date", PLAN.values)
    got = decide(diagnosis(), late, gate.ALLOW, SETTINGS, "en")
    assert got == Attention("normalise call.due to %Y-%m-%d")


# -- gate limits ------------------------------------------------------------------------


def facts(automatic: bool = True, **values: object) -> gate.GateFacts:
    request = gate.GateRequest(
        tenant_id="t",
        tier=str(values.pop("tier", "pro")),
        workflow_id="w",
        error_class="DATE",
        safety=str(values.pop("safety", "GREEN")),
        confidence=int(values.pop("confidence", 95)),  # type: ignore[call-overload]
        automatic=automatic,
    )
    settings = values.pop("settings", SETTINGS)
    return gate.GateFacts(request, settings, **values)  # type: ignore[arg-type]


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def test_nothing_recorded_is_allowed() -> None:
    assert gate.decide(facts(), NOW) == gate.ALLOW


@pytest.mark.parametrize(
    ("given", "limit"),
    [
        (facts(settings=HealingSettings(enabled=False)), "disabled"),
        (facts(switch=gate.Switch(True, "incident")), "kill_switch"),
        (facts(tier="free", safety="YELLOW"), "tier"),
        (facts(month_fixes=50), "monthly_quota"),
        (facts(month_cost=2.5), "cost_ceiling"),
        (facts(confidence=10), "confidence"),
        (facts(tenant_attempts=tuple(ago(seconds=i) for i in range(30))), "tenant_circuit_breaker"),
        (facts(workflow_attempts=(ago(minutes=1), ago(minutes=2), ago(minutes=3))), "per_hour"),
        (facts(workflow_attempts=tuple(ago(hours=2 + i) for i in range(10))), "per_day"),
        (facts(same_class_attempts=(ago(hours=5), ago(hours=4), ago(hours=3))), "per_error_type"),
        (facts(same_class_attempts=(ago(minutes=10),)), "cooldown"),
    ],
)
def test_each_limit_names_itself(given: gate.GateFacts, limit: str) -> None:
    decision = gate.decide(given, NOW)
    assert not decision.allowed and decision.limit == limit and decision.reason


def test_a_person_passes_the_kill_switch_and_the_anti_loop_limits() -> None:
    busy = facts(
        automatic=False,
        safety="YELLOW",
        switch=gate.Switch(False),
        confidence=10,
        same_class_attempts=(ago(minutes=1),),
    )
    assert gate.decide(busy, NOW) == gate.ALLOW
    assert gate.decide(facts(automatic=False, safety="YELLOW", month_fixes=50), NOW).limit == (
        "monthly_quota"
    )


def test_the_cooldown_ends_and_old_attempts_age_out() -> None:
    assert gate.decide(facts(same_class_attempts=(ago(seconds=1801),)), NOW) == gate.ALLOW
    assert gate.decide(facts(workflow_attempts=(ago(hours=25),) * 20), NOW) == gate.ALLOW


def test_limits_compose() -> None:
    only_quota = (gate.monthly_quota,)
    assert gate.decide(facts(confidence=1), NOW, only_quota) == gate.ALLOW
    assert gate.decide(facts(month_fixes=99), NOW, only_quota).limit == "monthly_quota"
