"""Custom rules match on structured fields and patterns, pick a class, and can only make
Kyra more careful."""

from __future__ import annotations

from typing import Any

import pytest

from kyra.healing import rules as rules_module
from kyra.healing.rules import disposition, match_rule
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass, Safety
from tests.rules.conftest import diagnose, error, rules_of

RULES = rules_of(
    """
    rules:
      - name: acme-slow-down
        match:
          provider: acme
          status: [400, 429]
          error_code: ACME_PACE
        remedy: {class: rate_limit_exceeded, max_request_delay: 10}
      - name: gateway
        match: {status: 5xx, message: 'upstream (connect|reset)'}
        remedy: {class: service_temporarily_unavailable}
      - name: sheets-timeouts
        match: {provider: gmail, error_type: ReadTimeout, step: [fetch, call]}
        remedy: {class: timeout_error, max_timeout: 40}
      - name: nightly-only
        match: {workflow: nightly, status: 503}
        remedy: {class: service_temporarily_unavailable}
        safety: never
    """
)
SETTINGS = HealingSettings()


@pytest.mark.parametrize(
    ("fields", "rule", "matched"),
    [
        (
            {
                "provider": "ACME",
                "status_code": 400,
                "body": '{"error": {"code": "ACME_PACE", "message": "easy"}}',
            },
            "acme-slow-down",
            ["provider=acme", "status=400", "error_code=acme_pace"],
        ),
        (
            {"status_code": 502, "error_message": "Upstream CONNECT error"},
            "gateway",
            ["status=5xx", "message~pattern"],
        ),
        (
            {"status_code": 503, "body": "<html>upstream reset</html>"},
            "gateway",
            ["status=5xx", "message~pattern"],
        ),
        (
            {
                "provider": "google_sheets",
                "error_type": "httpx.ReadTimeout",
                "error_message": "timed out",
                "step_name": "fetch",
            },
            "sheets-timeouts",
            ["provider=google", "error_type=readtimeout", "step=fetch"],
        ),
        (
            {"status_code": 503, "workflow_name": "nightly", "error_message": "down"},
            "nightly-only",
            ["status=503", "workflow=nightly"],
        ),
    ],
)
def test_rules_match_on_fields_and_patterns(
    fields: dict[str, Any], rule: str, matched: list[str]
) -> None:
    ctx = error(**fields)
    found = match_rule(RULES.rules, ctx, diagnose(ctx))
    assert found is not None
    assert (found.rule.name, list(found.matched)) == (rule, matched)


@pytest.mark.parametrize(
    "fields",
    [
        {"provider": "acme", "status_code": 400, "body": '{"code": "OTHER"}'},  # other code
        {"provider": "beta", "status_code": 429, "body": '{"code": "ACME_PACE"}'},  # provider
        {"status_code": 502, "error_message": "bad gateway"},  # pattern does not match
        {"status_code": 404, "error_message": "upstream connect error"},  # not 5xx
        {"provider": "gmail", "error_type": "ReadTimeout", "step_name": "send"},  # step
        {"status_code": 503, "workflow_name": "daily", "error_message": "down"},  # workflow
    ],
)
def test_every_condition_must_hold(fields: dict[str, Any]) -> None:
    ctx = error(**fields)
    assert RULES.decide(ctx, diagnose(ctx), SETTINGS) is None


def test_the_provider_code_of_the_diagnosis_is_an_error_code_too() -> None:
    rules = rules_of(
        """
        rules:
          - name: by-code
            match: {error_code: ratelimitexceeded}
            remedy: {class: rate_limit_exceeded}
        """
    )
    ctx = error(provider="google", status_code=403, error_message="Rate Limit Exceeded")
    diagnosis = diagnose(ctx)
    diagnosis = diagnosis.model_copy(
        update={"facts": diagnosis.facts.model_copy(update={"provider_code": "rateLimitExceeded"})}
    )
    assert match_rule(rules.rules, ctx, diagnosis) is not None


def test_priority_first_then_document_order() -> None:
    rules = rules_of(
        """
        rules:
          - {name: first, match: {status: 503}, remedy: {class: connection_timeout}}
          - {name: second, match: {status: 5xx}, remedy: {class: timeout_error}}
          - name: urgent
            priority: 5
            match: {status: 5xx}
            remedy: {class: service_temporarily_unavailable}
          - name: low
            priority: -1
            match: {status: 500}
            remedy: {class: timeout_error}
        """
    )
    names = []
    for status in (503, 500):
        ctx = error(status_code=status, error_message="x")
        found = match_rule(rules.rules, ctx, diagnose(ctx))
        names.append(found.rule.name if found else None)
    assert names == ["urgent", "urgent"]
    without_urgent = tuple(r for r in rules.rules if r.name != "urgent")
    ctx = error(status_code=500, error_message="x")
    found = match_rule(without_urgent, ctx, diagnose(ctx))
    assert found is not None and found.rule.name == "second"


def test_a_green_diagnosis_and_a_green_class_stay_automatic() -> None:
    ctx = error(status_code=502, error_message="upstream connect error")
    diagnosis = diagnose(ctx)
    decision = RULES.decide(ctx, diagnosis, SETTINGS)
    assert decision is not None and decision.rule_name == "gateway"
    final = decision.diagnosis
    assert final.error_class is ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE
    assert (final.safety, final.auto_reparable) == (Safety.GREEN, True)
    assert disposition(final, SETTINGS) == disposition(diagnosis, SETTINGS)
    assert "Custom rule 'gateway' applies" in final.explanation
    assert "custom rule 'gateway'" in final.evidence.notes


def test_a_rule_never_makes_a_yellow_or_red_diagnosis_automatic() -> None:
    # ACME's 400 looks like a bad parameter (YELLOW) to Kyra: the rule may re-classify it
    # as a rate limit, but only as a proposal a person approves.
    ctx = error(provider="acme", status_code=400, body='{"error": {"code": "ACME_PACE"}}')
    diagnosis = diagnose(ctx)
    assert diagnosis.safety is not Safety.GREEN
    decision = RULES.decide(ctx, diagnosis, SETTINGS)
    assert decision is not None
    assert decision.error_class is ErrorClass.RATE_LIMIT_EXCEEDED
    assert decision.diagnosis.safety is Safety.YELLOW
    assert disposition(decision.diagnosis, SETTINGS) == "propose"
    red = diagnosis.model_copy(update={"safety": Safety.RED, "auto_reparable": False})
    decision = RULES.decide(ctx, red, SETTINGS)
    assert decision is not None and decision.diagnosis.safety is Safety.YELLOW


@pytest.mark.parametrize(
    ("safety", "expected", "action"),
    [
        ("auto", Safety.GREEN, "auto"),
        ("propose", Safety.YELLOW, "propose"),
        ("never", Safety.RED, "never"),
    ],
)
def test_rule_safety_only_adds_care(safety: str, expected: Safety, action: str) -> None:
    rules = rules_of(
        f"""
        rules:
          - name: r
            match: {{status: 429}}
            remedy: {{class: rate_limit_exceeded}}
            safety: {safety}
        """
    )
    ctx = error(status_code=429, error_message="Too Many Requests", headers={"Retry-After": "2"})
    decision = rules.decide(ctx, diagnose(ctx), SETTINGS)
    assert decision is not None
    assert decision.diagnosis.safety is expected
    assert disposition(decision.diagnosis, SETTINGS) == action
    assert decision.safety_override == (None if safety == "auto" else safety)


def test_a_yellow_remedy_is_proposed() -> None:
    rules = rules_of(
        """
        rules:
          - name: crm-missing
            match: {status: 400, message: 'required'}
            remedy: {class: missing_required_field}
            safety: propose
        """
    )
    ctx = error(status_code=400, body='{"error": "field email is required"}')
    decision = rules.decide(ctx, diagnose(ctx), SETTINGS)
    assert decision is not None
    assert (decision.error_class, decision.diagnosis.safety) == (
        ErrorClass.MISSING_REQUIRED_FIELD,
        Safety.YELLOW,
    )


def test_a_new_class_brings_the_facts_its_remedy_needs() -> None:
    ctx = error(
        provider="acme",
        status_code=400,
        headers={"Retry-After": "7"},
        body='{"error": {"code": "ACME_PACE"}}',
    )
    diagnosis = diagnose(ctx)
    assert diagnosis.facts.retry_after_seconds is None
    decision = RULES.decide(ctx, diagnosis, SETTINGS)
    assert decision is not None and decision.diagnosis.facts.retry_after_seconds == 7.0
    assert decision.diagnosis.fix_steps[0].value == "honour_retry_after"


def test_the_public_api_is_pinned() -> None:
    assert sorted(rules_module.__all__) == [
        "Bounds",
        "EMPTY_RULES",
        "RuleDecision",
        "RuleMatch",
        "RuleSet",
        "apply_rule",
        "disposition",
        "global_bounds",
        "match_rule",
        "rules_for_tenant",
    ]
    ctx = error(status_code=502, error_message="upstream connect error")
    decision = RULES.decide(ctx, diagnose(ctx), SETTINGS)
    assert decision is not None
    assert decision.summary() == "custom rule 'gateway': service_temporarily_unavailable (GREEN)"
