"""Generic vocabularies: raised exception type names and the words of provider codes."""

from __future__ import annotations

from pathlib import Path

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.arbiter import overrules, red_lean
from kyra.healing.diagnosis.build import code_tables
from kyra.healing.diagnosis.code_tokens import learn_tokens, token_class
from kyra.healing.diagnosis.kb import load_kb
from kyra.healing.diagnosis.model import ModelAnswer, decide
from kyra.healing.diagnosis.observe import observe
from kyra.healing.taxonomy import ErrorClass, Safety

PROVIDER = """\
provider: {name}
name: {name}
sector: crm
codes:
  ACCOUNT_SUSPENDED: account_suspended
  {name}_quota_spent: billing_issue
  rate_limited: rate_limit_exceeded
examples:
  - label: account_suspended
    status_code: 403
    body: '{{"error": {{"code": "ACCOUNT_SUSPENDED"}}}}'
"""


def test_a_raised_transient_type_is_structure_even_when_no_rule_lists_it() -> None:
    diagnoser = Diagnoser()
    cases = {
        "pymongo.errors.NetworkTimeout": ErrorClass.TIMEOUT_ERROR,
        "telegram.error.TimedOut": ErrorClass.TIMEOUT_ERROR,
        "redis.exceptions.TryAgainError": ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE,
        "acme.SomeConnectTimeoutError": ErrorClass.CONNECTION_TIMEOUT,
    }
    for error_type, expected in cases.items():
        result = diagnoser.diagnose(ErrorContext(error_type=error_type, error_message="oops"))
        assert result.error_class is expected, (error_type, result.evidence)
        assert result.safety is Safety.GREEN


def test_the_same_names_inside_remote_text_or_beside_security_are_not_transient() -> None:
    diagnoser = Diagnoser()
    # named inside a body the remote wrote: words, not structure
    prose = ErrorContext(status_code=400, body='{"message": "NetworkTimeout, try again"}')
    assert diagnoser.diagnose(prose).safety is not Safety.GREEN
    insecure = ErrorContext(
        error_type="oauthlib.oauth2.rfc6749.errors.InsecureTransportError",
        error_message="(insecure_transport) OAuth 2 MUST utilize https.",
    )
    assert diagnoser.diagnose(insecure).safety is not Safety.GREEN


def test_code_words_learned_across_providers_name_an_unknown_code(tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma"):
        (tmp_path / f"{name}.yaml").write_text(PROVIDER.format(name=name), encoding="utf-8")
    tables = code_tables(load_kb(tmp_path))
    assert tables.tokens["suspended"] is ErrorClass.ACCOUNT_SUSPENDED
    # transient words never become tokens: GREEN needs a code whose meaning is known
    assert "limited" not in tables.tokens
    diagnoser = Diagnoser(codes=tables)
    body = '{"error": {"code": "USER_SUSPENDED_BY_ADMIN"}}'
    result = diagnoser.diagnose(ErrorContext(provider="delta", status_code=400, body=body))
    assert result.error_class is ErrorClass.ACCOUNT_SUSPENDED
    assert result.evidence.signature == "code.token.user_suspended_by_admin"


def test_a_token_seen_at_too_few_providers_or_with_mixed_meanings_is_dropped() -> None:
    tables = {
        "a": {
            "card_expired": ErrorClass.BILLING_ISSUE,
            "token_expired": ErrorClass.INVALID_CREDENTIALS,
        },
        "b": {"session_expired": ErrorClass.INVALID_CREDENTIALS},
        "c": {
            "plan_expired": ErrorClass.BILLING_ISSUE,
            "fraud_hold": ErrorClass.SECURITY_VIOLATION,
        },
    }
    tokens = learn_tokens(tables)
    assert "expired" not in tokens  # 2 of 4 say billing: not one meaning
    assert "fraud" not in tokens  # one provider only
    assert (
        token_class("message could not be parsed", {"parsed": ErrorClass.INVALID_PARAMETER_FORMAT})
        is None
    )


UMBRELLA = """\
provider: {name}
name: {name}
sector: payments
codes:
  invalid_request_error: invalid_parameter_format
examples:
  - label: missing_required_field
    status_code: 400
    body: '{{"error": {{"code": "invalid_request_error", "message": "amount is required"}}}}'
  - label: api_version_mismatch
    status_code: 400
    body: '{{"error": {{"code": "invalid_request_error", "message": "bad version"}}}}'
  - label: invalid_parameter_format
    status_code: 400
    body: '{{"error": {{"code": "invalid_request_error", "message": "bad id"}}}}'
"""


def test_a_code_whose_examples_mean_many_classes_is_an_umbrella(tmp_path: Path) -> None:
    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.yaml").write_text(UMBRELLA.format(name=name), encoding="utf-8")
    tables = code_tables(load_kb(tmp_path))
    assert tables.shared["invalid_request_error"] is ErrorClass.INVALID_PARAMETER_FORMAT
    assert "invalid_request_error" in tables.umbrella  # 2 of 6 examples agree
    hit = tables.lookup(observe(ErrorContext(status_code=400, body=UMBRELLA_BODY)))[0]
    assert hit.umbrella
    diagnoser = Diagnoser(codes=tables, use_model=False)
    result = diagnoser.diagnose(ErrorContext(status_code=400, body=UMBRELLA_BODY))
    # still the table's class when nothing better is known, but below the rule trust
    assert result.error_class is ErrorClass.INVALID_PARAMETER_FORMAT and result.confidence < 70


UMBRELLA_BODY = '{"error": {"code": "invalid_request_error", "message": "nope"}}'


def answer(cls: ErrorClass, probability: float) -> ModelAnswer:
    return ModelAnswer(cls, probability)


def test_the_model_overrules_only_soft_non_green_rules_and_never_lowers_red() -> None:
    status = ["status=400"]
    yellow = ErrorClass.INVALID_PARAMETER_FORMAT
    missing = ErrorClass.MISSING_REQUIRED_FIELD
    assert overrules(yellow, "http.400", status, answer(missing, 0.7))
    assert not overrules(yellow, "http.400", status, answer(missing, 0.4))  # unsure
    # the step's own provider documents the code: the table decides
    assert not overrules(yellow, "code.provider.x", ["code=x"], answer(missing, 0.99))
    # ... and so does a code a hand-written signature lists; a shared code does not
    assert not overrules(yellow, "code.parameter", ["code=x"], answer(missing, 0.99))
    assert overrules(yellow, "code.shared.bad_request", ["code=bad_request"], answer(missing, 0.6))
    # a raised exception type is structure, not words
    assert not overrules(yellow, "type.parameter", ["type=badrequesterror"], answer(missing, 0.99))
    # RED stays RED: a person looks rather than a YELLOW guess
    perms = ErrorClass.INSUFFICIENT_PERMISSIONS
    assert not overrules(perms, "http.403", ["status=403"], answer(missing, 0.99))
    assert overrules(perms, "http.403", ["status=403"], answer(ErrorClass.ACCOUNT_SUSPENDED, 0.6))
    # GREEN is decided by structure only, never by this arbitration
    timeout = ErrorClass.TIMEOUT_ERROR
    assert not overrules(yellow, "http.400", status, answer(timeout, 0.99))
    assert not overrules(timeout, "text.timeout", ["text='x'"], answer(yellow, 0.99))


def test_a_weak_status_guess_the_model_doubts_leans_red() -> None:
    yellow = ErrorClass.INVALID_PARAMETER_FORMAT
    doubtful = {
        "invalid_parameter_format": 0.35,
        "insufficient_permissions": 0.2,
        "billing_issue": 0.15,
    }
    assert red_lean(yellow, "http.400", doubtful) is ErrorClass.INSUFFICIENT_PERMISSIONS
    sure = {"invalid_parameter_format": 0.5, "insufficient_permissions": 0.2}
    assert red_lean(yellow, "http.400", sure) is None
    # only a status-only guess: text or codes that said YELLOW are evidence
    assert red_lean(yellow, "text.parameter", doubtful) is None


def test_the_model_may_name_a_weak_red_class_but_not_a_weak_yellow_one() -> None:
    obs = observe(ErrorContext(status_code=400, body='{"message": "nope"}'))
    perms = ErrorClass.INSUFFICIENT_PERMISSIONS
    # RED changes nothing and sends the error to a person, as unknown would
    assert decide(answer(perms, 0.25), obs) is perms
    assert decide(answer(perms, 0.1), obs) is ErrorClass.UNKNOWN
    yellow = ErrorClass.MISSING_REQUIRED_FIELD
    assert decide(answer(yellow, 0.5), obs) is yellow
    assert decide(answer(yellow, 0.4), obs) is ErrorClass.UNKNOWN  # it would propose a fix
    # GREEN still needs structure: a 400 has none, however sure the model is
    assert decide(answer(ErrorClass.TIMEOUT_ERROR, 0.99), obs) is ErrorClass.UNKNOWN


def test_a_date_error_is_green_only_when_it_speaks_of_a_date() -> None:
    diagnoser = Diagnoser()
    amount = ErrorContext(
        status_code=400,
        body='{"message": "The value of a field does not conform to the expected format.", '
        '"details": [{"field": "/amount/value", "value": "12,50"}]}',
    )
    assert diagnoser.diagnose(amount).safety is not Safety.GREEN
    python = ErrorContext(error_type="ValueError", error_message="month must be in 1..12")
    assert diagnoser.diagnose(python).error_class is ErrorClass.INVALID_DATE_FORMAT


def test_a_monthly_allowance_is_red_even_when_the_text_mentions_rate_limits() -> None:
    body = (
        '{"message": "Your trial key is limited to 1000 API calls / month. Upgrade for '
        'higher rate limits."}'
    )
    result = Diagnoser().diagnose(ErrorContext(status_code=429, body=body))
    assert result.error_class is ErrorClass.BILLING_ISSUE and not result.auto_reparable
