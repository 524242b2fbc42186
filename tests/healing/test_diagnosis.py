"""Behaviour of the engine: traps, safety guarantees, facts, held-out and unseen metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser, Tier
from kyra.healing.diagnosis.corpus import load_corpus, split_corpus
from kyra.healing.diagnosis.evaluate import evaluate, percentile
from kyra.healing.diagnosis.model import decide
from kyra.healing.diagnosis.observe import observe
from kyra.healing.diagnosis.signatures import load_signatures
from kyra.healing.diagnosis.texts import CLASS_TEXT, FACT_TEXT, TIER_TEXT
from kyra.healing.diagnosis.types import Facts
from kyra.healing.taxonomy import ErrorClass, FixStep, Safety
from kyra.i18n import missing_translations
from tests.healing.unseen_cases import UNSEEN


def ctx(**fields: Any) -> ErrorContext:
    if isinstance(fields.get("body"), dict | list):
        fields["body"] = json.dumps(fields["body"])
    return ErrorContext(**fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "status_code": 403,
                "body": {
                    "error": {
                        "code": 403,
                        "message": "Rate Limit Exceeded",
                        "errors": [{"reason": "rateLimitExceeded"}],
                    }
                },
            },
            "rate_limit_exceeded",
        ),
        (
            {
                "status_code": 403,
                "body": {
                    "error": {
                        "code": 403,
                        "message": "Forbidden",
                        "errors": [{"reason": "insufficientPermissions"}],
                    }
                },
            },
            "insufficient_permissions",
        ),
        (
            {
                "status_code": 403,
                "headers": {"Retry-After": "60"},
                "body": {"message": "You have exceeded a secondary rate limit."},
            },
            "rate_limit_exceeded",
        ),
        (
            {
                "status_code": 429,
                "body": {
                    "error": {
                        "type": "insufficient_quota",
                        "code": "insufficient_quota",
                        "message": "You exceeded your current quota",
                    }
                },
            },
            "billing_issue",
        ),
        ({"status_code": 402, "body": "Payment Required"}, "billing_issue"),
        ({"status_code": 423, "body": "Locked"}, "account_suspended"),
        ({"status_code": 410, "body": "Gone"}, "api_deprecated"),
        (
            {"status_code": 200, "body": {"ok": False, "error": "ratelimited"}},
            "rate_limit_exceeded",
        ),
        (
            {"status_code": 200, "body": {"ok": False, "error": "invalid_auth"}},
            "invalid_credentials",
        ),
        (
            {
                "error_type": "ConnectError",
                "error_message": "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            },
            "security_violation",
        ),
        ({"status_code": 401, "body": "rate limit exceeded, retry after 1"}, "invalid_credentials"),
    ],
)
def test_traps(diagnoser: Diagnoser, fields: dict[str, Any], expected: str) -> None:
    assert diagnoser.diagnose(ctx(**fields)).error_class.value == expected


def test_green_answer_carries_typed_facts(diagnoser: Diagnoser) -> None:
    result = diagnoser.diagnose(
        ctx(
            provider="telegram",
            status_code=429,
            body={
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            },
        )
    )
    assert result.safety is Safety.GREEN and result.auto_reparable
    assert result.facts.retry_after_seconds == 5
    assert result.fix_steps[0] is FixStep.HONOUR_RETRY_AFTER
    assert result.tier is Tier.RULES and result.estimated_cost == 0.0


def test_attacker_text_cannot_widen_facts(diagnoser: Diagnoser) -> None:
    result = diagnoser.diagnose(
        ctx(
            error_type="ValidationError",
            error_message="'email; DROP TABLE x' is a required property",
        )
    )
    assert result.error_class is ErrorClass.MISSING_REQUIRED_FIELD
    assert result.facts.field is None
    assert result.fix_steps == [FixStep.REVIEW_INPUT_DATA]
    dated = diagnoser.diagnose(
        ctx(
            error_type="ValueError",
            error_message="time data 'x' does not match format '%Y-%m-%d{{config.url}}'",
        )
    )
    assert dated.error_class is ErrorClass.INVALID_DATE_FORMAT
    assert dated.facts.expected_format is None


def test_facts_validation() -> None:
    facts = Facts.safe(
        field="items[0].sku",
        expected_format="%d/%m/%Y",
        retry_after_seconds=1e9,
        api_version="2024-06-20",
    )
    assert facts.field == "items[0].sku" and facts.expected_format == "%d/%m/%Y"
    assert facts.retry_after_seconds is None and facts.api_version == "2024-06-20"
    assert Facts.safe(expected_format="%Y %s rm -rf").expected_format is None


def test_uncorroborated_prose_is_never_auto_fixed(diagnoser: Diagnoser) -> None:
    result = diagnoser.diagnose(ctx(error_message="rate limit exceeded, please slow down"))
    assert not result.auto_reparable


@pytest.mark.parametrize(
    "fields",
    [
        # the issue's case: an upstream 400 quoting a config hint is not a timeout
        {"status_code": 400, "body": {"error": {"message": "Set timeout to 999999"}}},
        # GitHub's words without its Retry-After: the 403 stands
        {"status_code": 403, "body": {"message": "You have exceeded a secondary rate limit."}},
        # prose alone, no status, type, header or code
        {"error_message": "Service temporarily unavailable, connection timed out"},
        # a billing denial in the body under a transient status
        {
            "status_code": 503,
            "body": {"error": {"message": "Payment required: billing is disabled"}},
        },
        {"status_code": 200, "body": {"ok": False, "error": "paid_only"}},
    ],
)
def test_words_alone_never_give_green(diagnoser: Diagnoser, fields: dict[str, Any]) -> None:
    result = diagnoser.diagnose(ctx(**fields))
    assert result.safety is not Safety.GREEN and not result.auto_reparable, result.evidence


def test_red_body_evidence_overrides_a_transient_status(diagnoser: Diagnoser) -> None:
    body = {"error": {"code": "insufficient_quota", "message": "Service Unavailable"}}
    assert diagnoser.diagnose(ctx(status_code=503, body=body)).error_class.value == "billing_issue"
    # a transient code outscores the billing words, and still the body's RED evidence wins
    body = {"error": {"code": "service_unavailable", "message": "Billing is disabled"}}
    result = diagnoser.diagnose(ctx(status_code=503, body=body))
    assert result.error_class is ErrorClass.BILLING_ISSUE
    assert any("body shows billing_issue" in note for note in result.evidence.notes)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status_code": 504, "body": "<html>Gateway Timeout</html>"}, "timeout_error"),
        ({"error_type": "httpx.ReadTimeout", "error_message": "timed out"}, "timeout_error"),
        (
            {"status_code": 400, "headers": {"Retry-After": "5"}, "body": "slow down"},
            "rate_limit_exceeded",
        ),
        (
            {"error_type": "OSError", "error_message": "[Errno 101] Network is unreachable"},
            "connection_timeout",
        ),
    ],
)
def test_structure_gives_green(diagnoser: Diagnoser, fields: dict[str, Any], expected: str) -> None:
    result = diagnoser.diagnose(ctx(**fields))
    assert result.error_class.value == expected and result.safety is Safety.GREEN


def test_model_says_unknown_when_unsure(diagnoser: Diagnoser) -> None:
    obs = observe(ctx(error_message="zqx vrb plk"))
    answer = diagnoser.model.predict(obs)
    if answer.probability < 0.55:
        assert decide(answer, obs) is ErrorClass.UNKNOWN
    result = diagnoser.diagnose(ctx(error_message="zqx vrb plk"))
    assert result.safety is Safety.RED and not result.auto_reparable


def test_model_never_green_on_a_contradicting_status(diagnoser: Diagnoser) -> None:
    obs = observe(ctx(status_code=400, error_message="timed out waiting"))
    answer = diagnoser.model.predict(obs)
    answer.error_class, answer.probability = ErrorClass.TIMEOUT_ERROR, 0.99
    assert decide(answer, obs) is ErrorClass.UNKNOWN


def test_held_out_metrics(diagnoser: Diagnoser) -> None:
    _, held_out = split_corpus(load_corpus())
    assert len(held_out) >= 90
    report = evaluate(held_out, diagnoser)
    assert report.dangerous_errors == 0
    assert report.accuracy >= 0.95
    assert report.total_cost == 0
    # Latency is measured by bench/diagnosis.py, not asserted here (timed tests are flaky).
    assert report.latency_ms["all"]["p95"] > 0


def test_unseen_generalisation(diagnoser: Diagnoser) -> None:
    report = evaluate(UNSEEN, diagnoser)
    assert report.dangerous_errors == 0
    assert report.accuracy >= 0.9, [m.model_dump() for m in report.mistakes]


def test_whole_corpus_has_no_dangerous_error(diagnoser: Diagnoser) -> None:
    corpus = load_corpus()
    assert len(corpus) >= 400 and all(e.get("source") for e in corpus)
    assert evaluate(corpus, diagnoser).dangerous_errors == 0


def test_signatures_and_catalogs_are_well_formed() -> None:
    assert len(load_signatures()) > 50
    with pytest.raises(ValueError, match="unknown keys"):
        load_signatures("- {id: x, class: unknown, confidence: 1, colour: red}")
    for catalog in (CLASS_TEXT, FACT_TEXT, TIER_TEXT):
        assert missing_translations(catalog) == []
    assert set(CLASS_TEXT) == {c.value for c in ErrorClass}


def test_spanish_explanation(diagnoser: Diagnoser) -> None:
    result = diagnoser.diagnose(ctx(status_code=401), lang="es")
    assert "credenciales" in result.explanation


def test_percentile() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0


def test_ambiguous_date_is_yellow_with_both_readings(diagnoser: Diagnoser) -> None:
    message = "time data '03/12/2026' does not match format '%Y-%m-%d'"
    result = diagnoser.diagnose(ctx(error_type="ValueError", error_message=message))
    assert result.error_class is ErrorClass.INVALID_DATE_FORMAT
    assert result.safety is Safety.YELLOW and not result.auto_reparable
    assert result.facts.date_candidates == ["2026-12-03", "2026-03-12"]
    clear = diagnoser.diagnose(
        ctx(error_type="ValueError", error_message=message.replace("03/12", "26/11"))
    )
    assert clear.safety is Safety.GREEN and clear.facts.date_candidates is None
