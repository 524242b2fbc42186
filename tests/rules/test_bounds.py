"""A rule picks a remedy and can only tighten its bounds: the tightened settings go to the
real `plan_remedy`, and the planned patch is clamped again, so no path widens a bound."""

from __future__ import annotations

from typing import Any

import pytest

from kyra.engine.error_context import ErrorContext
from kyra.healing._rule_models import Rule, RulesDocument
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.patches import SetRequestDelay, SetRetry, SetTimeout
from kyra.healing.remedies import RemedyFailed, RemedyPlan, plan_remedy
from kyra.healing.rules import RuleDecision, RuleSet, global_bounds
from kyra.healing.settings import HealingSettings
from tests.rules.conftest import diagnose, error, no_history, record, rules_of

SETTINGS = HealingSettings()


def decide(yaml_rules: str, ctx: ErrorContext) -> tuple[RuleDecision, Diagnosis]:
    diagnosis = diagnose(ctx)
    decision = rules_of(yaml_rules).decide(ctx, diagnosis, SETTINGS)
    assert decision is not None
    return decision, diagnosis


def plan(decision: RuleDecision, ctx: ErrorContext, config: dict[str, Any] | None = None) -> Any:
    remedy = plan_remedy(decision.diagnosis, ctx, record(config), decision.settings, no_history)
    return decision.constrain(remedy)


RATE = error(status_code=429, error_message="Too Many Requests", headers={"Retry-After": "1"})


def test_rate_limit_delay_and_retries_are_capped_by_the_rule() -> None:
    decision, diagnosis = decide(
        """
        rules:
          - name: gentle
            match: {status: 429}
            remedy: {class: rate_limit_exceeded, max_request_delay: 4, max_retries: 2}
        """,
        RATE,
    )
    default = plan_remedy(diagnosis, RATE, record({"request_delay": 3}), SETTINGS, no_history)
    assert isinstance(default, RemedyPlan)
    assert default.patch.ops[0] == SetRequestDelay(seconds=6.0)
    remedy = plan(decision, RATE, {"request_delay": 3})
    assert isinstance(remedy, RemedyPlan)
    delay, retry = remedy.patch.ops
    assert delay == SetRequestDelay(seconds=4.0)
    assert isinstance(retry, SetRetry) and retry.max_retries == 2
    assert remedy.values["after"] == 4.0
    assert "request_delay 3 s → 4 s" in remedy.summary()


def test_a_delay_already_at_the_rule_bound_gets_no_fix() -> None:
    decision, _ = decide(
        """
        rules:
          - name: gentle
            match: {status: 429}
            remedy: {class: rate_limit_exceeded, max_request_delay: 4}
        """,
        RATE,
    )
    remedy = plan(decision, RATE, {"request_delay": 4})
    assert isinstance(remedy, RemedyFailed)
    assert remedy.reason().startswith("request_delay is already at its maximum (4 s)")


def test_timeout_is_raised_only_to_the_rule_bound() -> None:
    ctx = error(error_type="ReadTimeout", error_message="The read operation timed out")
    decision, _ = decide(
        """
        rules:
          - name: short
            match: {error_type: ReadTimeout}
            remedy: {class: timeout_error, max_timeout: 40, max_retries: 1, max_delay: 10}
        """,
        ctx,
    )
    remedy = plan(decision, ctx, {"timeout": 30})
    assert isinstance(remedy, RemedyPlan)
    timeout, retry = remedy.patch.ops
    assert timeout == SetTimeout(step="call", seconds=40.0)
    assert isinstance(retry, SetRetry)
    assert (retry.max_retries, retry.initial_delay, retry.max_delay) == (1, 2.0, 10.0)
    # What the user reads says what the patch does
    assert remedy.summary() == (
        "timeout 30 s → 40 s and retries with exponential backoff on step 'call' (at most 1)"
    )
    assert "(como máximo 1)" in remedy.summary("es")


def test_unavailable_retry_plan_follows_the_rule() -> None:
    ctx = error(status_code=503, error_message="Service Unavailable")
    decision, _ = decide(
        """
        rules:
          - name: quick
            match: {status: 503}
            remedy: {class: service_temporarily_unavailable, max_retries: 1, max_delay: 20}
        """,
        ctx,
    )
    assert decision.settings.unavailable_max_retries == 1
    remedy = plan(decision, ctx)
    assert isinstance(remedy, RemedyPlan)
    [retry] = remedy.patch.ops
    assert isinstance(retry, SetRetry)
    assert (retry.max_retries, retry.initial_delay, retry.max_delay) == (1, 20.0, 20.0)
    assert remedy.values["retries"] == 1


def test_a_rule_without_bounds_changes_nothing_but_the_class() -> None:
    ctx = error(status_code=503, error_message="Service Unavailable")
    decision, diagnosis = decide(
        """
        rules:
          - {name: plain, match: {status: 503}, remedy: {class: service_temporarily_unavailable}}
        """,
        ctx,
    )
    assert decision.bounds == global_bounds(SETTINGS)
    default = plan_remedy(diagnosis, ctx, record(), SETTINGS, no_history)
    assert plan(decision, ctx) == default


def test_bounds_cannot_be_widened_even_by_a_document_that_skipped_validation() -> None:
    # model_construct skips every validator: the decision still takes the smaller bound.
    valid = rules_of(
        """
        rules:
          - name: wide
            match: {status: 429}
            remedy: {class: rate_limit_exceeded, max_request_delay: 1}
        """
    ).rules[0]
    forged_remedy = valid.remedy.model_copy(
        update={"max_request_delay": 10_000.0, "max_retries": 50, "max_delay": 9_999.0}
    )
    forged = RuleSet((valid.model_copy(update={"remedy": forged_remedy}),))
    settings = HealingSettings(max_request_delay_seconds=20)
    decision = forged.decide(RATE, diagnose(RATE), settings)
    assert decision is not None
    assert decision.bounds.max_request_delay == 20
    assert decision.bounds.max_retries == 5 and decision.bounds.max_delay == 300
    assert decision.settings.max_request_delay_seconds == 20
    remedy = plan(decision, RATE, {"request_delay": 15})
    assert isinstance(remedy, RemedyPlan)
    assert remedy.patch.ops[0] == SetRequestDelay(seconds=20.0)


def test_lowering_a_global_bound_binds_rules_stored_earlier() -> None:
    stored = RulesDocument.model_validate(
        {
            "rules": [
                {
                    "name": "old",
                    "match": {"status": 429},
                    "remedy": {"class": "rate_limit_exceeded", "max_request_delay": 50},
                }
            ]
        }
    )
    decision = RuleSet(tuple(stored.rules)).decide(
        RATE, diagnose(RATE), HealingSettings(max_request_delay_seconds=8)
    )
    assert decision is not None and decision.bounds.max_request_delay == 8


@pytest.mark.parametrize(
    ("error_class", "fields"),
    [
        ("rate_limit_exceeded", {"status_code": 429, "error_message": "Too Many Requests"}),
        ("timeout_error", {"error_type": "ReadTimeout", "error_message": "timed out"}),
        ("connection_timeout", {"error_type": "ConnectTimeout", "error_message": "refused"}),
        ("service_temporarily_unavailable", {"status_code": 503, "error_message": "down"}),
    ],
)
def test_every_op_stays_within_the_rule_and_the_global_bounds(
    error_class: str, fields: dict[str, Any]
) -> None:
    ctx = error(**fields)
    rule = Rule.model_validate(
        {
            "name": "tight",
            "match": {"step": "call"},
            "remedy": {
                "class": error_class,
                "max_retries": 1,
                "initial_delay": 0.5,
                "max_delay": 3,
                **({"max_request_delay": 2} if error_class == "rate_limit_exceeded" else {}),
                **({"max_timeout": 35} if error_class == "timeout_error" else {}),
            },
        }
    )
    decision = RuleSet((rule,)).decide(ctx, diagnose(ctx), SETTINGS)
    assert decision is not None
    for config in ({}, {"request_delay": 1.5, "timeout": 33, "retry": {"max_retries": 0}}):
        remedy = plan(decision, ctx, config)
        assert isinstance(remedy, RemedyPlan), remedy
        for op in remedy.patch.ops:
            if isinstance(op, SetRequestDelay):
                assert op.seconds <= 2
            if isinstance(op, SetTimeout):
                assert op.seconds <= 35
            if isinstance(op, SetRetry):
                assert op.max_retries <= 1 and op.initial_delay <= 0.5 and op.max_delay <= 3
