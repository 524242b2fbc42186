"""The safety side's last word (#11): out-of-service errors are never GREEN, relative
dates and date ranges are not fixed automatically, the safety head raises unsure YELLOW
guesses to RED, and an SDK's `...Exception` name also reads as the bare code."""

from __future__ import annotations

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.envelopes import code_forms
from kyra.healing.diagnosis.model import LocalModel, ModelAnswer
from kyra.healing.diagnosis.observe import observe
from kyra.healing.diagnosis.safety import demoted_green, out_of_service, raised_yellow
from kyra.healing.taxonomy import ErrorClass, Safety

YELLOW = ErrorClass.INVALID_PARAMETER_FORMAT
BILLING = ErrorClass.BILLING_ISSUE


def head(red_probability: float) -> ModelAnswer:
    return ModelAnswer(YELLOW, 0.6, red_probability=red_probability, red_class=BILLING)


def test_a_paused_deployment_under_a_503_is_red_not_a_transient_outage() -> None:
    paused = ErrorContext(
        status_code=503,
        headers={"x-vercel-error": "DEPLOYMENT_PAUSED"},
        body="An error occurred with your deployment\n\nDEPLOYMENT_PAUSED\n",
        provider="some_new_host",
    )
    result = Diagnoser().diagnose(paused)
    assert result.safety is Safety.RED, result.evidence
    assert not result.auto_reparable
    # a plain 503 stays the transient outage it is
    plain = Diagnoser().diagnose(ErrorContext(status_code=503, body="Service Unavailable"))
    assert plain.safety is Safety.GREEN


def test_words_that_call_the_state_temporary_keep_their_transient_reading() -> None:
    maintenance = ErrorContext(
        status_code=503, body='{"message": "This API is currently disabled for maintenance."}'
    )
    assert not out_of_service(observe(maintenance))
    suspended = ErrorContext(status_code=503, body='{"message": "Project suspended by owner"}')
    assert out_of_service(observe(suspended))
    assert demoted_green(ErrorClass.RATE_LIMIT_EXCEEDED, observe(suspended), None) is (
        ErrorClass.ACCOUNT_SUSPENDED
    )
    # words never touch a date fix (the date rules decide those) nor a non-GREEN answer
    assert demoted_green(ErrorClass.INVALID_DATE_FORMAT, observe(suspended), None) is None
    assert demoted_green(YELLOW, observe(suspended), None) is None


def test_a_relative_date_is_not_fixed_automatically() -> None:
    relative = ErrorContext(
        status_code=422,
        body='{"error": {"message": "Field \\"Due\\" cannot accept the provided value: '
        '\\"next friday\\" is not a valid date"}}',
    )
    result = Diagnoser().diagnose(relative)
    assert result.safety is not Safety.GREEN and not result.auto_reparable
    if result.error_class is ErrorClass.INVALID_DATE_FORMAT:
        assert result.facts.relative_date
        assert "relative date" in result.explanation
    # an absolute date in the same envelope is the GREEN date fix it always was
    absolute = ErrorContext(
        status_code=422,
        body='{"error": {"message": "cannot parse date \\"2026-11-26 10:00\\" for field Due"}}',
    )
    fixed = Diagnoser().diagnose(absolute)
    assert fixed.error_class is ErrorClass.INVALID_DATE_FORMAT
    assert fixed.safety is Safety.GREEN and fixed.facts.relative_date is None
    # a relative value the service offers as an example is not the rejected one
    offered = ErrorContext(
        status_code=422,
        body='{"message": "Invalid `send_at`. Use ISO 8601 or an expression like \'in 1 hour\'."}',
    )
    assert not Diagnoser().diagnose(offered).facts.relative_date


def test_a_date_refused_for_its_range_is_not_a_format_to_fix() -> None:
    body = '{"detail": "Invalid date range. Please try a more recent date range."}'
    ranged = ErrorContext(status_code=400, body=body)
    assert Diagnoser().diagnose(ranged).safety is not Safety.GREEN


def test_the_safety_head_raises_only_soft_unsure_yellow_answers() -> None:
    status = ["status=400"]
    assert raised_yellow(YELLOW, 55, "http.400", status, head(0.45)) is BILLING
    assert raised_yellow(YELLOW, 64, None, [], head(0.31)) is BILLING  # the model's own guess
    assert raised_yellow(YELLOW, 55, "http.400", status, head(0.2)) is None  # head not worried
    assert raised_yellow(YELLOW, 95, "http.400", status, head(0.9)) is None  # a sure answer
    # a code the step's provider documents, or a raised type, is knowledge, not a guess
    assert raised_yellow(YELLOW, 60, "code.provider.x", ["code=x"], head(0.9)) is None
    assert raised_yellow(YELLOW, 60, "type.parameter", ["type=valueerror"], head(0.9)) is None
    # only YELLOW answers: GREEN is structure's call, RED is already RED
    assert raised_yellow(ErrorClass.TIMEOUT_ERROR, 50, None, [], head(0.9)) is None
    assert raised_yellow(BILLING, 50, None, [], head(0.9)) is None
    assert raised_yellow(YELLOW, 50, None, [], ModelAnswer(YELLOW, 0.5)) is None  # no head


def test_the_trained_model_carries_a_calibrated_safety_head() -> None:
    examples = [
        {"label": "billing_issue", "status_code": 402, "body": f"payment required, plan {i}"}
        for i in range(6)
    ] + [
        {"label": "invalid_parameter_format", "status_code": 400, "body": f"bad param p{i}"}
        for i in range(6)
    ]
    model = LocalModel.train(examples)
    billing = model.predict(observe(ErrorContext(status_code=402, body="payment required")))
    param = model.predict(observe(ErrorContext(status_code=400, body="bad param q")))
    assert billing.red_probability is not None and param.red_probability is not None
    assert 0.0 <= param.red_probability < billing.red_probability <= 1.0
    assert billing.red_class is ErrorClass.BILLING_ISSUE
    # the head survives the artifact's JSON round trip
    again = LocalModel(model.params).predict(observe(ErrorContext(status_code=402, body="x")))
    assert again.red_probability is not None


def test_an_sdk_exception_name_also_reads_as_the_bare_code() -> None:
    assert code_forms("limitexceededexception") == ["limitexceededexception", "limitexceeded"]
    assert "throttling" in code_forms("com.amazonaws.x#throttlingexception")
    assert code_forms("exception") == ["exception"]
